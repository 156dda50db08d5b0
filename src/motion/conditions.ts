/**
 * Stage-1 conditions from a project: the sparse flow, its mask and the brush's static mask,
 * built the way the reference demo's `Drag.run` + `forward_sample` (scripts/app.py, commit
 * bc787e1) build them. Quirks reproduced on purpose (each checked by conditions.test.ts):
 *
 * 1. Points are pixel indices. The demo's clicks are Gradio integer pixel indices (and it
 *    applies `int(...)` when rescaling them), so by default every point is truncated toward
 *    zero (Python int()) before anything else. `quantizePoints: false` keeps fractions.
 * 2. A one-point drag becomes the two points (x, y) and (x + 1, y + 1): a near-stationary
 *    anchor whose flow at frame i is (i/15, i/15) px for 16 frames, NOT zero.
 * 3. Points are resampled with PCHIP over t = linspace(0, 1, n) at linspace(0, 1, frames)
 *    (see trajectory.ts); trajectories with another timing mode use that mode instead.
 * 4. The displacement P[i] - P[0] (float64) is stored as float32 and written, for every frame,
 *    into a square patch around the start point S (float64 PCHIP value at t = 0, equal to the
 *    first point), rows  [max(int(S.y) - u, 0), int(S.y) + u)  and
 *    columns [max(int(S.x) - u, 0), int(S.x + u)), clipped to the canvas. The upper bounds are
 *    EXCLUSIVE, so the 2u x 2u square is not centred: it spans S - u .. S + u - 1 (flow unit 1
 *    gives the 2 x 2 block whose bottom-right pixel is S). Note the asymmetric rounding of the
 *    x upper bound (int of the sum) that we keep. Python would wrap a negative stop index
 *    around; the demo cannot produce one (clicks are inside the image) and we clip it to 0.
 * 5. Later drags overwrite earlier ones where their squares overlap; the mask is the union.
 * 6. Brush: the flow is zeroed where the brush says static (1 - brush_mask multiply, before
 *    the (f + 1) / 2 shift) and the mask is forced to 1 there ("known zero flow").
 * 7. Normalisation in float32, in the demo's order: n = ((dx / W) * (1 - s) + 1) / 2, then
 *    forward_sample's (n - 0.5) * mask + 0.5, so unmasked pixels are exactly 0.5.
 * 8. ControlNet mask: F.interpolate(mask, scale_factor=1/8), mode nearest: out[j][i] =
 *    mask[8 j][8 i], size floor(H / 8) x floor(W / 8).
 * The reference handles 15 flows f(0 -> i), i = 1..15; our arrays include frame 0 (zero flow,
 * normalised 0.5) so index i is frame i.
 */
import { movableMask } from './brush';
import { sampleTrajectory } from './trajectory';
import type { Point, Project, Trajectory } from './types';

export interface SparseConditionOptions {
  /** Frames including frame 0. Default: project.settings.frames. */
  frames?: number;
  /** Half-size of the drag squares in pixels (integer >= 1). Default: project.settings.flowUnit. */
  flowUnit?: number;
  /** Truncate points to integer pixel indices like the demo's clicks. Default true. */
  quantizePoints?: boolean;
}

export interface SparseConditions {
  frames: number;
  width: number;
  height: number;
  /** [frames, 2, H, W] displacement from frame 0 in pixels (dx, dy); 0 outside the drag squares, in static areas and at frame 0. */
  flow: Float32Array;
  /**
   * [H, W]: 1 where the flow is known (drag squares and static brush areas). The reference
   * writes the same mask for every frame, so one plane serves all frames.
   */
  mask: Float32Array;
  /** [frames, 2, H, W] flow-VAE input: (dx / W + 1) / 2, (dy / H + 1) / 2, 0.5 where unmasked and at frame 0. */
  normalized: Float32Array;
  /** [H, W] the reference's brush_mask: 1 = static (unpainted while something is painted). */
  staticMask: Float32Array;
  /** [H / 8, W / 8] `mask` downsampled by nearest (top-left pixel of each 8 x 8 block): the ControlNet's 5th channel. */
  controlMask8: Float32Array;
  width8: number;
  height8: number;
}

const f32 = Math.fround;

/** The trajectory the conditions actually use: quantised points, anchors as the reference's two-point drag. */
export function conditionTrajectory(
  traj: Pick<Trajectory, 'points' | 'timing'>,
  quantizePoints = true,
): Pick<Trajectory, 'points' | 'timing'> {
  let points: Point[] = traj.points.map((p) => (quantizePoints ? { x: Math.trunc(p.x), y: Math.trunc(p.y) } : { x: p.x, y: p.y }));
  // Demo: a stationary point becomes (x, y), (x + 1, y + 1).
  if (points.length === 1) points = [points[0], { x: points[0].x + 1, y: points[0].y + 1 }];
  return { points, timing: traj.timing };
}

