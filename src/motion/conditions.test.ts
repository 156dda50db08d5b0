import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildSparseConditions, dragSquare, type SparseConditions } from './conditions';
import { emptyProject, type BrushStroke, type Project, type TimingMode } from './types';

const f32 = Math.fround;

function project(opts: {
  width?: number;
  height?: number;
  flowUnit?: number;
  frames?: number;
  drags: [number, number][][];
  brush?: BrushStroke[];
  mode?: TimingMode;
  startFrame?: number;
  endFrame?: number;
}): Project {
  const p = emptyProject();
  p.canvas = { width: opts.width ?? 64, height: opts.height ?? 40 };
  p.settings.flowUnit = opts.flowUnit ?? 2;
  p.settings.frames = opts.frames ?? 16;
  p.trajectories = opts.drags.map((pts, i) => ({
    id: `t${i}`,
    color: '#fff',
    points: pts.map(([x, y]) => ({ x, y })),
    timing: { mode: opts.mode ?? 'reference', startFrame: opts.startFrame ?? 0, endFrame: opts.endFrame ?? p.settings.frames - 1 },
  }));
  p.brush = opts.brush ?? [];
  return p;
}

/** Value of a [frames, 2, H, W] array. */
const at = (c: SparseConditions, a: Float32Array, f: number, ch: number, x: number, y: number) =>
  a[((f * 2 + ch) * c.height + y) * c.width + x];
/** Pixels with mask 1 as "x,y". */
const maskOn = (c: SparseConditions) =>
  Array.from(c.mask.keys())
    .filter((i) => c.mask[i])
    .map((i) => `${i % c.width},${Math.floor(i / c.width)}`);

