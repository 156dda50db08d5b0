/**
 * Ephemeral editor state: the tool, brush size, selection, hover, the trajectory being drawn,
 * and user-facing messages. None of it is in the undo history or the saved project.
 */
import { create } from 'zustand';
import type { MotionMode } from '../motion/types';

export type ToolName = 'trajectory' | 'brush' | 'erase' | 'crop';

/** What the main area shows: the editor, the result, or both side by side. */
export type MainView = 'editor' | 'result' | 'split';
export const MAIN_VIEWS: readonly MainView[] = ['editor', 'split', 'result'];

export interface PointRef {
  trajectoryId: string;
  index: number;
}

export interface EditorMessage {
  kind: 'error' | 'info';
  code?: string;
  text: string;
}

export interface EditorState {
  tool: ToolName;
  /** Brush radius in canvas pixels. */
  brushRadius: number;
  /** Motion mode new paint strokes get (saved per stroke in the project). */
  brushMotion: MotionMode;
  /** Trajectory that clicks on empty canvas extend; null = the next click starts a new one. */
  activeTrajectoryId: string | null;
  selectedTrajectoryId: string | null;
  selectedPoint: PointRef | null;
  hoverPoint: PointRef | null;
  /** Brush cursor position (canvas pixels) for the outline; null when off-canvas. */
  cursor: { x: number; y: number } | null;
  /** The keyboard pointer's cursor (canvas pixels) while the canvas has the keyboard; null otherwise. */
  keyboardCursor: { x: number; y: number } | null;
  message: EditorMessage | null;
  view: MainView;
  /** Whether the result player is playing (the player and the keyboard shortcut share it). */
  playing: boolean;
  setTool(tool: ToolName): void;
  setBrushRadius(r: number): void;
  setBrushMotion(mode: MotionMode): void;
  setActiveTrajectory(id: string | null): void;
  select(trajectoryId: string | null, point?: PointRef | null): void;
  setHover(p: PointRef | null): void;
  setCursor(p: { x: number; y: number } | null): void;
  setKeyboardCursor(p: { x: number; y: number } | null): void;
  showMessage(m: EditorMessage | null): void;
  setView(view: MainView): void;
  setPlaying(playing: boolean | ((was: boolean) => boolean)): void;
}

export const BRUSH_RADIUS = { min: 2, max: 100, initial: 24 } as const;

export const useEditorStore = create<EditorState>()((set) => ({
  tool: 'trajectory',
  brushRadius: BRUSH_RADIUS.initial,
  brushMotion: 'fluid',
  activeTrajectoryId: null,
  selectedTrajectoryId: null,
  selectedPoint: null,
  hoverPoint: null,
  cursor: null,
  keyboardCursor: null,
  message: null,
  view: 'editor',
  playing: true,
  setTool: (tool) => set({ tool, activeTrajectoryId: null }),
  setBrushRadius: (r) => set({ brushRadius: Math.min(BRUSH_RADIUS.max, Math.max(BRUSH_RADIUS.min, Math.round(r))) }),
  setBrushMotion: (mode) => set({ brushMotion: mode }),
  setActiveTrajectory: (id) => set({ activeTrajectoryId: id }),
  select: (trajectoryId, point = null) => set({ selectedTrajectoryId: trajectoryId, selectedPoint: point }),
  setHover: (p) => set({ hoverPoint: p }),
  setCursor: (p) => set({ cursor: p }),
  setKeyboardCursor: (p) => set({ keyboardCursor: p }),
  showMessage: (m) => set({ message: m }),
  setView: (view) => set({ view }),
  setPlaying: (p) => set((s) => ({ playing: typeof p === 'function' ? p(s.playing) : p })),
}));
