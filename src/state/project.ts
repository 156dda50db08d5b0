/**
 * The project document store: the Project (image ref, canvas, crop, trajectories, brush,
 * settings) plus its undo history, as plain data. Works outside React (getState/subscribe), so
 * the engine, autosave and tests use the same store the editor does.
 *
 * History follows tldraw's model: every edit is undoable. A pointer gesture calls
 * `mark()` when it starts, edits freely (each move replaces the project without touching the
 * history), then `commit()` records ONE undo step from the mark, or `cancel()` (Esc) rolls back
 * to it. Edits outside a gesture are one step each; edits that share a `coalesce` key in a row
 * (slider drags, typing) merge into one step. Ephemeral UI state (hover, selection, tool) lives
 * in the editor store, never here.
 *
 * Every document that enters the store (edits, file open, restore) passes `normalizeProject`,
 * the same validator restore and open use, so memory never holds what a reload would refuse.
 */
import { create } from 'zustand';
import { normalizeProject } from '../motion/project';
import { reframe } from '../motion/reframe';
import {
  CANVAS_PRESETS,
  emptyProject,
  type BrushStroke,
  type CanvasSize,
  type CropBox,
  type ImageRef,
  type MotionMode,
  type Point,
  type Project,
  type ProjectSettings,
  type Trajectory,
  type VideoRef,
} from '../motion/types';

/** Undo steps kept; older ones are dropped. */
export const HISTORY_LIMIT = 200;

export interface EditOptions {
  /** Consecutive edits with the same key (outside gestures) merge into one undo step. */
  coalesce?: string;
}

export interface ProjectState {
  project: Project;
  /** Snapshots before each undoable step, oldest first. */
  past: Project[];
  future: Project[];
  /** The project as it was when the current gesture started; null outside gestures. */
  gestureBase: Project | null;
  /** Coalesce key of the last recorded step. */
  lastCoalesce: string | null;
  /** True once the autosaved project (if any) has been restored. */
  hydrated: boolean;

  /** Replace the project through a pure function: the one path every edit goes through. */
  edit(recipe: (p: Project) => Project, options?: EditOptions): void;
  /** Gesture start: later edits until commit/cancel form one undo step. */
  mark(): void;
  commit(): void;
  cancel(): void;
  undo(): void;
  redo(): void;

  /** Loads a whole project (file open); undoable. */
  loadProject(project: Project): void;
  /** Sets the document without history, or with a restored one (each step validated). */
  resetProject(project?: Project, options?: { hydrated?: boolean; past?: Project[]; future?: Project[] }): void;

  setImage(image: ImageRef, crop: CropBox): void;
  setCanvas(canvas: CanvasSize, crop: CropBox | null): void;
  setCrop(crop: CropBox): void;
  addTrajectory(trajectory: Trajectory): void;
  updateTrajectory(id: string, patch: Partial<Omit<Trajectory, 'id'>>, options?: EditOptions): void;
  removeTrajectory(id: string): void;
  addPoint(id: string, point: Point): void;
  movePoint(id: string, index: number, point: Point): void;
  /** Removes one point; removing the last point removes the trajectory. */
  removePoint(id: string, index: number): void;
  addBrushStroke(stroke: BrushStroke): void;
  /** Replaces the points of the last stroke (live painting inside a gesture). */
  setLastStrokePoints(points: Point[]): void;
  clearBrush(): void;
  /** Sets the motion mode of the given brush strokes (a painted patch's strokes); one undo step. */
  setStrokeMotion(indices: readonly number[], motion: MotionMode): void;
  setSettings(patch: Partial<ProjectSettings>, options?: EditOptions): void;
  /** Video-to-video: sets (or, with null, removes) the source video; one undo step. */
  setVideo(video: VideoRef | null): void;
  /** Which frames of the source video the clip follows (start time, frame step). */
  setVideoRange(patch: Partial<Pick<VideoRef, 'startTime' | 'stride'>>, options?: EditOptions): void;
}

export function canUndo(s: ProjectState): boolean {
  return s.gestureBase === null && s.past.length > 0;
}
export function canRedo(s: ProjectState): boolean {
  return s.gestureBase === null && s.future.length > 0;
}

function pushPast(past: Project[], p: Project): Project[] {
  const next = past.length >= HISTORY_LIMIT ? past.slice(past.length - HISTORY_LIMIT + 1) : past.slice();
  next.push(p);
  return next;
}

