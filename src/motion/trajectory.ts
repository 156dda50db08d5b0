/**
 * Trajectories over time: where a dragged point is at each frame, and stroke simplification
 * for freehand sketching.
 *
 * Time model. Frame 0 is the reference image, so every trajectory is at its first point at
 * frame 0. `timing.startFrame`/`endFrame` give the ACTIVE range [s, e]: before s the point
 * holds its first point, after e it holds its last, and inside the range a progress value
 * u = linspace(0, 1, e - s + 1)[f - s] (numpy's linspace, element for element) drives the
 * motion. With s = 0 and e = frames - 1 (the default) u is exactly the reference's
 * `np.linspace(0, 1, 16)` for 16 frames. Degenerate ranges (e <= s) become a one-frame move
 * (e = s + 1, or s = e - 1 at the last frame); ranges past the end are clamped to the frames.
 *
 * Modes map u to a position along the PCHIP curve through the points (knots at
 * t_k = linspace(0, 1, n), so every clicked segment takes equal time):
 *   'reference'      position = PCHIP(u): the demo's interpolate_trajectory, bit-for-bit.
 *   'constant-speed' position = PCHIP(t) with t chosen so the arc length travelled is u times
 *                    the curve's length (arc length tabulated on a dense sampling of t).
 *   'ease-in-out'    as constant-speed with u replaced by smoothstep(u) = u^2 (3 - 2u).
 * One point (an anchor) is stationary for display; the reference's "anchor = two points one
 * pixel apart" rule is applied only when building conditions (see conditions.ts).
 */
import { createPchip, linspace, type PchipSpline } from './pchip';
import type { Point, Trajectory, TimingMode, TrajectoryTiming } from './types';

/** A trajectory with a single point: an anchor that holds its region still. */
export function isAnchor(traj: Pick<Trajectory, 'points'>): boolean {
  return traj.points.length === 1;
}

/** Default timing for a new trajectory: the reference's (move over the whole clip). */
export function defaultTiming(frames: number, mode: TimingMode = 'reference'): TrajectoryTiming {
  return { mode, startFrame: 0, endFrame: Math.max(0, frames - 1) };
}

/** The active frame range [start, end] actually used for `frames` frames (see module comment). */
export function activeRange(timing: Pick<TrajectoryTiming, 'startFrame' | 'endFrame'>, frames: number): { start: number; end: number } {
  const last = frames - 1;
  const clampFrame = (v: number): number => Math.min(last, Math.max(0, Math.round(Number.isFinite(v) ? v : 0)));
  let start = clampFrame(timing.startFrame);
  let end = clampFrame(timing.endFrame);
  if (end <= start) {
    if (start < last) end = start + 1;
    else start = Math.max(0, last - 1);
    if (end <= start) end = Math.min(last, start + 1);
  }
  return { start, end };
}

/** Progress u in [0, 1] for each frame: 0 before the active range, 1 after it. */
export function frameProgress(timing: Pick<TrajectoryTiming, 'startFrame' | 'endFrame'>, frames: number): number[] {
  if (frames < 2) return new Array<number>(Math.max(0, frames)).fill(0);
  const { start, end } = activeRange(timing, frames);
  const ramp = linspace(0, 1, end - start + 1);
  const out = new Array<number>(frames);
  for (let f = 0; f < frames; f++) out[f] = f < start ? 0 : f > end ? 1 : ramp[f - start];
  return out;
}

/** PCHIP through the points with knots at linspace(0, 1, n), as the reference builds it. */
export function trajectorySpline(points: readonly Point[]): PchipSpline {
  return createPchip(
    linspace(0, 1, points.length),
    points.map((p) => [p.x, p.y]),
  );
}

/** Dense arc-length table of a spline over t in [0, 1]: cumulative chord lengths. */
interface ArcTable {
  t: Float64Array;
  length: Float64Array;
  total: number;
}

function arcTable(spline: PchipSpline, segments: number): ArcTable {
  // 64 samples per clicked segment resolves the curve to well under a pixel for canvas-sized drags.
  const samples = Math.min(8192, 64 * segments);
  const t = new Float64Array(samples + 1);
  const length = new Float64Array(samples + 1);
  let prev = spline.evaluate(0);
  for (let i = 1; i <= samples; i++) {
    t[i] = i / samples;
    const p = spline.evaluate(t[i]);
    length[i] = length[i - 1] + Math.hypot(p[0] - prev[0], p[1] - prev[1]);
    prev = p;
  }
  return { t, length, total: length[samples] };
}

