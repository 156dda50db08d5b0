/**
 * TrajectoryTool: click to add points to the trajectory being drawn (the reference's
 * behaviour; a single click is an anchor), press-drag on empty canvas to sketch one freehand
 * (simplified to a few points), press-drag a point to move it, click a point to select it
 * (repeated clicks cycle through points lying within reach), Delete removes the selected
 * point (or the selected trajectory when no point is selected), Enter finishes the trajectory being drawn, Esc cancels a gesture.
 *
 *   idle --down--> pointing --move past threshold--> dragging-point (on a point)
 *                                                 \-> sketching      (elsewhere)
 *   pointing --up--> idle (a click: select / add point / new trajectory)
 *   dragging-point, sketching --up--> idle (commit) | --Esc--> idle (roll back)
 */
import { defaultTiming, simplifyStroke } from '../../motion/trajectory';
import { PROJECT_LIMITS, countPoints, newTrajectoryId, nextTrajectoryColor } from '../../motion/project';
import type { Point, Trajectory } from '../../motion/types';
import { useEditorStore, type PointRef } from '../../state/editor';
import { useProjectStore } from '../../state/project';
import { hitPoints } from './hitTest';
import { DRAG_THRESHOLD_CSS, POINT_HIT_CSS, distance, snapToCanvas, type CanvasPointer, type Tool } from './types';

/** Freehand sketches are simplified with this tolerance (canvas pixels) to at most this many points. */
export const SKETCH_TOLERANCE = 3;
export const SKETCH_MAX_POINTS = 8;

type State =
  | { name: 'idle' }
  | { name: 'pointing'; downAt: Point; pixelScale: number }
  | { name: 'dragging-point'; ref: PointRef; origin: Point; downAt: Point }
  | { name: 'sketching'; points: Point[] };

export class TrajectoryTool implements Tool {
  readonly name = 'trajectory';
  private state: State = { name: 'idle' };
  /** Live freehand stroke for the overlay (not in the project until released). */
  sketch: Point[] | null = null;
  /** Called when the sketch preview changes (the canvas redraws its overlay). */
  onChange: () => void = () => undefined;

  get stateName(): string {
    return this.state.name;
  }

  private get project() {
    return useProjectStore.getState().project;
  }

  onPointerDown(e: CanvasPointer): void {
    if (this.state.name !== 'idle') this.cancel();
    this.state = { name: 'pointing', downAt: e.point, pixelScale: e.pixelScale };
  }

  onPointerMove(e: CanvasPointer): void {
    const s = this.state;
    if (s.name === 'idle') {
      const hit = hitPoints(this.project, e.point, POINT_HIT_CSS * e.pixelScale)[0] ?? null;
      const editor = useEditorStore.getState();
      const cur = editor.hoverPoint;
      if (cur?.trajectoryId !== hit?.trajectoryId || cur?.index !== hit?.index) {
        editor.setHover(hit ? { trajectoryId: hit.trajectoryId, index: hit.index } : null);
      }
      return;
    }
    if (s.name === 'pointing') {
      if (distance(s.downAt, e.point) <= DRAG_THRESHOLD_CSS * e.pixelScale) return;
      const target = this.pointToDrag(s.downAt, e.pixelScale);
      if (target) {
        const t = this.project.trajectories.find((x) => x.id === target.trajectoryId)!;
        useProjectStore.getState().mark();
        useEditorStore.getState().select(target.trajectoryId, target);
        this.state = { name: 'dragging-point', ref: target, origin: t.points[target.index], downAt: s.downAt };
      } else {
        this.state = { name: 'sketching', points: [s.downAt] };
        this.sketch = [s.downAt];
      }
    }
    const d = this.state;
    if (d.name === 'dragging-point') {
      // Recomputed from the gesture start on every move (no drift).
      const p = snapToCanvas({ x: d.origin.x + e.point.x - d.downAt.x, y: d.origin.y + e.point.y - d.downAt.y }, this.project.canvas);
      useProjectStore.getState().movePoint(d.ref.trajectoryId, d.ref.index, p);
    } else if (d.name === 'sketching') {
      const last = d.points[d.points.length - 1];
      if (distance(last, e.point) >= 1) {
        d.points.push(e.point);
        this.sketch = d.points.slice();
        this.onChange();
      }
    }
  }

  onPointerUp(e: CanvasPointer): void {
    const s = this.state;
    this.state = { name: 'idle' };
    if (s.name === 'pointing') this.click(s.downAt, s.pixelScale);
    else if (s.name === 'dragging-point') useProjectStore.getState().commit();
    else if (s.name === 'sketching') this.finishSketch([...s.points, e.point]);
  }

  onPointerLeave(): void {
    if (this.state.name === 'idle') useEditorStore.getState().setHover(null);
  }