export const useProjectStore = create<ProjectState>()((set, get) => {
  const mapTrajectory = (id: string, fn: (t: Trajectory) => Trajectory | null, options?: EditOptions) =>
    get().edit(
      (p) => ({
        ...p,
        trajectories: p.trajectories.flatMap((t) => {
          if (t.id !== id) return [t];
          const r = fn(t);
          return r ? [r] : [];
        }),
      }),
      options,
    );

  return {
    project: emptyProject(),
    past: [],
    future: [],
    gestureBase: null,
    lastCoalesce: null,
    hydrated: false,

    edit(recipe, options) {
      const s = get();
      const next = normalizeProject(recipe(s.project)).project;
      if (next === s.project) return;
      if (s.gestureBase) {
        set({ project: next });
        return;
      }
      const key = options?.coalesce ?? null;
      if (key !== null && key === s.lastCoalesce && s.past.length > 0) {
        set({ project: next, future: [] });
        return;
      }
      set({ project: next, past: pushPast(s.past, s.project), future: [], lastCoalesce: key });
    },

    mark() {
      const s = get();
      if (s.gestureBase) return;
      set({ gestureBase: s.project });
    },
    commit() {
      const s = get();
      if (!s.gestureBase) return;
      if (s.gestureBase === s.project) {
        set({ gestureBase: null });
        return;
      }
      set({ past: pushPast(s.past, s.gestureBase), future: [], gestureBase: null, lastCoalesce: null });
    },
    cancel() {
      const s = get();
      if (!s.gestureBase) return;
      set({ project: s.gestureBase, gestureBase: null });
    },
    undo() {
      const s = get();
      if (!canUndo(s)) return;
      const prev = s.past[s.past.length - 1];
      set({ project: prev, past: s.past.slice(0, -1), future: [s.project, ...s.future], lastCoalesce: null });
    },
    redo() {
      const s = get();
      if (!canRedo(s)) return;
      const [next, ...rest] = s.future;
      set({ project: next, past: pushPast(s.past, s.project), future: rest, lastCoalesce: null });
    },

    loadProject(project) {
      get().edit(() => project);
    },
    resetProject(project = emptyProject(), options) {
      const valid = (list: Project[]) => list.map((p) => normalizeProject(p).project);
      set({
        project: normalizeProject(project).project,
        past: valid((options?.past ?? []).slice(-HISTORY_LIMIT)),
        future: valid((options?.future ?? []).slice(0, HISTORY_LIMIT)),
        gestureBase: null,
        lastCoalesce: null,
        hydrated: options?.hydrated ?? get().hydrated,
      });
    },

    setImage(image, crop) {
      get().edit((p) => ({ ...p, image, crop }));
    },
    setCanvas(canvas, crop) {
      get().edit((p) => reframe(p, { canvas, crop }));
    },
    setCrop(crop) {
      // Inside a drag, from the drag's start: points pushed to the edge on the way come back.
      const base = get().gestureBase;
      get().edit((p) => {
        const from = base && base.canvas.width === p.canvas.width && base.canvas.height === p.canvas.height ? base : p;
        const moved = reframe(from, { canvas: p.canvas, crop });
        return { ...p, crop, trajectories: moved.trajectories, brush: moved.brush };
      });
    },
    addTrajectory(trajectory) {
      get().edit((p) => ({ ...p, trajectories: [...p.trajectories, trajectory] }));
    },
    updateTrajectory(id, patch, options) {
      mapTrajectory(id, (t) => ({ ...t, ...patch, id }), options);
    },
    removeTrajectory(id) {
      mapTrajectory(id, () => null);
    },
    addPoint(id, point) {
      mapTrajectory(id, (t) => ({ ...t, points: [...t.points, point] }));
    },
    movePoint(id, index, point) {
      mapTrajectory(id, (t) => ({ ...t, points: t.points.map((q, i) => (i === index ? point : q)) }));
    },
    removePoint(id, index) {
      mapTrajectory(id, (t) => {
        const points = t.points.filter((_, i) => i !== index);
        return points.length ? { ...t, points } : null;
      });
    },
    addBrushStroke(stroke) {
      get().edit((p) => ({ ...p, brush: [...p.brush, stroke] }));
    },
    setLastStrokePoints(points) {
      get().edit((p) => {
        if (!p.brush.length) return p;
        const last = p.brush[p.brush.length - 1];
        return { ...p, brush: [...p.brush.slice(0, -1), { ...last, points }] };
      });
    },
    clearBrush() {
      get().edit((p) => (p.brush.length ? { ...p, brush: [] } : p));
    },
    setStrokeMotion(indices, motion) {
      get().edit((p) => {
        const pick = new Set(indices);
        // Fluid is stored as no field, as strokes painted in Fluid are.
        const change = (b: BrushStroke): BrushStroke => {
          const { motion: _old, ...rest } = b;
          return motion === 'fluid' ? rest : { ...rest, motion };
        };
        if (!p.brush.some((b, i) => pick.has(i) && (b.motion ?? 'fluid') !== motion)) return p;
        return { ...p, brush: p.brush.map((b, i) => (pick.has(i) ? change(b) : b)) };
      });
    },
    setSettings(patch, options) {
      get().edit((p) => ({ ...p, settings: { ...p.settings, ...patch } }), options);
    },
    setVideo(video) {
      get().edit((p) => ({ ...p, video }));
    },
    setVideoRange(patch, options) {
      get().edit((p) => (p.video ? { ...p, video: { ...p.video, ...patch } } : p), options);
    },
  };
});

export { CANVAS_PRESETS };