describe('buildSparseConditions: drags', () => {
  it('one drag: displacement in its square, exact normalisation at 512 x 320', () => {
    // (100, 50) -> (115, 80): PCHIP of 2 points is linear, frame i moves (i, 2i) px of 16 frames.
    const c = buildSparseConditions(
      project({
        width: 512,
        height: 320,
        flowUnit: 2,
        frames: 4,
        drags: [
          [
            [100, 50],
            [115, 80],
          ],
        ],
      }),
    );
    expect([c.frames, c.width, c.height]).toEqual([4, 512, 320]);
    // Square rows [50-2, 50+2) = 48..51, cols [98, 102) = 98..101: 16 pixels.
    expect(maskOn(c)).toHaveLength(16);
    expect(c.mask[48 * 512 + 98]).toBe(1);
    expect(c.mask[51 * 512 + 101]).toBe(1);
    expect(c.mask[52 * 512 + 101]).toBe(0); // row stop is exclusive
    expect(c.mask[51 * 512 + 102]).toBe(0); // column stop is exclusive
    expect(c.mask[47 * 512 + 98]).toBe(0);
    // The last frame, t = 1, is the last point exactly: flow (15, 30).
    expect(at(c, c.flow, 3, 0, 100, 50)).toBe(15);
    expect(at(c, c.flow, 3, 1, 98, 48)).toBe(30);
    expect(at(c, c.flow, 1, 0, 99, 49)).toBeCloseTo(5, 5);
    // Normalised: (15/512 + 1)/2 = (0.029296875 + 1)/2 = 0.5146484375 (all exact in float32);
    // (30/320 + 1)/2 = (0.09375 + 1)/2 = 0.546875.
    expect(at(c, c.normalized, 3, 0, 100, 50)).toBe(0.5146484375);
    expect(at(c, c.normalized, 3, 1, 100, 50)).toBe(0.546875);
    // No motion: frame 0 everywhere and unmasked pixels are exactly 0.5; flow 0 there.
    expect(c.normalized.subarray(0, 2 * 512 * 320).every((v) => v === 0.5)).toBe(true);
    expect(at(c, c.normalized, 3, 0, 0, 0)).toBe(0.5);
    expect(at(c, c.flow, 3, 0, 0, 0)).toBe(0);
    expect(c.flow.subarray(0, 2 * 512 * 320).every((v) => v === 0)).toBe(true);
    // No brush: nothing static.
    expect(c.staticMask.every((v) => v === 0)).toBe(true);
  });

  it('a single click is the reference anchor: two points 1 px apart diagonally, flow (i/15, i/15)', () => {
    const c = buildSparseConditions(project({ flowUnit: 2, drags: [[[20, 10]]] }));
    // Points (20, 10), (21, 11): linear, frame i of 16 moves i * (1/15) px in x and y.
    for (const i of [1, 7, 14]) {
      expect(at(c, c.flow, i, 0, 20, 10)).toBeCloseTo(i / 15, 6);
      expect(at(c, c.flow, i, 1, 19, 9)).toBeCloseTo(i / 15, 6);
    }
    expect(at(c, c.flow, 15, 0, 20, 10)).toBe(1);
    expect(at(c, c.flow, 15, 1, 20, 10)).toBe(1);
    expect(maskOn(c)).toHaveLength(16);
    // The (1, 1) px end displacement normalised at 512 x 320, float32 step by step:
    // 1/512 = 2^-9 exact, (1 + 2^-9)/2 = 0.5009765625; 1/320 rounds to float32 first, then
    // + 1 rounds, then / 2 is exact (about 0.5015625).
    const big = buildSparseConditions(project({ width: 512, height: 320, flowUnit: 2, frames: 4, drags: [[[200, 100]]] }));
    expect(at(big, big.normalized, 3, 0, 200, 100)).toBe(0.5009765625);
    expect(at(big, big.normalized, 3, 1, 200, 100)).toBe(f32(f32(f32(1 / 320) + 1) / 2));
    expect(at(big, big.normalized, 3, 1, 200, 100)).toBeCloseTo(0.5015625, 7);
  });

  it('overlapping drags: the later one wins where squares overlap, the mask is the union', () => {
    // A at (10, 10) moving +15 x, B at (12, 10) moving +30 y, unit 3:
    // A: cols 7..12, rows 7..12; B: cols 9..14, rows 7..12.
    const c = buildSparseConditions(
      project({
        flowUnit: 3,
        drags: [
          [
            [10, 10],
            [25, 10],
          ],
          [
            [12, 10],
            [12, 40],
          ],
        ],
      }),
    );
    expect(at(c, c.flow, 15, 0, 8, 8)).toBe(15); // only A
    expect(at(c, c.flow, 15, 1, 8, 8)).toBe(0);
    expect(at(c, c.flow, 15, 0, 10, 10)).toBe(0); // overlap: B's (0, 30)
    expect(at(c, c.flow, 15, 1, 10, 10)).toBe(30);
    expect(at(c, c.flow, 15, 1, 14, 12)).toBe(30); // only B
    expect(maskOn(c)).toHaveLength(8 * 6); // cols 7..14 x rows 7..12
    // Reversed order: A wins the overlap.
    const r = buildSparseConditions(
      project({
        flowUnit: 3,
        drags: [
          [
            [12, 10],
            [12, 40],
          ],
          [
            [10, 10],
            [25, 10],
          ],
        ],
      }),
    );
    expect(at(r, r.flow, 15, 0, 10, 10)).toBe(15);
  });

  it('squares are clipped at the borders', () => {
    // Start (1, 1), unit 4: rows/cols max(1-4, 0) = 0 .. 1+4 = 5 (exclusive) -> 5 x 5.
    expect(
      maskOn(
        buildSparseConditions(
          project({
            flowUnit: 4,
            drags: [
              [
                [1, 1],
                [5, 5],
              ],
            ],
          }),
        ),
      ),
    ).toHaveLength(25);
    // Start (62, 38) on 64 x 40, unit 4: rows 34..41 -> 34..39, cols 58..65 -> 58..63: 6 x 6.
    expect(
      maskOn(
        buildSparseConditions(
          project({
            flowUnit: 4,
            drags: [
              [
                [62, 38],
                [50, 30],
              ],
            ],
          }),
        ),
      ),
    ).toHaveLength(36);
    // A drag starting past the border adds nothing (cols [66, 74) clip to empty).
    const out = buildSparseConditions(
      project({
        flowUnit: 4,
        drags: [
          [
            [70, 10],
            [60, 10],
          ],
        ],
      }),
    );
    expect(maskOn(out)).toEqual([]);
    expect(out.normalized.every((v) => v === 0.5)).toBe(true);
    // A drag ENDING past the border is fine: the displacement is just large.
    const far = buildSparseConditions(
      project({
        flowUnit: 1,
        drags: [
          [
            [10, 10],
            [100, 10],
          ],
        ],
      }),
    );
    expect(at(far, far.flow, 15, 0, 10, 10)).toBe(90);
  });

  it('flow unit 1 is the 2 x 2 block whose bottom-right pixel is the start; 320 covers the canvas', () => {
    const one = buildSparseConditions(
      project({
        flowUnit: 1,
        drags: [
          [
            [10, 20],
            [11, 20],
          ],
        ],
      }),
    );
    expect(maskOn(one)).toEqual(['9,19', '10,19', '9,20', '10,20']);
    const big = buildSparseConditions(
      project({
        width: 512,
        height: 320,
        flowUnit: 320,
        frames: 4,
        drags: [
          [
            [256, 160],
            [260, 160],
          ],
        ],
      }),
    );
    expect(big.mask.every((v) => v === 1)).toBe(true);
    expect(at(big, big.flow, 3, 0, 0, 0)).toBe(4);
    expect(at(big, big.flow, 3, 0, 511, 319)).toBe(4);
  });

  it('points are truncated to pixel indices like the demo clicks, unless asked not to', () => {
    const a = buildSparseConditions(
      project({
        flowUnit: 1,
        drags: [
          [
            [10.7, 20.9],
            [11.99, 20.2],
          ],
        ],
      }),
    );
    expect(maskOn(a)).toEqual(['9,19', '10,19', '9,20', '10,20']);
    expect(at(a, a.flow, 15, 0, 10, 20)).toBe(1); // trunc(11.99) - trunc(10.7)
    const b = buildSparseConditions(
      project({
        flowUnit: 1,
        drags: [
          [
            [10.5, 20],
            [12, 20],
          ],
        ],
      }),
      { quantizePoints: false },
    );
    expect(at(b, b.flow, 15, 0, 10, 20)).toBe(1.5);
  });

  it("dragSquare keeps the demo's int(x + u) column stop (differs from int(x) + u for negative fractions)", () => {
    // x = -0.5, u = 2: int(-0.5) = 0 -> start max(0 - 2, 0) = 0; stop int(1.5) = 1 (not 0 + 2).
    expect(dragSquare({ x: -0.5, y: 10 }, 2, 64, 40)).toEqual({ x0: 0, x1: 1, y0: 8, y1: 12 });
    // y = -0.5: int(-0.5) + 2 = 2.
    expect(dragSquare({ x: 10, y: -0.5 }, 2, 64, 40)).toEqual({ x0: 8, x1: 12, y0: 0, y1: 2 });
    // Negative stops (impossible in the demo) clip to empty instead of wrapping around.
    expect(dragSquare({ x: -10, y: 5 }, 2, 64, 40)).toEqual({ x0: 0, x1: 0, y0: 3, y1: 7 });
  });

  it('timing modes and active ranges shape the per-frame displacement', () => {
    // ease-in-out on a straight 0 -> 30 px drag: frame 1 at 30 * 43/3375 px (see trajectory tests).
    const e = buildSparseConditions(
      project({
        flowUnit: 1,
        mode: 'ease-in-out',
        drags: [
          [
            [5, 5],
            [35, 5],
          ],
        ],
      }),
    );
    expect(at(e, e.flow, 1, 0, 5, 5)).toBeCloseTo((30 * 43) / 3375, 5);
    // Active frames 4..8: frames 1..4 have zero flow but are masked ("known not moving yet"),
    // frames 8..15 carry the full displacement.
    const r = buildSparseConditions(
      project({
        flowUnit: 1,
        startFrame: 4,
        endFrame: 8,
        drags: [
          [
            [5, 5],
            [25, 5],
          ],
        ],
      }),
    );
    for (const f of [1, 2, 3, 4]) expect(at(r, r.flow, f, 0, 5, 5)).toBe(0);
    expect(at(r, r.normalized, 2, 0, 5, 5)).toBe(0.5);
    expect(r.mask[5 * 64 + 5]).toBe(1);
    expect(at(r, r.flow, 6, 0, 5, 5)).toBeCloseTo(10, 10);
    for (const f of [8, 12, 15]) expect(at(r, r.flow, f, 0, 5, 5)).toBe(20);
  });
});

