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
 *
 * Motion modes (each paint stroke's `motion`; a trajectory's own `motion` overrides it on the
 * whole painted patch under its first point): fluid paint is the region above. Every
 * 4-connected patch of rigid or shape-preserving paint is a REGION that the solver treats as
 * static (pinned and cut loose, like unpainted pixels); its flows come from its handles
 * instead (gpu/kernels/regionFlow.ts overwrites them after the solve): the trajectories whose
 * first point lies in it, moving ones with their displacement and anchors with zero. A rigid
 * region moves by the least-squares similarity transform of its handles (one handle: a
 * translation); a shape-preserving one by rigid moving least squares of them. A region with
 * no handle stays still.
 * With settings.brushFeather > 0 and the image's grey levels given, the painted labels are
 * snapped to image edges first (motion/regions.ts refineLabels, a guided filter), before the
 * trajectories' modes apply.
 */
import { movableMask, rasterizeBrush, hasPaint, sampleTrajectory } from '../motion';
import { LABEL_FLUID, LABEL_RIGID, LABEL_SHAPE, LABEL_UNPAINTED, applyTrajectoryModes, rasterizeMotionLabels } from '../motion/brush';
import { labelRegions, refineLabels, similarityFit } from '../motion/regions';
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

/** Region mode codes shared with shaders/region_flow.wgsl. */
export const REGION_RIGID = 0;
export const REGION_SHAPE = 1;

