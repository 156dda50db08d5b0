/**
 * Classical stage 1, CPU half: a Project's trajectories, anchors and brush as densify
 * constraints (a per-pixel id map and a per-frame displacement table). Pure and cheap
 * (one pass over the canvas), so it runs on every preview update.
 *
 * Semantics (what the user gets):
 * - A trajectory with two or more points pins a disc of radius footprintRadius around its
 *   FIRST point; at frame i every pixel of the disc moves by sampleTrajectory(traj)[i] - P[0]
 *   (its own timing: start/end frame, easing). Later trajectories overwrite earlier ones where
 *   discs overlap, as in the reference.
 * - A one-point trajectory (anchor) pins its disc at zero motion.
 * - With a painted brush, every unpainted pixel is pinned at zero (static wins over
 *   trajectories, as the reference zeroes drags in static areas) and cut loose from the painted
 *   region (its edges to painted pixels get the floor weight, like a strong image edge), and
 *   inside the painted region motion SPREADS with no decay: painting says "this region moves",
 *   so a drag inside it carries the whole region along (anchors inside it hold their part).
 * - With nothing painted, motion DECAYS away from the drags (screening length
 *   decayFraction * min(W, H)): the dragged object moves, far-away content stays put.
 * Between constraints the solver interpolates smoothly and stops at image edges.
 */
import { movableMask, rasterizeBrush, hasPaint, sampleTrajectory } from '../motion';
import type { Project } from '../motion/types';
import { flowCount } from './engine';

/** id-map codes shared with shaders/densify_setup.wgsl. */
export const ID_FREE = -2;
export const ID_ZERO = -1;
/** Static (unpainted) pixel: fixed at zero AND decoupled from its moving neighbours. */
export const ID_STATIC = -3;

export interface ConstraintOptions {
  /** Footprint radius in pixels; default footprintRadius(flowUnit). */
  footprintRadius?: number;
  /** Screening length without a brush, as a fraction of the canvas' short side. Default 0.25. */
  decayFraction?: number;
}

export interface Constraints {
  width: number;
  height: number;
  /** [H * W]: ID_FREE, ID_ZERO, ID_STATIC, or k (footprint of moving trajectory k). */
  ids: Int32Array;
  /** Moving trajectories (basis fields). */
  k: number;
  /** Indices into project.trajectories of the K moving trajectories. */
  trajectoryIndex: number[];
  /** Flow count N = frames - 1. */
  flows: number;
  /** [N, K, 2]: displacement of trajectory k at frame i + 1. */
  table: Float32Array;
  /** Screening length for the solver (Infinity: no decay). */
  screeningLength: number;
  /** Whether the brush has paint (then unpainted pixels are static). */
  painted: boolean;
  footprintRadius: number;
}

/** Footprint radius for a project's Flow Unit (the reference's square half-size, default 64): 1/8 of it, 2..24 px. */
export function footprintRadius(flowUnit: number): number {
  return Math.min(24, Math.max(2, flowUnit / 8));
}

function paintDisc(ids: Int32Array, width: number, height: number, cx: number, cy: number, r: number, value: number): void {
  const x0 = Math.max(0, Math.ceil(cx - r));
  const x1 = Math.min(width - 1, Math.floor(cx + r));
  const y0 = Math.max(0, Math.ceil(cy - r));
  const y1 = Math.min(height - 1, Math.floor(cy + r));
  const r2 = r * r;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r2) ids[y * width + x] = value;
    }
  }
}

export function buildConstraints(project: Project, options: ConstraintOptions = {}): Constraints {
  const { width, height } = project.canvas;
  const n = flowCount(project);
  const frames = n + 1;
  const radius = options.footprintRadius ?? footprintRadius(project.settings.flowUnit);
  const ids = new Int32Array(width * height).fill(ID_FREE);
  const moving: { index: number; disp: Float32Array }[] = [];
  project.trajectories.forEach((traj, index) => {
    if (traj.points.length === 0) return;
    const start = traj.points[0];
    if (traj.points.length === 1) {
      paintDisc(ids, width, height, start.x, start.y, radius, ID_ZERO);
      return;
    }
    const pos = sampleTrajectory(traj, frames);
    const disp = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      disp[2 * i] = pos[i + 1].x - pos[0].x;
      disp[2 * i + 1] = pos[i + 1].y - pos[0].y;
    }
    paintDisc(ids, width, height, start.x, start.y, radius, moving.length);
    moving.push({ index, disp });
  });
  const painted = hasPaint(rasterizeBrush(project.brush, project.canvas));
  if (painted) {
    const movable = movableMask(project.brush, project.canvas);
    for (let i = 0; i < ids.length; i++) if (!movable[i]) ids[i] = ID_STATIC;
  }
  const k = moving.length;
  const table = new Float32Array(n * k * 2);
  moving.forEach((m, j) => {
    for (let i = 0; i < n; i++) {
      table[(i * k + j) * 2] = m.disp[2 * i];
      table[(i * k + j) * 2 + 1] = m.disp[2 * i + 1];
    }
  });
  const decay = options.decayFraction ?? 0.25;
  return {
    width,
    height,
    ids,
    k,
    trajectoryIndex: moving.map((m) => m.index),
    flows: n,
    table,
    screeningLength: painted ? Infinity : decay * Math.min(width, height),
    painted,
    footprintRadius: radius,
  };
}

/** Rows of `table` for the given flow indices (0-based: flow i is frame i + 1), as [F, K, 2]. */
export function selectFrames(c: Constraints, flowIndices: readonly number[]): Float32Array {
  const out = new Float32Array(flowIndices.length * c.k * 2);
  flowIndices.forEach((fi, row) => out.set(c.table.subarray(fi * c.k * 2, (fi + 1) * c.k * 2), row * c.k * 2));
  return out;
}
