/**
 * KeyboardPointer: drives any editor tool from the keyboard, for people who cannot use a mouse.
 * It keeps a cursor on the canvas and turns keys into the same pointer events a mouse gives,
 * so every tool (trajectory clicks and sketches, point drags, brush strokes, crop drags)
 * works without a keyboard path of its own:
 *
 *   Arrow keys move the cursor by one canvas pixel (Shift: SHIFT_STEP pixels).
 *   Space pressed and released without moving = a click at the cursor.
 *   Space held while arrows move the cursor = a drag (press at the start, release on keyup).
 *
 *   up --Space down--> down --arrow--> down (pointer move) --Space up--> up (pointer up)
 *   down --Esc / blur--> up (the tool's gesture is cancelled, as for a lost pointer capture)
 *
 * Other keys (Enter, Delete, Esc when up) are not taken: they reach the tool's own onKeyDown.
 */
import type { Point } from '../../motion/types';
import type { CanvasPointer, Tool } from './types';

/** Canvas pixels an arrow key moves the cursor with Shift held. */
export const SHIFT_STEP = 16;

const ARROWS: Record<string, [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

export interface KeyInput {
  key: string;
  shiftKey: boolean;
  /** The browser's auto-repeat of a held key. */
  repeat: boolean;
}

export class KeyboardPointer {
  /** Cursor in canvas pixels; null until the canvas first takes the keyboard. */
  cursor: Point | null = null;
  private pressed = false;

  get isDown(): boolean {
    return this.pressed;
  }

  /** The canvas took focus: the cursor appears (at the centre the first time, where it was after). */
  focus(canvas: { width: number; height: number }): Point {
    this.cursor = this.clamp(this.cursor ?? { x: Math.floor(canvas.width / 2), y: Math.floor(canvas.height / 2) }, canvas);
    return this.cursor;
  }

  /** The canvas lost focus: a held Space is released as a cancelled gesture. */
  blur(tool: Tool): void {
    if (this.pressed) tool.cancel();
    this.pressed = false;
  }

  /**
   * Handles a keydown on the focused canvas; returns true when it took the key (the caller
   * then stops it from reaching the page's shortcuts, e.g. Space = play/pause).
   */
  keyDown(e: KeyInput, tool: Tool, canvas: { width: number; height: number }, pixelScale: number): boolean {
    const cursor = this.focus(canvas);
    const arrow = ARROWS[e.key];
    if (arrow) {
      const step = e.shiftKey ? SHIFT_STEP : 1;
      this.cursor = this.clamp({ x: cursor.x + arrow[0] * step, y: cursor.y + arrow[1] * step }, canvas);
      tool.onPointerMove(this.pointer(pixelScale));
      return true;
    }
    if (e.key === ' ') {
      if (!this.pressed && !e.repeat) {
        this.pressed = true;
        tool.onPointerDown(this.pointer(pixelScale));
      }
      return true;
    }
    if (e.key === 'Escape' && this.pressed) {
      this.pressed = false;
      tool.cancel();
      return true;
    }
    return false;
  }

  keyUp(e: Pick<KeyInput, 'key'>, tool: Tool, pixelScale: number): boolean {
    if (e.key !== ' ' || !this.pressed) return false;
    this.pressed = false;
    tool.onPointerUp(this.pointer(pixelScale));
    return true;
  }

  private pointer(pixelScale: number): CanvasPointer {
    // Shift is for big cursor steps here, not the tools' Shift gestures.
    return { point: { ...this.cursor! }, pixelScale, shiftKey: false };
  }

  private clamp(p: Point, canvas: { width: number; height: number }): Point {
    return { x: Math.min(canvas.width - 1, Math.max(0, p.x)), y: Math.min(canvas.height - 1, Math.max(0, p.y)) };
  }
}