/** The spline parameter t at which arc length u * total is reached (linear in each table cell). */
function paramAtArcFraction(table: ArcTable, u: number): number {
  if (u <= 0 || table.total === 0) return 0;
  if (u >= 1) return 1;
  const target = u * table.total;
  let lo = 0;
  let hi = table.length.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table.length[mid] <= target) lo = mid;
    else hi = mid;
  }
  const span = table.length[hi] - table.length[lo];
  const frac = span > 0 ? (target - table.length[lo]) / span : 0;
  return table.t[lo] + frac * (table.t[hi] - table.t[lo]);
}

export function smoothstep(u: number): number {
  return u * u * (3 - 2 * u);
}

/**
 * The point's position at each frame 0..frames-1 following its timing (see module comment).
 * Frame 0 is always the first point. A one-point trajectory stays where it is.
 */
export function sampleTrajectory(traj: Pick<Trajectory, 'points' | 'timing'>, frames: number): Point[] {
  if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`sampleTrajectory: frames must be a positive integer (got ${frames})`);
  const pts = traj.points;
  if (pts.length === 0) throw new RangeError('sampleTrajectory: a trajectory needs at least one point');
  const first = pts[0];
  if (pts.length === 1) return Array.from({ length: frames }, () => ({ x: first.x, y: first.y }));

  const spline = trajectorySpline(pts);
  const progress = frameProgress(traj.timing, frames);
  const mode = traj.timing.mode;
  const table = mode === 'reference' ? null : arcTable(spline, pts.length - 1);
  return progress.map((u) => {
    let t = u;
    if (table) t = paramAtArcFraction(table, mode === 'ease-in-out' ? smoothstep(u) : u);
    const [x, y] = spline.evaluate(t);
    return { x, y };
  });
}

/**
 * Ramer–Douglas–Peucker simplification of a freehand stroke: keeps the end points and every
 * point farther than `tolerance` (pixels) from the chord of the span it would be dropped from.
 * If `maxPoints` is given and more points survive, the tolerance is raised (doubling, then
 * bisecting) until at most `maxPoints` remain.
 */
export function simplifyStroke(points: readonly Point[], tolerance: number, maxPoints?: number): Point[] {
  if (!(tolerance >= 0)) throw new RangeError(`simplifyStroke: tolerance must be >= 0 (got ${tolerance})`);
  if (maxPoints !== undefined && !(Number.isInteger(maxPoints) && maxPoints >= 2)) {
    throw new RangeError(`simplifyStroke: maxPoints must be an integer >= 2 (got ${maxPoints})`);
  }
  // Consecutive duplicates carry no shape; drop them first.
  const pts: Point[] = [];
  for (const p of points) {
    const last = pts[pts.length - 1];
    if (!last || last.x !== p.x || last.y !== p.y) pts.push({ x: p.x, y: p.y });
  }
  if (pts.length <= 2) return pts;

  let result = rdp(pts, tolerance);
  if (maxPoints === undefined || result.length <= maxPoints) return result;

  // Find a tolerance that meets the point budget: grow until it fits, then bisect.
  let lo = tolerance;
  let hi = Math.max(tolerance, 0.5);
  while (rdp(pts, hi).length > maxPoints) hi *= 2;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (rdp(pts, mid).length > maxPoints) lo = mid;
    else hi = mid;
  }
  result = rdp(pts, hi);
  return result;
}

function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return Math.hypot(p.x - a.x, p.y - a.y);
  const t = Math.min(1, Math.max(0, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Iterative RDP (no recursion depth limit for long strokes). */
function rdp(pts: readonly Point[], tolerance: number): Point[] {
  const keep = new Uint8Array(pts.length);
  keep[0] = 1;
  keep[pts.length - 1] = 1;
  const stack: [number, number][] = [[0, pts.length - 1]];
  while (stack.length > 0) {
    const [i0, i1] = stack.pop()!;
    let maxDist = -1;
    let maxIdx = -1;
    for (let i = i0 + 1; i < i1; i++) {
      const d = distanceToSegment(pts[i], pts[i0], pts[i1]);
      if (d > maxDist) {
        maxDist = d;
        maxIdx = i;
      }
    }
    if (maxIdx >= 0 && maxDist > tolerance) {
      keep[maxIdx] = 1;
      stack.push([i0, maxIdx], [maxIdx, i1]);
    }
  }
  const out: Point[] = [];
  for (let i = 0; i < pts.length; i++) if (keep[i]) out.push({ x: pts[i].x, y: pts[i].y });
  return out;
}
