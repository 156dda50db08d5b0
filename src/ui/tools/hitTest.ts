/**
 * Hit testing for the trajectory tool. Only points are hit (curves never capture a click), so
 * a point lying under another trajectory's curve stays reachable and an anchor can be placed on
 * a path; several points within reach are returned nearest first so repeated clicks can cycle
 * through them.
 */
import { sampleTrajectory } from '../../motion/trajectory';
import type { Point, Project, Trajectory } from '../../motion/types';
import type { PointRef } from '../../state/editor';

export interface PointHit extends PointRef {
  distance: number;
}

/** All points within `radius` canvas pixels of p, nearest first (ties: later trajectory first, it is drawn on top). */
export function hitPoints(project: Project, p: Point, radius: number): PointHit[] {
  const hits: (PointHit & { order: number })[] = [];
  project.trajectories.forEach((t, ti) =>
    t.points.forEach((q, index) => {
      const d = Math.hypot(q.x - p.x, q.y - p.y);
      if (d <= radius) hits.push({ trajectoryId: t.id, index, distance: d, order: ti });
    }),
  );
  hits.sort((a, b) => a.distance - b.distance || b.order - a.order);
  return hits.map(({ trajectoryId, index, distance }) => ({ trajectoryId, index, distance }));
}

/** Samples per clicked segment when drawing or hit-testing a curve. */
export const CURVE_SAMPLES_PER_SEGMENT = 16;

/** The curve's shape (timing ignored), as a dense polyline. */
export function curvePolyline(t: Pick<Trajectory, 'points'>): Point[] {
  if (t.points.length < 2) return t.points.slice();
  const n = (t.points.length - 1) * CURVE_SAMPLES_PER_SEGMENT + 1;
  return sampleTrajectory({ points: t.points, timing: { mode: 'reference', startFrame: 0, endFrame: n - 1 } }, n);
}