describe('buildSparseConditions: brush and ControlNet mask', () => {
  it('static areas zero the drag flow and are masked as known zero flow', () => {
    // Paint (movable) the left half, cols 0..31 (rows of capsules through pixel centres, r = .5).
    const brush: BrushStroke[] = Array.from({ length: 40 }, (_, y) => ({
      mode: 'paint',
      radius: 0.5,
      points: [
        { x: 0.5, y: y + 0.5 },
        { x: 31.5, y: y + 0.5 },
      ],
    }));
    const c = buildSparseConditions(
      project({
        flowUnit: 2,
        brush,
        drags: [
          [
            [10, 10],
            [20, 10],
          ],
          [
            [50, 20],
            [50, 30],
          ],
        ],
      }),
    );
    expect(c.staticMask[10 * 64 + 10]).toBe(0);
    expect(c.staticMask[20 * 64 + 50]).toBe(1);
    expect(c.staticMask.reduce((a, b) => a + b)).toBe(32 * 40);
    expect(at(c, c.flow, 15, 0, 10, 10)).toBe(10); // movable: kept
    expect(at(c, c.flow, 15, 1, 50, 20)).toBe(0); // static: zeroed
    expect(at(c, c.normalized, 15, 1, 50, 20)).toBe(0.5);
    // Mask: the left drag's 4 x 4 square plus the whole static half.
    expect(maskOn(c)).toHaveLength(16 + 32 * 40);
    expect(c.mask[0 * 64 + 63]).toBe(1);
    expect(c.mask[0 * 64 + 0]).toBe(0);
  });

  it('an empty brush leaves everything movable', () => {
    const c = buildSparseConditions(
      project({
        drags: [
          [
            [50, 20],
            [50, 30],
          ],
        ],
        brush: [],
      }),
    );
    expect(c.staticMask.every((v) => v === 0)).toBe(true);
    expect(at(c, c.flow, 15, 1, 50, 20)).toBe(10);
  });

  it('controlMask8 takes the top-left pixel of every 8 x 8 block (nearest, scale 1/8)', () => {
    // Unit 1 at (8, 8): the square is pixels 7..8 x 7..8, which contains (8, 8) -> block (1, 1) is 1.
    const a = buildSparseConditions(
      project({
        flowUnit: 1,
        drags: [
          [
            [8, 8],
            [9, 8],
          ],
        ],
      }),
    );
    expect([a.width8, a.height8]).toEqual([8, 5]);
    expect(Array.from(a.controlMask8.keys()).filter((i) => a.controlMask8[i])).toEqual([1 * 8 + 1]);
    // Unit 1 at (7, 7): pixels 6..7 x 6..7 hold no multiple-of-8 pixel -> all zero although
    // the full-resolution mask is not.
    const b = buildSparseConditions(
      project({
        flowUnit: 1,
        drags: [
          [
            [7, 7],
            [9, 8],
          ],
        ],
      }),
    );
    expect(maskOn(b)).toHaveLength(4);
    expect(b.controlMask8.every((v) => v === 0)).toBe(true);
  });

  it("matches the demo's own arithmetic on a 5-drag scene with a brush (NumPy golden)", () => {
    // Golden from src/motion/testdata/make_demo_conditions_golden.py: scipy PCHIP + the demo's
    // slicing and float32 normalisation restated in NumPy.
    const g = JSON.parse(readFileSync(new URL('./testdata/demo-conditions.golden.json', import.meta.url), 'utf8')) as {
      width: number;
      height: number;
      frames: number;
      flowUnit: number;
      tracks: [number, number][][];
      paintColumns: [number, number];
      normalized: [number, number, number][][][];
      mask: [number, number, number][];
      mask8: number[];
    };
    const [px0, px1] = g.paintColumns;
    const brush: BrushStroke[] = Array.from({ length: g.height }, (_, y) => ({
      mode: 'paint',
      radius: 0.5,
      points: [
        { x: px0 + 0.5, y: y + 0.5 },
        { x: px1 - 0.5, y: y + 0.5 },
      ],
    }));
    const c = buildSparseConditions(
      project({ width: g.width, height: g.height, flowUnit: g.flowUnit, frames: g.frames, drags: g.tracks, brush }),
    );
    const plane = g.width * g.height;
    const expand = (runs: [number, number, number][], fill: number) => {
      const out = new Float32Array(plane).fill(fill);
      for (const [start, len, v] of runs) out.fill(v, start, start + len);
      return out;
    };
    let mismatches = 0;
    let nonTrivial = 0;
    for (let f = 1; f < g.frames; f++) {
      for (let ch = 0; ch < 2; ch++) {
        const want = expand(g.normalized[f - 1][ch], 0.5);
        const got = c.normalized.subarray((f * 2 + ch) * plane, (f * 2 + ch + 1) * plane);
        for (let i = 0; i < plane; i++) {
          if (want[i] !== got[i]) mismatches++;
          if (want[i] !== 0.5) nonTrivial++;
        }
      }
    }
    expect(nonTrivial).toBeGreaterThan(1000);
    expect(mismatches).toBe(0);
    expect(Array.from(c.mask)).toEqual(Array.from(expand(g.mask, 0)));
    expect(Array.from(c.controlMask8)).toEqual(g.mask8);
  });
});
