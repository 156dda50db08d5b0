/**
 * Draws the editor overlay on a 2D canvas in canvas pixels: the motion-brush tint, each
 * trajectory's curve with arrows and one dot per frame (from sampleTrajectory, so the timing is
 * visible: dots bunch up where the point moves slowly), its control points, and the Flow Unit
 * patch of the selected trajectory. Pure drawing, no React.
 */
import { LABEL_RIGID, LABEL_SHAPE, rasterizeBrush, rasterizeMotionLabels } from '../motion/brush';
import { sampleTrajectory } from '../motion/trajectory';
import type { BrushStroke, CanvasSize, Point, Project, Trajectory } from '../motion/types';
import type { PointRef } from '../state/editor';
import { curvePolyline } from './tools/hitTest';

export interface OverlayState {
  project: Project;
  selectedTrajectoryId: string | null;
  selectedPoint: PointRef | null;
  hoverPoint: PointRef | null;
  activeTrajectoryId: string | null;
  sketch: Point[] | null;
  brushCursor: { x: number; y: number; radius: number; erase: boolean } | null;
  /** The keyboard pointer's cursor, drawn as a crosshair; null when the canvas does not have the keyboard. */
  keyboardCursor?: Point | null;
  /** Canvas pixels per CSS pixel: sizes below are in CSS pixels. */
  px: number;
}

/** Painted (movable) pixels are tinted with this colour (fluid paint)... */
const BRUSH_TINT: [number, number, number, number] = [168, 85, 247, 110];
/** ...rigid paint with this one, shape-preserving paint with this one. */
const RIGID_TINT: [number, number, number, number] = [255, 149, 0, 120];
const SHAPE_TINT: [number, number, number, number] = [48, 176, 199, 120];

/** Distance between arrowheads along a curve (CSS pixels). */
const ARROW_SPACING = 70;

let paintCache: { strokes: readonly BrushStroke[]; width: number; height: number; painted: Uint8Array; tint: ImageData | null } | null =
  null;

function brushRaster(strokes: readonly BrushStroke[], canvas: CanvasSize): { painted: Uint8Array; tint: ImageData | null } {
  const c = paintCache;
  if (c && c.strokes === strokes && c.width === canvas.width && c.height === canvas.height) return c;
  const painted =
    c && c.width === canvas.width && c.height === canvas.height ? extendLastStroke(c.strokes, c.painted, strokes, canvas) : null;
  if (painted) {
    paintCache = { strokes, width: canvas.width, height: canvas.height, painted, tint: null };
    return paintCache;
  }
  return rasterizeAll(strokes, canvas);
}

/**
 * While painting, only the last stroke grows: stamp its new segments onto the previous raster
 * instead of redrawing every stroke on every pointer move. The last stroke is applied last,
 * so this equals a full rasterisation. Returns null when the change is anything else.
 */
function extendLastStroke(
  prev: readonly BrushStroke[],
  prevPainted: Uint8Array,
  next: readonly BrushStroke[],
  canvas: CanvasSize,
): Uint8Array | null {
  const n = next.length;
  if (n === 0 || prev.length !== n) return null;
  for (let i = 0; i < n - 1; i++) if (prev[i] !== next[i]) return null;
  const a = prev[n - 1];
  const b = next[n - 1];
  if (a.mode !== b.mode || a.radius !== b.radius || a.points.length === 0 || b.points.length < a.points.length) return null;
  for (let i = 0; i < a.points.length; i++) if (a.points[i].x !== b.points[i].x || a.points[i].y !== b.points[i].y) return null;
  const added = rasterizeBrush([{ mode: 'paint', radius: b.radius, points: b.points.slice(a.points.length - 1) }], canvas);
  const out = prevPainted.slice();
  const value = b.mode === 'erase' ? 0 : 1;
  for (let i = 0; i < out.length; i++) if (added[i]) out[i] = value;
  return out;
}

function rasterizeAll(strokes: readonly BrushStroke[], canvas: CanvasSize): { painted: Uint8Array; tint: ImageData | null } {
  const painted = rasterizeBrush(strokes, canvas);
  paintCache = { strokes, width: canvas.width, height: canvas.height, painted, tint: null };
  return paintCache;
}

/** Painted (may move) pixels of the brush, [H, W] (cached on the strokes array identity). */
export function paintedMask(strokes: readonly BrushStroke[], canvas: CanvasSize): Uint8Array {
  return brushRaster(strokes, canvas).painted;
}

