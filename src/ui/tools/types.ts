/**
 * Editor tools are small state machines over canvas-pixel pointer events (no React, no DOM):
 * the canvas component maps screen events to canvas pixels and forwards them here.
 */
import type { Point } from '../../motion/types';

export interface CanvasPointer {
  /** Position in canvas pixels (origin top-left), unrounded. */
  point: Point;
  /** Canvas pixels per CSS pixel (the canvas may be displayed scaled). */
  pixelScale: number;
  shiftKey: boolean;
}

export interface Tool {
  readonly name: string;
  /** Current state name (tests and the cursor style read it). */
  readonly stateName: string;
  onPointerDown(e: CanvasPointer): void;
  onPointerMove(e: CanvasPointer): void;
  onPointerUp(e: CanvasPointer): void;
  /** Pointer left the canvas (hover off). A gesture in progress continues (pointer capture). */
  onPointerLeave(): void;
  /** Returns true when the key was handled. */
  onKeyDown(key: string): boolean;
  /** Abandon a gesture in progress (Esc, tool switch, lost capture), rolling back its edits. */
  cancel(): void;
}

/** Movement (CSS pixels) below which a press is a click, not a drag. */
export const DRAG_THRESHOLD_CSS = 4;
/** Hit radius for points (CSS pixels). */
export const POINT_HIT_CSS = 9;

export function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** Rounds to whole canvas pixels (as the reference's click indices) and keeps inside the canvas. */
export function snapToCanvas(p: Point, canvas: { width: number; height: number }): Point {
  return {
    x: Math.min(canvas.width - 1, Math.max(0, Math.round(p.x))),
    y: Math.min(canvas.height - 1, Math.max(0, Math.round(p.y))),
  };
}