/** Rigid and shape-preserving regions: what the region-flow kernel reads. */
export interface RegionConstraints {
  /** Regions R. */
  count: number;
  /** [H * W]: region index, or -1 outside every region (fluid, unpainted). */
  regionOf: Int32Array;
  /** [R, 4] u32: mode (REGION_*), first handle, handle count, 0. */
  info: Uint32Array;
  /** Handles in all regions. */
  handleCount: number;
  /** [handleCount, 2]: handle positions at frame 0 (a trajectory's first point). */
  handles: Float32Array;
  /** [N, handleCount, 2]: displacement of each handle at frame i + 1 (zero for anchors). */
  handleDisp: Float32Array;
  /** [N, R, 4]: the rigid regions' similarity per frame, (a, b, tx, ty): x' = a x - b y + tx, y' = b x + a y + ty. */
  transforms: Float32Array;
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
  /** Rigid and shape-preserving regions (count 0 when all paint is fluid). */
  regions: RegionConstraints;
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

/**
 * `guide`: the image's grey levels in [0, 1], [H * W] (motion/regions.ts greyGuide); needed
 * only to snap the brush to edges (settings.brushFeather > 0), ignored otherwise.
 */
export function buildConstraints(project: Project, options: ConstraintOptions = {}, guide?: ArrayLike<number>): Constraints {
  const { width, height } = project.canvas;
  const n = flowCount(project);
  const frames = n + 1;
  const radius = options.footprintRadius ?? footprintRadius(project.settings.flowUnit);
  const ids = new Int32Array(width * height).fill(ID_FREE);
  const moving: { index: number; disp: Float32Array }[] = [];
  // Every trajectory's start and displacement per flow (zero for anchors): region handles.
  const all: { x: number; y: number; disp: Float32Array | null }[] = [];
  project.trajectories.forEach((traj, index) => {
    if (traj.points.length === 0) return;
    const start = traj.points[0];
    if (traj.points.length === 1) {
      paintDisc(ids, width, height, start.x, start.y, radius, ID_ZERO);
      all.push({ x: start.x, y: start.y, disp: null });
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
    all.push({ x: start.x, y: start.y, disp });
  });
  const feather = project.settings.brushFeather;
  const refine = feather >= 1 && guide !== undefined;
  const hasModes =
    project.brush.some((b) => b.mode === 'paint' && (b.motion === 'rigid' || b.motion === 'shape')) ||
    project.trajectories.some((t) => t.motion === 'rigid' || t.motion === 'shape');
  let painted: boolean;
  let regions = noRegions(width * height);
  if (!refine && !hasModes) {
    // The brush exactly as before motion modes (one mask, all fluid).
    painted = hasPaint(rasterizeBrush(project.brush, project.canvas));
    if (painted) {
      const movable = movableMask(project.brush, project.canvas);
      for (let i = 0; i < ids.length; i++) if (!movable[i]) ids[i] = ID_STATIC;
    }
  } else {
    let labels = rasterizeMotionLabels(project.brush, project.canvas);
    if (refine) labels = refineLabels(labels, guide, width, height, feather, LABEL_SHAPE + 1);
    // After the edge snap, so a trajectory's mode takes the patch as it is cut out.
    applyTrajectoryModes(labels, width, height, project.trajectories);
    painted = labels.some((l) => l !== LABEL_UNPAINTED);
    if (painted) {
      for (let i = 0; i < ids.length; i++) if (labels[i] !== LABEL_FLUID) ids[i] = ID_STATIC;
      regions = buildRegions(labels, width, height, n, all);
    }
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
    regions,
  };
}

function noRegions(pixels: number): RegionConstraints {
  return {
    count: 0,
    regionOf: new Int32Array(pixels).fill(-1),
    info: new Uint32Array(0),
    handleCount: 0,
    handles: new Float32Array(0),
    handleDisp: new Float32Array(0),
    transforms: new Float32Array(0),
  };
}

function buildRegions(
  labels: Uint8Array,
  width: number,
  height: number,
  n: number,
  all: { x: number; y: number; disp: Float32Array | null }[],
): RegionConstraints {
  const { regionOf, labels: regionLabels } = labelRegions(labels, width, height, [LABEL_RIGID, LABEL_SHAPE]);
  const r = regionLabels.length;
  if (r === 0) return noRegions(width * height);
  // A trajectory drives the region its first point's pixel lies in.
  const members: number[][] = regionLabels.map(() => []);
  all.forEach((h, j) => {
    const x = Math.round(h.x);
    const y = Math.round(h.y);
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const region = regionOf[y * width + x];
    if (region >= 0) members[region].push(j);
  });
  const handleCount = members.reduce((k, m) => k + m.length, 0);
  const info = new Uint32Array(r * 4);
  const handles = new Float32Array(handleCount * 2);
  const handleDisp = new Float32Array(n * handleCount * 2);
  const transforms = new Float32Array(n * r * 4);
  let first = 0;
  members.forEach((m, region) => {
    info.set([regionLabels[region] === LABEL_RIGID ? REGION_RIGID : REGION_SHAPE, first, m.length, 0], region * 4);
    m.forEach((j, k) => {
      handles[2 * (first + k)] = all[j].x;
      handles[2 * (first + k) + 1] = all[j].y;
    });
    const src = handles.subarray(2 * first, 2 * (first + m.length));
    const dst = new Float64Array(src.length);
    for (let i = 0; i < n; i++) {
      m.forEach((j, k) => {
        const d = all[j].disp;
        const dx = d ? d[2 * i] : 0;
        const dy = d ? d[2 * i + 1] : 0;
        handleDisp[(i * handleCount + first + k) * 2] = dx;
        handleDisp[(i * handleCount + first + k) * 2 + 1] = dy;
        dst[2 * k] = all[j].x + dx;
        dst[2 * k + 1] = all[j].y + dy;
      });
      transforms.set(similarityFit(src, dst), (i * r + region) * 4);
    }
    first += m.length;
  });
  return { count: r, regionOf, info, handleCount, handles, handleDisp, transforms };
}

/** The per-frame region tables (handleDisp [F, handles, 2], transforms [F, R, 4]) for the given flow indices. */
export function selectRegionFrames(c: Constraints, flowIndices: readonly number[]): { handleDisp: Float32Array; transforms: Float32Array } {
  const g = c.regions;
  const hd = g.handleCount * 2;
  const tr = g.count * 4;
  const handleDisp = new Float32Array(flowIndices.length * hd);
  const transforms = new Float32Array(flowIndices.length * tr);
  flowIndices.forEach((fi, row) => {
    handleDisp.set(g.handleDisp.subarray(fi * hd, (fi + 1) * hd), row * hd);
    transforms.set(g.transforms.subarray(fi * tr, (fi + 1) * tr), row * tr);
  });
  return { handleDisp, transforms };
}

/** Rows of `table` for the given flow indices (0-based: flow i is frame i + 1), as [F, K, 2]. */
export function selectFrames(c: Constraints, flowIndices: readonly number[]): Float32Array {
  const out = new Float32Array(flowIndices.length * c.k * 2);
  flowIndices.forEach((fi, row) => out.set(c.table.subarray(fi * c.k * 2, (fi + 1) * c.k * 2), row * c.k * 2));
  return out;
}