/** Rows/columns [y0, y1) x [x0, x1) of a drag's square for start point s and flow unit u (demo slicing, clipped). */
export function dragSquare(
  start: Point,
  flowUnit: number,
  width: number,
  height: number,
): { x0: number; x1: number; y0: number; y1: number } {
  const clip = (v: number, n: number): number => Math.min(n, Math.max(0, v));
  const iy = Math.trunc(start.y);
  const ix = Math.trunc(start.x);
  return {
    y0: clip(iy - flowUnit, height),
    y1: clip(iy + flowUnit, height),
    x0: clip(ix - flowUnit, width),
    x1: clip(Math.trunc(start.x + flowUnit), width),
  };
}

export function buildSparseConditions(project: Project, options: SparseConditionOptions = {}): SparseConditions {
  const { width, height } = project.canvas;
  const frames = options.frames ?? project.settings.frames;
  const flowUnit = options.flowUnit ?? project.settings.flowUnit;
  const quantize = options.quantizePoints ?? true;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`buildSparseConditions: canvas must have positive integer size (got ${width}x${height})`);
  }
  if (!Number.isInteger(frames) || frames < 2)
    throw new RangeError(`buildSparseConditions: frames must be an integer >= 2 (got ${frames})`);
  if (!Number.isInteger(flowUnit) || flowUnit < 1)
    throw new RangeError(`buildSparseConditions: flowUnit must be an integer >= 1 (got ${flowUnit})`);

  const plane = width * height;
  const flow = new Float32Array(frames * 2 * plane);
  // Union of the drag squares; the brush's static area is added to the mask at the end.
  const dragMask = new Uint8Array(plane);

  // Drags in order: later squares overwrite earlier ones.
  for (const traj of project.trajectories) {
    if (traj.points.length === 0) continue;
    const used = conditionTrajectory(traj, quantize);
    const samples = sampleTrajectory(used, frames);
    // Demo's start_point is the PCHIP value at t = 0, i.e. the first point; progress 0 before the active range keeps it.
    const start = samples[0];
    const sq = dragSquare(start, flowUnit, width, height);
    if (sq.x0 >= sq.x1 || sq.y0 >= sq.y1) continue;
    for (let y = sq.y0; y < sq.y1; y++) dragMask.fill(1, y * width + sq.x0, y * width + sq.x1);
    for (let f = 1; f < frames; f++) {
      const dx = f32(samples[f].x - start.x);
      const dy = f32(samples[f].y - start.y);
      const bx = (f * 2 + 0) * plane;
      const by = (f * 2 + 1) * plane;
      for (let y = sq.y0; y < sq.y1; y++) {
        flow.fill(dx, bx + y * width + sq.x0, bx + y * width + sq.x1);
        flow.fill(dy, by + y * width + sq.x0, by + y * width + sq.x1);
      }
    }
  }

  // Brush: static = 1 - movable. Static pixels are "known zero flow": mask 1, flow 0, and their
  // normalised value ((dx / W) * 0 + 1) / 2 is exactly 0.5, the same as an unmasked pixel's.
  const movable = movableMask(project.brush, project.canvas);
  const staticMask = new Float32Array(plane);
  const mask = new Float32Array(plane);
  const moving: number[] = [];
  for (let i = 0; i < plane; i++) {
    if (!movable[i]) {
      staticMask[i] = 1;
      mask[i] = 1;
      if (dragMask[i]) {
        for (let f = 1; f < frames; f++) {
          flow[f * 2 * plane + i] = 0;
          flow[(f * 2 + 1) * plane + i] = 0;
        }
      }
    } else if (dragMask[i]) {
      mask[i] = 1;
      moving.push(i);
    }
  }

  // Only drag pixels in movable areas differ from 0.5. Their mask is 1 and (1 - brush_mask) is
  // 1, but the demo's float32 steps are kept literally: x / size; * 1; + 1; / 2; - 0.5; * 1; + 0.5.
  const normalized = new Float32Array(frames * 2 * plane).fill(0.5);
  for (let f = 1; f < frames; f++) {
    for (let c = 0; c < 2; c++) {
      const base = (f * 2 + c) * plane;
      const size = c === 0 ? width : height;
      let lastIn = NaN;
      let lastOut = 0.5;
      for (const i of moving) {
        const v = flow[base + i];
        if (v !== lastIn) {
          const scaled = f32(f32(v / size) * 1);
          const shifted = f32(f32(scaled + 1) / 2);
          lastOut = f32(f32(f32(shifted - 0.5) * 1) + 0.5);
          lastIn = v;
        }
        normalized[base + i] = lastOut;
      }
    }
  }

  const width8 = Math.floor(width / 8);
  const height8 = Math.floor(height / 8);
  const controlMask8 = new Float32Array(width8 * height8);
  for (let j = 0; j < height8; j++) {
    for (let i = 0; i < width8; i++) controlMask8[j * width8 + i] = mask[j * 8 * width + i * 8];
  }

  return { frames, width, height, flow, mask, normalized, staticMask, controlMask8, width8, height8 };
}