  onKeyDown(key: string): boolean {
    const editor = useEditorStore.getState();
    if (key === 'Escape') {
      if (this.state.name !== 'idle') {
        this.cancel();
        return true;
      }
      if (editor.activeTrajectoryId) editor.setActiveTrajectory(null);
      else editor.select(null);
      return true;
    }
    if (key === 'Enter') {
      editor.setActiveTrajectory(null);
      return true;
    }
    if ((key === 'Delete' || key === 'Backspace') && this.state.name === 'idle') {
      const sel = editor.selectedPoint;
      if (!sel) {
        // A trajectory selected as a whole (side panel): delete it.
        const id = editor.selectedTrajectoryId;
        if (!id) return false;
        useProjectStore.getState().removeTrajectory(id);
        if (editor.activeTrajectoryId === id) editor.setActiveTrajectory(null);
        editor.select(null);
        return true;
      }
      const t = this.project.trajectories.find((x) => x.id === sel.trajectoryId);
      useProjectStore.getState().removePoint(sel.trajectoryId, sel.index);
      if (t && t.points.length === 1) {
        if (editor.activeTrajectoryId === t.id) editor.setActiveTrajectory(null);
        editor.select(null);
      } else {
        editor.select(sel.trajectoryId, null);
      }
      return true;
    }
    return false;
  }

  cancel(): void {
    const s = this.state;
    this.state = { name: 'idle' };
    this.sketch = null;
    if (s.name === 'dragging-point') useProjectStore.getState().cancel();
    this.onChange();
  }

  /** The point a drag starting at p moves: the selected one if within reach, else the nearest. */
  private pointToDrag(p: Point, pixelScale: number): PointRef | null {
    const hits = hitPoints(this.project, p, POINT_HIT_CSS * pixelScale);
    if (!hits.length) return null;
    const sel = useEditorStore.getState().selectedPoint;
    const chosen = hits.find((h) => sel && h.trajectoryId === sel.trajectoryId && h.index === sel.index) ?? hits[0];
    return { trajectoryId: chosen.trajectoryId, index: chosen.index };
  }

  private click(p: Point, pixelScale: number): void {
    const editor = useEditorStore.getState();
    const store = useProjectStore.getState();
    const project = this.project;
    const hits = hitPoints(project, p, POINT_HIT_CSS * pixelScale);
    if (hits.length) {
      // Cycle: a click where the selected point is within reach selects the next one.
      const sel = editor.selectedPoint;
      const k = hits.findIndex((h) => sel && h.trajectoryId === sel.trajectoryId && h.index === sel.index);
      const h = hits[k >= 0 ? (k + 1) % hits.length : 0];
      editor.select(h.trajectoryId, { trajectoryId: h.trajectoryId, index: h.index });
      return;
    }
    // Not on a point: always a new point, even on top of another curve (anchors often sit on paths).
    const active = project.trajectories.find((t) => t.id === editor.activeTrajectoryId);
    const q = snapToCanvas(p, project.canvas);
    const refusal = this.refusal(active ? active.points.length + 1 : null);
    if (refusal) {
      editor.showMessage({ kind: 'error', code: 'limit', text: refusal });
      return;
    }
    if (active) {
      store.addPoint(active.id, q);
      editor.select(active.id, { trajectoryId: active.id, index: active.points.length });
      return;
    }
    const t = this.newTrajectory([q]);
    store.addTrajectory(t);
    editor.setActiveTrajectory(t.id);
    editor.select(t.id, { trajectoryId: t.id, index: 0 });
  }

  /**
   * Why a new point (in a path that would then have `pathPoints`, or a new trajectory when
   * null) is refused: the document limits are checked here, at the input, with a message.
   */
  private refusal(pathPoints: number | null): string | null {
    const L = PROJECT_LIMITS;
    const p = this.project;
    if (pathPoints === null && p.trajectories.length >= L.maxTrajectories) {
      return `A project holds at most ${L.maxTrajectories} trajectories. Delete one to add another.`;
    }
    if (pathPoints !== null && pathPoints > L.trajectoryPointsMax)
      return `A trajectory holds at most ${L.trajectoryPointsMax} points. Press Enter and start a new one.`;
    if (countPoints(p.trajectories) >= L.trajectoryPointsTotalMax) {
      return `The trajectories hold ${L.trajectoryPointsTotalMax} points in all, the most a project can; delete or simplify some to add more.`;
    }
    return null;
  }

  private finishSketch(raw: Point[]): void {
    this.sketch = null;
    const refusal = this.refusal(null);
    if (refusal) {
      useEditorStore.getState().showMessage({ kind: 'error', code: 'limit', text: refusal });
      this.onChange();
      return;
    }
    const canvas = this.project.canvas;
    const snapped = simplifyStroke(
      raw.map((p) => snapToCanvas(p, canvas)),
      SKETCH_TOLERANCE,
      SKETCH_MAX_POINTS,
    );
    const editor = useEditorStore.getState();
    const t = this.newTrajectory(snapped.length ? snapped : [snapToCanvas(raw[0], canvas)]);
    useProjectStore.getState().addTrajectory(t);
    editor.setActiveTrajectory(null);
    editor.select(t.id, null);
    this.onChange();
  }

  private newTrajectory(points: Point[]): Trajectory {
    const project = this.project;
    return {
      id: newTrajectoryId(),
      points,
      color: nextTrajectoryColor(project.trajectories),
      timing: defaultTiming(project.settings.frames),
    };
  }
}
