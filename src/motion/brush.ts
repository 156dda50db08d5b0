/**
 * Motion brush rasterisation.
 *
 * A stroke is a polyline with a radius: it covers every pixel whose CENTRE (x + 0.5, y + 0.5)
 * lies within `radius` of the polyline, i.e. disks at the points joined by capsules (round caps
 * and joins). A one-point stroke is a disk. Strokes are applied in order: 'paint' sets pixels
 * to 1, 'erase' sets them back to 0.
 *
 * Reference semantics (demo `run`): painted pixels are the region ALLOWED to move; its
 * `brush_mask` is 1 on unpainted (static) pixels, and if that mask is 1 everywhere (nothing
 * painted) it is replaced by zeros, i.e. everything may move. We keep the reference's
 * painted = movable meaning; the demo's linear resize + threshold of the Gradio sketch layer
 * is not needed because we rasterise directly at canvas resolution.
 */
import type { BrushStroke, CanvasSize, Point, Trajectory } from './types';

function checkCanvas(canvas: CanvasSize, fn: string): void {
  if (!Number.isInteger(canvas.width) || !Number.isInteger(canvas.height) || canvas.width < 1 || canvas.height < 1) {
    throw new RangeError(`${fn}: canvas must have positive integer width and height (got ${canvas.width}x${canvas.height})`);
  }
}

/** Set pixels within `radius` of segment a-b (pixel centres) to `value`. */
function stampCapsule(out: Uint8Array, width: number, height: number, a: Point, b: Point, radius: number, value: number): void {
  const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - radius - 0.5));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(a.x, b.x) + radius - 0.5));
  const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - radius - 0.5));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(a.y, b.y) + radius - 0.5));
  if (x0 > x1 || y0 > y1) return;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const r2 = radius * radius;
  for (let y = y0; y <= y1; y++) {
    const py = y + 0.5;
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5;
      let t = len2 > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - (a.x + t * dx);
      const ey = py - (a.y + t * dy);
      if (ex * ex + ey * ey <= r2) out[y * width + x] = value;
    }
  }
}

/** Painted pixels (1 = painted = may move), row-major [H, W], strokes applied in order. */
export function rasterizeBrush(strokes: readonly BrushStroke[], canvas: CanvasSize): Uint8Array {
  checkCanvas(canvas, 'rasterizeBrush');
  const { width, height } = canvas;
  const out = new Uint8Array(width * height);
  for (const stroke of strokes) {
    if (!(stroke.radius > 0) || stroke.points.length === 0) continue;
    const value = stroke.mode === 'erase' ? 0 : 1;
    const pts = stroke.points;
    if (pts.length === 1) stampCapsule(out, width, height, pts[0], pts[0], stroke.radius, value);
    for (let i = 0; i + 1 < pts.length; i++) stampCapsule(out, width, height, pts[i], pts[i + 1], stroke.radius, value);
  }
  return out;
}

/** True when at least one pixel ends up painted (erasing everything counts as nothing painted). */
export function hasPaint(painted: Uint8Array): boolean {
  return painted.some((v) => v !== 0);
}

/**
 * Where motion is allowed (1 = may move), [H, W]. Reference semantics: if nothing is painted,
 * everything may move.
 */
export function movableMask(strokes: readonly BrushStroke[], canvas: CanvasSize): Uint8Array {
  const painted = rasterizeBrush(strokes, canvas);
  if (!hasPaint(painted)) painted.fill(1);
  return painted;
}

/** The reference's brush_mask: 1 = static (unpainted while something is painted), [H, W]. */
export function staticMask(strokes: readonly BrushStroke[], canvas: CanvasSize): Uint8Array {
  const movable = movableMask(strokes, canvas);
  for (let i = 0; i < movable.length; i++) movable[i] = 1 - movable[i];
  return movable;
}

/** Region label codes of rasterizeMotionLabels: 0 unpainted, then 1 + index in MOTION_MODES. */
export const LABEL_UNPAINTED = 0;
export const LABEL_FLUID = 1;
export const LABEL_RIGID = 2;
export const LABEL_SHAPE = 3;

/**
 * Painted pixels with the motion mode of the stroke that painted them last, [H, W]: 0
 * unpainted, 1 fluid, 2 rigid, 3 shape (LABEL_*). Same coverage as rasterizeBrush.
 */
