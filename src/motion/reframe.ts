/**
 * Reframing: the canvas shape or the crop changes, and the drawing stays on the photo.
 *
 * Trajectories and brush strokes are drawn on the photo's content, in canvas pixels. The crop says
 * which rectangle of the original image fills the canvas, so a canvas point p shows image point
 * crop.xy + p * crop.size / canvas.size. When the canvas or the crop changes, each point is mapped
 * through the old framing to the image and back through the new one, so a path drawn on a face
 * stays on that face; brush radii scale with the change of image pixels per canvas pixel. Points the
 * new framing leaves outside the canvas are kept at its edge (the project holds only canvas points).
 */
import { PROJECT_LIMITS } from './project';
import type { BrushStroke, CanvasSize, CropBox, Point, Project, Trajectory } from './types';

export interface Framing {
  canvas: CanvasSize;
  crop: CropBox | null;
}

/** `project`'s drawing, drawn under its own canvas and crop, moved to framing `to` (canvas and crop set to `to`'s). */
export function reframe(project: Project, to: Framing): Project {
  const from: Framing = project;
  const { canvas } = to;
  const clamp = (p: Point): Point => ({
    ...p,
    x: Math.min(Math.max(p.x, 0), canvas.width - 1),
    y: Math.min(Math.max(p.y, 0), canvas.height - 1),
  });
  let move: (p: Point) => Point = clamp;
  let radiusScale = 1;
  if (from.crop && to.crop) {
    const a = from.crop;
    const b = to.crop;
    const ax = a.width / from.canvas.width;
    const ay = a.height / from.canvas.height;
    const bx = b.width / canvas.width;
    const by = b.height / canvas.height;
    move = (p) => clamp({ ...p, x: (a.x + p.x * ax - b.x) / bx, y: (a.y + p.y * ay - b.y) / by });
    radiusScale = Math.sqrt((ax * ay) / (bx * by));
  }
  const trajectories = project.trajectories.map((t): Trajectory => ({ ...t, points: t.points.map(move) }));
  const brush = project.brush.map(
    (s): BrushStroke => ({ ...s, radius: Math.min(PROJECT_LIMITS.brushRadiusMax, s.radius * radiusScale), points: s.points.map(move) }),
  );
  return { ...project, canvas: { ...canvas }, crop: to.crop, trajectories, brush };
}