/** The brush tint as an ImageData (cached with the mask). */
export function brushTint(strokes: readonly BrushStroke[], canvas: CanvasSize): ImageData | null {
  if (!strokes.length) return null;
  const r = brushRaster(strokes, canvas);
  if (r.tint) return r.tint;
  const image = new ImageData(canvas.width, canvas.height);
  const d = image.data;
  // Only projects that use motion modes pay for the labelled raster (not incremental).
  const labels = strokes.some((b) => b.mode === 'paint' && b.motion !== undefined && b.motion !== 'fluid')
    ? rasterizeMotionLabels(strokes, canvas)
    : null;
  for (let i = 0; i < r.painted.length; i++) {
    if (!r.painted[i]) continue;
    const l = labels ? labels[i] : 0;
    d.set(l === LABEL_RIGID ? RIGID_TINT : l === LABEL_SHAPE ? SHAPE_TINT : BRUSH_TINT, i * 4);
  }
  r.tint = image;
  return image;
}

let tintCanvas: OffscreenCanvas | null = null;

export function drawOverlay(ctx: CanvasRenderingContext2D, s: OverlayState): void {
  const { project, px } = s;
  const { width, height } = project.canvas;
  ctx.clearRect(0, 0, width, height);

  const tint = brushTint(project.brush, project.canvas);
  if (tint) {
    // putImageData ignores compositing; draw through an offscreen canvas to blend over the photo.
    if (!tintCanvas || tintCanvas.width !== width || tintCanvas.height !== height) tintCanvas = new OffscreenCanvas(width, height);
    tintCanvas.getContext('2d')!.putImageData(tint, 0, 0);
    ctx.drawImage(tintCanvas, 0, 0);
  }

  const selected = project.trajectories.find((t) => t.id === s.selectedTrajectoryId);
  if (selected) drawFlowUnit(ctx, selected, project.settings.flowUnit, px);

  for (const t of project.trajectories) {
    if (t.id !== s.selectedTrajectoryId) drawTrajectory(ctx, t, s, false);
  }
  // The selected trajectory on top.
  if (selected) drawTrajectory(ctx, selected, s, true);

  if (s.sketch && s.sketch.length > 1) {
    ctx.save();
    ctx.setLineDash([6 * px, 4 * px]);
    ctx.lineWidth = 2 * px;
    ctx.strokeStyle = '#ffffff';
    polyline(ctx, s.sketch);
    ctx.stroke();
    ctx.restore();
  }

  if (s.keyboardCursor) {
    // Dark under light so it shows on any photo; a gap at the centre leaves the pixel visible.
    const { x, y } = s.keyboardCursor;
    const r = 10 * px;
    const gap = 3 * px;
    ctx.save();
    for (const [width, colour] of [
      [4 * px, 'rgba(0, 0, 0, 0.75)'],
      [2 * px, '#ffd60a'],
    ] as const) {
      ctx.lineWidth = width;
      ctx.strokeStyle = colour;
      ctx.beginPath();
      ctx.moveTo(x - r, y);
      ctx.lineTo(x - gap, y);
      ctx.moveTo(x + gap, y);
      ctx.lineTo(x + r, y);
      ctx.moveTo(x, y - r);
      ctx.lineTo(x, y - gap);
      ctx.moveTo(x, y + gap);
      ctx.lineTo(x, y + r);
      ctx.stroke();
    }
    ctx.restore();
  }

  if (s.brushCursor) {
    const c = s.brushCursor;
    ctx.save();
    ctx.lineWidth = 1.5 * px;
    ctx.strokeStyle = c.erase ? '#ffffff' : 'rgb(216, 180, 254)';
    ctx.setLineDash(c.erase ? [4 * px, 3 * px] : []);
    ctx.beginPath();
    ctx.arc(c.x, c.y, c.radius, 0, Math.PI * 2);
    ctx.stroke();
    ctx.restore();
  }
}

function polyline(ctx: CanvasRenderingContext2D, pts: readonly Point[]): void {
  ctx.beginPath();
  pts.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
}

/** The square the reference writes the drag's flow into: rows/cols [int(p) - u, int(p) + u). */
function drawFlowUnit(ctx: CanvasRenderingContext2D, t: Trajectory, u: number, px: number): void {
  const p = t.points[0];
  const x0 = Math.max(Math.trunc(p.x) - u, 0);
  const y0 = Math.max(Math.trunc(p.y) - u, 0);
  const x1 = Math.trunc(p.x) + u;
  const y1 = Math.trunc(p.y) + u;
  ctx.save();
  ctx.fillStyle = withAlpha(t.color, 0.12);
  ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
  ctx.setLineDash([5 * px, 4 * px]);
  ctx.lineWidth = 1 * px;
  ctx.strokeStyle = withAlpha(t.color, 0.9);
  ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0 - 1, y1 - y0 - 1);
  ctx.restore();
}

function drawArrowHead(ctx: CanvasRenderingContext2D, tip: Point, from: Point, size: number): void {
  const a = Math.atan2(tip.y - from.y, tip.x - from.x);
  ctx.beginPath();
  ctx.moveTo(tip.x, tip.y);
  ctx.lineTo(tip.x - size * Math.cos(a - 0.45), tip.y - size * Math.sin(a - 0.45));
  ctx.lineTo(tip.x - size * Math.cos(a + 0.45), tip.y - size * Math.sin(a + 0.45));
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
}

