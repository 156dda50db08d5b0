/**
 * The editing surface: the cropped photo on one canvas, the overlay (brush tint, trajectories,
 * dots, handles) on another, both at canvas-pixel resolution and displayed scaled to fit.
 * Pointer events are mapped from CSS pixels to canvas pixels and handed to the current tool.
 */
import { useEffect, useRef } from 'react';
import { useEditorStore, type ToolName } from '../state/editor';
import { drawCropped, getWorkingImage, coverCrop } from '../state/image';
import { useProjectStore } from '../state/project';
import { drawOverlay } from './overlay';
import { keyboardPointer, tools, trajectoryTool } from './tools';
import type { CanvasPointer } from './tools/types';

const HINTS: Record<ToolName, string> = {
  trajectory:
    'Click to add points to a path, Enter to finish it (one click alone = an anchor that holds still). Drag to sketch a path. Drag a point to move it, click it and press Delete to remove it. Dots show where the point is at each frame.',
  brush: 'Paint the region that may move (tinted). If nothing is painted, everything may move.',
  erase: 'Erase brush paint.',
  crop: 'Drag the photo to choose which part of it fills the canvas.',
};
const KEYBOARD_HINT = 'Keyboard: Tab to the canvas, arrows move the cursor (Shift: faster), Space clicks, hold Space while moving to drag.';

