import { describe, expect, it } from 'vitest';
import { activeRange, defaultTiming, isAnchor, sampleTrajectory, simplifyStroke } from './trajectory';
import type { Point, TimingMode, TrajectoryTiming } from './types';

const P = (x: number, y: number): Point => ({ x, y });
const timing = (mode: TimingMode, startFrame = 0, endFrame = 15): TrajectoryTiming => ({ mode, startFrame, endFrame });
const xs = (pts: Point[]) => pts.map((p) => p.x);

describe('sampleTrajectory', () => {
  it("'reference': a 2-point drag moves linearly, frame i at P0 + i/15 (P1 - P0)", () => {
    const s = sampleTrajectory({ points: [P(100, 50), P(115, 80)], timing: timing('reference') }, 16);
    expect(s).toHaveLength(16);
    expect(s[0]).toEqual(P(100, 50));
    expect(s[15]).toEqual(P(115, 80));
    // (115-100)/15 = 1 px per frame in x, (80-50)/15 = 2 px in y.
    for (let i = 0; i < 16; i++) {
      expect(s[i].x).toBeCloseTo(100 + i, 10);
      expect(s[i].y).toBeCloseTo(50 + 2 * i, 10);
    }
  });

  it("'reference': every clicked segment takes equal time (knots at linspace(0, 1, n))", () => {
    // 3 points, 11 frames: u = .5 at frame 5 is the middle knot whatever the segment lengths.
    const s = sampleTrajectory({ points: [P(0, 0), P(1, 0), P(101, 0)], timing: timing('reference', 0, 10) }, 11);
    expect(s[5]).toEqual(P(1, 0));
  });

  it('a single point (anchor) stays where it is for display', () => {
    const s = sampleTrajectory({ points: [P(7.5, 9)], timing: timing('ease-in-out') }, 5);
    expect(s).toEqual([P(7.5, 9), P(7.5, 9), P(7.5, 9), P(7.5, 9), P(7.5, 9)]);
  });

  it('startFrame/endFrame hold before and after, resampling over the active range', () => {
    // Active frames 5..10: u = linspace(0, 1, 6) = 0, .2, .4, ...; straight 0 -> 10 px.
    const s = sampleTrajectory({ points: [P(0, 0), P(10, 0)], timing: timing('reference', 5, 10) }, 16);
    expect(xs(s.slice(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(s[7].x).toBeCloseTo(4, 12); // (7 - 5) * .2 * 10
    expect(xs(s.slice(10))).toEqual([10, 10, 10, 10, 10, 10]);
  });

  it('a degenerate range (end <= start) becomes a one-frame move; ranges past the end are clamped', () => {
    expect(activeRange({ startFrame: 3, endFrame: 3 }, 16)).toEqual({ start: 3, end: 4 });
    expect(activeRange({ startFrame: 15, endFrame: 15 }, 16)).toEqual({ start: 14, end: 15 });
    expect(activeRange({ startFrame: 2, endFrame: 40 }, 16)).toEqual({ start: 2, end: 15 });
    const s = sampleTrajectory({ points: [P(0, 0), P(10, 0)], timing: timing('reference', 3, 3) }, 8);
    expect(xs(s)).toEqual([0, 0, 0, 0, 10, 10, 10, 10]);
  });

  it("'constant-speed' spreads frames evenly along the curve's length", () => {
    // Path 0 -> 1 -> 101 along x (PCHIP of monotone data, so arc length = x travelled).
    // 'reference' spends half the time on the first pixel; constant speed moves 10.1 px per frame.
    const s = sampleTrajectory({ points: [P(0, 0), P(1, 0), P(101, 0)], timing: timing('constant-speed', 0, 10) }, 11);
    for (let i = 0; i <= 10; i++) expect(s[i].x).toBeCloseTo(10.1 * i, 1);
    expect(s[10]).toEqual(P(101, 0));
    // Along a curved path: measure arc length independently on a dense 'reference' sampling of the
    // same PCHIP curve (20001 samples), locate each constant-speed frame on it by nearest sample,
    // and check frame i sits at i/15 of the total length (within half a pixel).
    const pts = [P(10, 10), P(200, 40), P(120, 200), P(300, 250)];
    const curve = sampleTrajectory({ points: pts, timing: timing('constant-speed') }, 16);
    const dense = sampleTrajectory({ points: pts, timing: timing('reference', 0, 20000) }, 20001);
    const cum = [0];
    for (let i = 1; i < dense.length; i++) cum.push(cum[i - 1] + Math.hypot(dense[i].x - dense[i - 1].x, dense[i].y - dense[i - 1].y));
    const total = cum.at(-1)!;
    curve.forEach((p, i) => {
      let best = 0;
      let bestD = Infinity;
      dense.forEach((q, j) => {
        const d = (q.x - p.x) ** 2 + (q.y - p.y) ** 2;
        if (d < bestD) [best, bestD] = [j, d];
      });
      expect(Math.sqrt(bestD)).toBeLessThan(0.1);
      expect(Math.abs(cum[best] - (i / 15) * total)).toBeLessThan(0.5);
    });
  });

  it("'ease-in-out' is smoothstep in time over the constant-speed path", () => {
    // Straight 0 -> 150 px, 16 frames: frame 1 has u = 1/15, smoothstep = u^2 (3 - 2u)
    // = (1/225)(43/15) = 43/3375; x = 150 * 43/3375 = 1.91111 px. Frame 8: u = 8/15,
    // smoothstep = (64/225)(3 - 16/15) = (64/225)(29/15) = 1856/3375; x = 82.48889 px.
    const s = sampleTrajectory({ points: [P(0, 0), P(150, 0)], timing: timing('ease-in-out') }, 16);
    expect(s[1].x).toBeCloseTo((150 * 43) / 3375, 6);
    expect(s[8].x).toBeCloseTo((150 * 1856) / 3375, 6);
    expect(s[0].x).toBe(0);
    expect(s[15].x).toBe(150);
  });

  it('rejects a bad frame count', () => {
    expect(() => sampleTrajectory({ points: [P(0, 0)], timing: timing('reference') }, 0)).toThrow(RangeError);
  });
});

describe('isAnchor / defaultTiming', () => {
  it('one point is an anchor, two are a drag', () => {
    expect(isAnchor({ points: [P(1, 2)] })).toBe(true);
    expect(isAnchor({ points: [P(1, 2), P(1, 2)] })).toBe(false);
  });
  it("default timing is the reference's: whole clip", () => {
    expect(defaultTiming(16)).toEqual({ mode: 'reference', startFrame: 0, endFrame: 15 });
  });
});

describe('simplifyStroke (Ramer–Douglas–Peucker)', () => {
  it('collinear points reduce to the end points', () => {
    const line = Array.from({ length: 20 }, (_, i) => P(i, 2 * i));
    expect(simplifyStroke(line, 0.1)).toEqual([P(0, 0), P(19, 38)]);
  });

  it('keeps a corner farther than the tolerance, drops wiggles within it', () => {
    // L shape with 0.3 px noise on the legs: the corner (10, 0) is 7.07 px from the chord.
    const pts = [P(0, 0), P(5, 0.3), P(10, 0), P(10.3, 5), P(10, 10)];
    expect(simplifyStroke(pts, 1)).toEqual([P(0, 0), P(10, 0), P(10, 10)]);
    // With tolerance 0.1 the 0.3 px wiggles survive.
    expect(simplifyStroke(pts, 0.1)).toHaveLength(5);
  });

  it('meets maxPoints by raising the tolerance', () => {
    const zigzag = Array.from({ length: 50 }, (_, i) => P(i * 4, (i % 2) * 10 + i));
    const out = simplifyStroke(zigzag, 0, 6);
    expect(out.length).toBeLessThanOrEqual(6);
    expect(out[0]).toEqual(zigzag[0]);
    expect(out.at(-1)).toEqual(zigzag.at(-1));
  });

  it('drops consecutive duplicates and keeps tiny strokes', () => {
    expect(simplifyStroke([P(1, 1), P(1, 1), P(1, 1)], 1)).toEqual([P(1, 1)]);
    expect(simplifyStroke([P(1, 1), P(2, 2)], 1)).toEqual([P(1, 1), P(2, 2)]);
    expect(simplifyStroke([], 1)).toEqual([]);
  });
});