function drawTrajectory(ctx: CanvasRenderingContext2D, t: Trajectory, s: OverlayState, isSelected: boolean): void {
  const px = s.px;
  const color = t.color;
  ctx.save();
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  if (t.points.length > 1) {
    const line = curvePolyline(t);
    // Dark halo so the curve reads on light and dark photos.
    ctx.strokeStyle = 'rgba(0,0,0,0.55)';
    ctx.lineWidth = (isSelected ? 6 : 5) * px;
    polyline(ctx, line);
    ctx.stroke();
    ctx.strokeStyle = color;
    ctx.lineWidth = (isSelected ? 3.5 : 2.5) * px;
    polyline(ctx, line);
    ctx.stroke();

    // Arrowheads every ARROW_SPACING pixels of curve, and one whose tip touches the last point.
    ctx.fillStyle = color;
    ctx.strokeStyle = 'rgba(0,0,0,0.6)';
    ctx.lineWidth = 1 * px;
    const cum = [0];
    for (let i = 1; i < line.length; i++) cum.push(cum[i - 1] + Math.hypot(line[i].x - line[i - 1].x, line[i].y - line[i - 1].y));
    const total = cum[cum.length - 1];
    const at = (d: number): { p: Point; back: Point } => {
      let i = 1;
      while (i < cum.length - 1 && cum[i] < d) i++;
      const f = cum[i] > cum[i - 1] ? (d - cum[i - 1]) / (cum[i] - cum[i - 1]) : 0;
      const p = { x: line[i - 1].x + f * (line[i].x - line[i - 1].x), y: line[i - 1].y + f * (line[i].y - line[i - 1].y) };
      return { p, back: line[i - 1].x === p.x && line[i - 1].y === p.y ? line[Math.max(0, i - 2)] : line[i - 1] };
    };
    const spacing = ARROW_SPACING * px;
    for (let d = spacing; d < total - spacing * 0.6; d += spacing) {
      const { p, back } = at(d);
      drawArrowHead(ctx, p, back, 9 * px);
    }
    if (total > 8 * px) {
      const { p, back } = at(total - 7 * px);
      drawArrowHead(ctx, p, back, 13 * px);
    }

    // One dot per frame: where the point is at frames 1..F-1 with this timing.
    const frames = sampleTrajectory(t, s.project.settings.frames);
    for (let f = 1; f < frames.length; f++) {
      ctx.beginPath();
      ctx.arc(frames[f].x, frames[f].y, 2.2 * px, 0, Math.PI * 2);
      ctx.fillStyle = '#ffffff';
      ctx.fill();
      ctx.lineWidth = 1 * px;
      ctx.strokeStyle = 'rgba(0,0,0,0.7)';
      ctx.stroke();
    }
  }

  t.points.forEach((p, i) => {
    const sel = s.selectedPoint?.trajectoryId === t.id && s.selectedPoint.index === i;
    const hover = s.hoverPoint?.trajectoryId === t.id && s.hoverPoint.index === i;
    const r = (i === 0 ? 6 : 5) * px * (hover ? 1.25 : 1);
    ctx.beginPath();
    ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
    ctx.fillStyle = color;
    ctx.fill();
    ctx.lineWidth = (sel ? 3 : 1.5) * px;
    ctx.strokeStyle = sel ? '#ffffff' : 'rgba(0,0,0,0.75)';
    ctx.stroke();
    if (t.points.length === 1) {
      // Anchor: a pin mark (cross) inside the dot.
      ctx.beginPath();
      ctx.moveTo(p.x - r * 0.55, p.y);
      ctx.lineTo(p.x + r * 0.55, p.y);
      ctx.moveTo(p.x, p.y - r * 0.55);
      ctx.lineTo(p.x, p.y + r * 0.55);
      ctx.lineWidth = 1.5 * px;
      ctx.strokeStyle = '#000000';
      ctx.stroke();
    }
  });
  if (s.activeTrajectoryId === t.id) {
    // The trajectory being drawn: a ring around its last point says "next click continues here".
    const last = t.points[t.points.length - 1];
    ctx.beginPath();
    ctx.arc(last.x, last.y, 10 * px, 0, Math.PI * 2);
    ctx.setLineDash([3 * px, 3 * px]);
    ctx.lineWidth = 1.5 * px;
    ctx.strokeStyle = '#ffffff';
    ctx.stroke();
  }
  ctx.restore();
}

/** '#rrggbb' or 'hsl(...)'/'rgb(...)' with an alpha. */
function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (m) {
    const v = parseInt(m[1], 16);
    return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
  }
  if (color.startsWith('hsl(')) return color.replace(/^hsl\((.*)\)$/, `hsla($1, ${alpha})`);
  if (color.startsWith('rgb(')) return color.replace(/^rgb\((.*)\)$/, `rgba($1, ${alpha})`);
  return color;
}
