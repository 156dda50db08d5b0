/**
 * BrushTool: paint (may move) or erase with a round brush of the editor's radius. One stroke
 * per press: a history mark at press, live updates while dragging, one undo step at release,
 * Esc rolls the stroke back. Shift+click with the paint brush gives the painted patch under
 * the pointer the current Paint motion (one undo step) instead of painting.
 *
 *   idle --down--> painting --move--> painting --up--> idle (commit) | --Esc--> idle (roll back)
 */
import { strokesOfPatch } from '../../motion/brush';
import { PROJECT_LIMITS, countPoints, simplifyToBudget } from '../../motion/project';
import type { Point } from '../../motion/types';
import { useEditorStore } from '../../state/editor';
import { useProjectStore } from '../../state/project';
import type { CanvasPointer, Tool } from './types';

/** Stroke points closer than this (canvas pixels) to the previous one are skipped. */
export const BRUSH_SPACING = 1;
/**
 * Released strokes are simplified (RDP) with this tolerance, canvas pixels: the painted area
 * moves by at most this much, and a long drag keeps a few points instead of one per pixel.
 */
export const BRUSH_SIMPLIFY_TOLERANCE = 0.25;

/** Brush points are kept to 1/100 pixel so saved files stay small and exact. */
function quantize(p: Point): Point {
  return { x: Math.round(p.x * 100) / 100, y: Math.round(p.y * 100) / 100 };
}

type State = { name: 'idle' } | { name: 'painting'; points: Point[] };

export class BrushTool implements Tool {
  readonly name: string;
  private state: State = { name: 'idle' };
  private readonly mode: 'paint' | 'erase';

  constructor(mode: 'paint' | 'erase') {
    this.mode = mode;
    this.name = mode === 'paint' ? 'brush' : 'erase';
  }

  get stateName(): string {
    return this.state.name;
  }

  onPointerDown(e: CanvasPointer): void {
    if (this.state.name !== 'idle') this.cancel();
    const store = useProjectStore.getState();
    if (e.shiftKey && this.mode === 'paint') {
      const { project } = store;
      const strokes = strokesOfPatch(project.brush, project.canvas, e.point.x, e.point.y);
      if (strokes.length) store.setStrokeMotion(strokes, useEditorStore.getState().brushMotion);
      return;
    }
    const L = PROJECT_LIMITS;
    if (store.project.brush.length >= L.strokesMax || countPoints(store.project.brush) >= L.brushPointsTotalMax) {
      useEditorStore.getState().showMessage({
        kind: 'error',
        code: 'limit',
        text: `The brush holds at most ${L.strokesMax} strokes (${L.brushPointsTotalMax} points); clear it or undo some strokes to paint more.`,
      });
      return;
    }
    const p = quantize(e.point);
    store.mark();
    const ed = useEditorStore.getState();
    // Fluid is the default a stroke without `motion` means; erase strokes have no mode.
    const motion = this.mode === 'paint' && ed.brushMotion !== 'fluid' ? { motion: ed.brushMotion } : {};
    store.addBrushStroke({ mode: this.mode, radius: ed.brushRadius, points: [p], ...motion });
    this.state = { name: 'painting', points: [p] };
  }

  onPointerMove(e: CanvasPointer): void {
    useEditorStore.getState().setCursor(e.point);
    const s = this.state;
    if (s.name !== 'painting') return;
    const last = s.points[s.points.length - 1];
    if (Math.hypot(e.point.x - last.x, e.point.y - last.y) < BRUSH_SPACING) return;
    s.points.push(quantize(e.point));
    useProjectStore.getState().setLastStrokePoints(s.points.slice());
  }

  onPointerUp(e: CanvasPointer): void {
    if (this.state.name !== 'painting') return;
    this.onPointerMove(e);
    const points = this.state.points;
    this.state = { name: 'idle' };
    const store = useProjectStore.getState();
    if (points.length > 2) store.setLastStrokePoints(simplifyToBudget(points, PROJECT_LIMITS.strokePointsMax, BRUSH_SIMPLIFY_TOLERANCE));
    store.commit();
  }

  onPointerLeave(): void {
    useEditorStore.getState().setCursor(null);
  }

  onKeyDown(key: string): boolean {
    if (key === 'Escape' && this.state.name !== 'idle') {
      this.cancel();
      return true;
    }
    return false;
  }

  cancel(): void {
    if (this.state.name === 'painting') useProjectStore.getState().cancel();
    this.state = { name: 'idle' };
  }
}