export function rasterizeMotionLabels(strokes: readonly BrushStroke[], canvas: CanvasSize): Uint8Array {
  checkCanvas(canvas, 'rasterizeMotionLabels');
  const { width, height } = canvas;
  const out = new Uint8Array(width * height);
  for (const stroke of strokes) {
    if (!(stroke.radius > 0) || stroke.points.length === 0) continue;
    const value =
      stroke.mode === 'erase'
        ? LABEL_UNPAINTED
        : stroke.motion === 'rigid'
          ? LABEL_RIGID
          : stroke.motion === 'shape'
            ? LABEL_SHAPE
            : LABEL_FLUID;
    const pts = stroke.points;
    if (pts.length === 1) stampCapsule(out, width, height, pts[0], pts[0], stroke.radius, value);
    for (let i = 0; i + 1 < pts.length; i++) stampCapsule(out, width, height, pts[i], pts[i + 1], stroke.radius, value);
  }
  return out;
}

/**
 * Per-trajectory modes on a label map from rasterizeMotionLabels (in place): every trajectory
 * with `motion` gives the 4-connected painted patch (any label but LABEL_UNPAINTED) under its
 * first point (rounded to a pixel) that mode; later trajectories win on a shared patch. A start
 * off paint or off the canvas changes nothing. Returns whether any label changed.
 */
export function applyTrajectoryModes(labels: Uint8Array, width: number, height: number, trajectories: readonly Trajectory[]): boolean {
  let changed = false;
  const seen = new Uint8Array(width * height);
  for (const t of trajectories) {
    if (t.motion === undefined || t.points.length === 0) continue;
    const x = Math.round(t.points[0].x);
    const y = Math.round(t.points[0].y);
    if (x < 0 || y < 0 || x >= width || y >= height || labels[y * width + x] === LABEL_UNPAINTED) continue;
    const value = t.motion === 'rigid' ? LABEL_RIGID : t.motion === 'shape' ? LABEL_SHAPE : LABEL_FLUID;
    seen.fill(0);
    const stack = [y * width + x];
    seen[stack[0]] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      if (labels[i] !== value) changed = true;
      labels[i] = value;
      const cx = i % width;
      for (const j of [cx > 0 ? i - 1 : -1, cx + 1 < width ? i + 1 : -1, i - width, i + width]) {
        if (j >= 0 && j < labels.length && labels[j] !== LABEL_UNPAINTED && !seen[j]) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
  }
  return changed;
}

/** Whether `stroke` covers (pixel centres within its radius) any pixel where mask is non-zero. */
export function strokeTouches(stroke: BrushStroke, canvas: CanvasSize, mask: Uint8Array): boolean {
  const { width, height } = canvas;
  const r = stroke.radius;
  const pts = stroke.points;
  if (!(r > 0) || pts.length === 0) return false;
  const segs: [Point, Point][] = pts.length === 1 ? [[pts[0], pts[0]]] : pts.slice(1).map((b, i) => [pts[i], b]);
  for (const [a, b] of segs) {
    const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - r - 0.5));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(a.x, b.x) + r - 0.5));
    const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - r - 0.5));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(a.y, b.y) + r - 0.5));
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len2 = dx * dx + dy * dy;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (!mask[y * width + x]) continue;
        let t = len2 > 0 ? ((x + 0.5 - a.x) * dx + (y + 0.5 - a.y) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        if ((x + 0.5 - (a.x + t * dx)) ** 2 + (y + 0.5 - (a.y + t * dy)) ** 2 <= r * r) return true;
      }
    }
  }
  return false;
}

/**
 * The paint strokes (indices) that make up the 4-connected painted patch under pixel (x, y):
 * those that cover any pixel of it. Empty when (x, y) is not painted.
 */
export function strokesOfPatch(strokes: readonly BrushStroke[], canvas: CanvasSize, x: number, y: number): number[] {
  const { width, height } = canvas;
  const px = Math.floor(x);
  const py = Math.floor(y);
  if (px < 0 || py < 0 || px >= width || py >= height) return [];
  const painted = rasterizeBrush(strokes, canvas);
  if (!painted[py * width + px]) return [];
  // Flood fill the patch.
  const patch = new Uint8Array(width * height);
  const stack = [py * width + px];
  patch[stack[0]] = 1;
  while (stack.length) {
    const i = stack.pop()!;
    const cx = i % width;
    for (const j of [cx > 0 ? i - 1 : -1, cx + 1 < width ? i + 1 : -1, i - width, i + width]) {
      if (j >= 0 && j < painted.length && painted[j] && !patch[j]) {
        patch[j] = 1;
        stack.push(j);
      }
    }
  }
  const out: number[] = [];
  strokes.forEach((s, k) => {
    if (s.mode === 'paint' && strokeTouches(s, canvas, patch)) out.push(k);
  });
  return out;
}