export function EditorCanvas() {
  const imageRef = useRef<HTMLCanvasElement>(null);
  const overlayRef = useRef<HTMLCanvasElement>(null);
  const image = useProjectStore((s) => s.project.image);
  const crop = useProjectStore((s) => s.project.crop);
  const canvas = useProjectStore((s) => s.project.canvas);
  const tool = useEditorStore((s) => s.tool);
  const keyboardActive = useEditorStore((s) => s.keyboardCursor !== null);

  // The photo layer: redrawn when the image, crop or canvas size changes.
  useEffect(() => {
    const el = imageRef.current;
    if (!el || !image) return;
    let live = true;
    getWorkingImage(image).then(
      (img) => {
        if (!live) return;
        const ctx = el.getContext('2d')!;
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        drawCropped(ctx, img, crop ?? coverCrop(image.width, image.height, canvas), canvas);
        el.dataset.drawn = image.id;
      },
      (e: Error) => useEditorStore.getState().showMessage({ kind: 'error', text: e.message }),
    );
    return () => {
      live = false;
    };
  }, [image, crop, canvas]);

  // The overlay: redrawn (once per animation frame) on any project or editor change.
  useEffect(() => {
    let frame = 0;
    // What the overlay shows; a store change that alters none of it (a message, the save
    // status) draws nothing, which matters with hundreds of trajectories on a slow canvas.
    let last: unknown[] = [];
    const redraw = () => {
      frame = 0;
      const el = overlayRef.current;
      if (!el) return;
      const ed = useEditorStore.getState();
      const project = useProjectStore.getState().project;
      const rect = el.getBoundingClientRect();
      const px = rect.width > 0 ? project.canvas.width / rect.width : 1;
      const brushCursor =
        ed.cursor && (ed.tool === 'brush' || ed.tool === 'erase')
          ? { ...ed.cursor, radius: ed.brushRadius, erase: ed.tool === 'erase' }
          : null;
      const inputs = [
        project,
        ed.selectedTrajectoryId,
        ed.selectedPoint,
        ed.hoverPoint,
        ed.activeTrajectoryId,
        trajectoryTool.sketch,
        ed.cursor,
        ed.keyboardCursor,
        ed.tool,
        ed.brushRadius,
        px,
        el.width,
        el.height,
      ];
      if (inputs.length === last.length && inputs.every((v, i) => v === last[i])) return;
      last = inputs;
      drawOverlay(el.getContext('2d')!, {
        project,
        selectedTrajectoryId: ed.selectedTrajectoryId,
        selectedPoint: ed.selectedPoint,
        hoverPoint: ed.hoverPoint,
        activeTrajectoryId: ed.activeTrajectoryId,
        sketch: trajectoryTool.sketch,
        brushCursor,
        keyboardCursor: ed.keyboardCursor,
        px,
      });
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(redraw);
    };
    trajectoryTool.onChange = schedule;
    const u1 = useProjectStore.subscribe(schedule);
    const u2 = useEditorStore.subscribe(schedule);
    const ro = new ResizeObserver(schedule);
    if (overlayRef.current) ro.observe(overlayRef.current);
    schedule();
    return () => {
      u1();
      u2();
      ro.disconnect();
      trajectoryTool.onChange = () => undefined;
      if (frame) cancelAnimationFrame(frame);
    };
  }, []);

  const toCanvas = (e: React.PointerEvent<HTMLCanvasElement>): CanvasPointer => {
    const rect = e.currentTarget.getBoundingClientRect();
    const sx = canvas.width / rect.width;
    const sy = canvas.height / rect.height;
    return { point: { x: (e.clientX - rect.left) * sx, y: (e.clientY - rect.top) * sy }, pixelScale: sx, shiftKey: e.shiftKey };
  };

  const current = tools[tool];
  const pixelScale = (el: HTMLCanvasElement) => canvas.width / Math.max(1, el.getBoundingClientRect().width);
  const showKeyboardCursor = () => {
    const p = keyboardPointer.cursor;
    const editor = useEditorStore.getState();
    editor.setKeyboardCursor(p ? { ...p } : null);
    if (p && (tool === 'brush' || tool === 'erase')) editor.setCursor({ ...p });
  };
  return (
    <div
      className="stage-wrap"
      // At most 1.5x, and short enough that the canvas and its hint fit the pane (a size container).
      style={{ maxWidth: `min(${canvas.width * 1.5}px, calc((100cqh - 90px) * ${canvas.width / canvas.height}))` }}
    >
      <div className="stage" style={{ aspectRatio: `${canvas.width} / ${canvas.height}` }} data-testid="stage">
        <canvas ref={imageRef} width={canvas.width} height={canvas.height} className="layer" data-testid="image-canvas" />
        <canvas
          ref={overlayRef}
          width={canvas.width}
          height={canvas.height}
          className={`layer overlay tool-${tool}`}
          data-testid="editor-canvas"
          onPointerDown={(e) => {
            if (e.button !== 0) return;
            e.currentTarget.setPointerCapture(e.pointerId);
            current.onPointerDown(toCanvas(e));
          }}
          onPointerMove={(e) => current.onPointerMove(toCanvas(e))}
          onPointerUp={(e) => {
            if (e.button !== 0) return;
            current.onPointerUp(toCanvas(e));
          }}
          onPointerCancel={() => current.cancel()}
          onPointerLeave={() => current.onPointerLeave()}
          onContextMenu={(e) => e.preventDefault()}
          // In the tab order so the keyboard can draw: KeyboardPointer turns keys into pointer events.
          tabIndex={0}
          aria-label={`Editing canvas. ${HINTS[tool]} ${KEYBOARD_HINT}`}
          onFocus={(e) => {
            // A mouse click focuses the canvas too; the keyboard cursor appears only for keyboard focus.
            if (!e.currentTarget.matches(':focus-visible')) return;
            keyboardPointer.focus(canvas);
            showKeyboardCursor();
          }}
          onBlur={() => {
            keyboardPointer.blur(current);
            useEditorStore.getState().setKeyboardCursor(null);
          }}
          onKeyDown={(e) => {
            if (e.ctrlKey || e.metaKey || e.altKey) return;
            if (!keyboardPointer.keyDown(e, current, canvas, pixelScale(e.currentTarget))) return;
            e.preventDefault();
            e.stopPropagation();
            showKeyboardCursor();
          }}
          onKeyUp={(e) => {
            if (!keyboardPointer.keyUp(e, current, pixelScale(e.currentTarget))) return;
            e.preventDefault();
            e.stopPropagation();
          }}
        />
      </div>
      <p className="canvas-hint" data-testid="canvas-hint">
        {HINTS[tool]}
        {keyboardActive && <span data-testid="keyboard-hint"> {KEYBOARD_HINT}</span>}
      </p>
    </div>
  );
}
