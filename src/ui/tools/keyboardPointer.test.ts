import { beforeEach, describe, expect, it } from 'vitest';
import { emptyProject } from '../../motion/types';
import { useEditorStore } from '../../state/editor';
import { useProjectStore } from '../../state/project';
import { BrushTool } from './brushTool';
import { KeyboardPointer, SHIFT_STEP } from './keyboardPointer';
import { TrajectoryTool } from './trajectoryTool';
import type { CanvasPointer, Tool } from './types';

const canvas = { width: 512, height: 320 };
const key = (k: string, o: { shiftKey?: boolean; repeat?: boolean } = {}) => ({ key: k, shiftKey: !!o.shiftKey, repeat: !!o.repeat });

/** Records what a tool would receive. */
class RecordingTool implements Tool {
  readonly name = 'recording';
  readonly stateName = 'idle';
  log: string[] = [];
  onPointerDown(e: CanvasPointer) {
    this.log.push(`down ${e.point.x},${e.point.y}`);
  }
  onPointerMove(e: CanvasPointer) {
    this.log.push(`move ${e.point.x},${e.point.y}`);
  }
  onPointerUp(e: CanvasPointer) {
    this.log.push(`up ${e.point.x},${e.point.y}`);
  }
  onPointerLeave() {}
  onKeyDown() {
    return false;
  }
  cancel() {
    this.log.push('cancel');
  }
}

beforeEach(() => {
  useProjectStore.getState().resetProject(emptyProject(), { hydrated: true });
  useEditorStore.setState({ activeTrajectoryId: null, selectedPoint: null, selectedTrajectoryId: null, hoverPoint: null });
});

describe('KeyboardPointer', () => {
  it('starts at the centre; arrows move one pixel, Shift+arrows SHIFT_STEP, clamped to the canvas', () => {
    const kp = new KeyboardPointer();
    const t = new RecordingTool();
    expect(kp.focus(canvas)).toEqual({ x: 256, y: 160 });
    kp.keyDown(key('ArrowRight'), t, canvas, 1);
    kp.keyDown(key('ArrowUp', { shiftKey: true }), t, canvas, 1);
    expect(kp.cursor).toEqual({ x: 257, y: 160 - SHIFT_STEP });
    for (let i = 0; i < 40; i++) kp.keyDown(key('ArrowLeft', { shiftKey: true }), t, canvas, 1);
    expect(kp.cursor).toEqual({ x: 0, y: 160 - SHIFT_STEP });
    for (let i = 0; i < 40; i++) kp.keyDown(key('ArrowDown', { shiftKey: true }), t, canvas, 1);
    expect(kp.cursor).toEqual({ x: 0, y: 319 });
    expect(t.log.every((l) => l.startsWith('move'))).toBe(true);
  });

  it('Space tap is a click at the cursor; auto-repeat does not press again; Space held with arrows is a drag', () => {
    const kp = new KeyboardPointer();
    const t = new RecordingTool();
    kp.focus(canvas);
    expect(kp.keyDown(key(' '), t, canvas, 1)).toBe(true);
    expect(kp.keyDown(key(' ', { repeat: true }), t, canvas, 1)).toBe(true);
    expect(kp.keyUp({ key: ' ' }, t, 1)).toBe(true);
    kp.keyDown(key(' '), t, canvas, 1);
    kp.keyDown(key('ArrowRight'), t, canvas, 1);
    kp.keyDown(key('ArrowRight'), t, canvas, 1);
    kp.keyUp({ key: ' ' }, t, 1);
    expect(t.log).toEqual(['down 256,160', 'up 256,160', 'down 256,160', 'move 257,160', 'move 258,160', 'up 258,160']);
    // A second keyup (nothing pressed) and other keys are not taken.
    expect(kp.keyUp({ key: ' ' }, t, 1)).toBe(false);
    expect(kp.keyDown(key('Enter'), t, canvas, 1)).toBe(false);
    expect(kp.keyDown(key('Escape'), t, canvas, 1)).toBe(false);
  });

  it('Esc or losing focus during a held Space cancels the gesture; the keyup after it does nothing', () => {
    const kp = new KeyboardPointer();
    const t = new RecordingTool();
    kp.focus(canvas);
    kp.keyDown(key(' '), t, canvas, 1);
    expect(kp.keyDown(key('Escape'), t, canvas, 1)).toBe(true);
    expect(kp.keyUp({ key: ' ' }, t, 1)).toBe(false);
    kp.keyDown(key(' '), t, canvas, 1);
    kp.blur(t);
    expect(t.log).toEqual(['down 256,160', 'cancel', 'down 256,160', 'cancel']);
    expect(kp.isDown).toBe(false);
  });

  it('drives the real trajectory tool: taps add a path, Space-drag moves a point, Enter (the tool) finishes', () => {
    const kp = new KeyboardPointer();
    const tool = new TrajectoryTool();
    kp.focus(canvas);
    const tap = () => {
      kp.keyDown(key(' '), tool, canvas, 1);
      kp.keyUp({ key: ' ' }, tool, 1);
    };
    tap();
    for (let i = 0; i < 3; i++) kp.keyDown(key('ArrowRight', { shiftKey: true }), tool, canvas, 1);
    tap();
    tool.onKeyDown('Enter');
    let p = useProjectStore.getState().project;
    expect(p.trajectories).toHaveLength(1);
    expect(p.trajectories[0].points).toEqual([
      { x: 256, y: 160 },
      { x: 256 + 3 * SHIFT_STEP, y: 160 },
    ]);
    // Back onto the second point, hold Space, move it down 20 px, release.
    kp.keyDown(key(' '), tool, canvas, 1);
    for (let i = 0; i < 20; i++) kp.keyDown(key('ArrowDown'), tool, canvas, 1);
    kp.keyUp({ key: ' ' }, tool, 1);
    p = useProjectStore.getState().project;
    expect(p.trajectories[0].points[1]).toEqual({ x: 256 + 3 * SHIFT_STEP, y: 180 });
    // One undo step for the drag.
    useProjectStore.getState().undo();
    expect(useProjectStore.getState().project.trajectories[0].points[1]).toEqual({ x: 256 + 3 * SHIFT_STEP, y: 160 });
  });

  it('drives the brush: a held Space with arrows paints one stroke along the cursor path', () => {
    const kp = new KeyboardPointer();
    const brush = new BrushTool('paint');
    kp.focus(canvas);
    kp.keyDown(key(' '), brush, canvas, 1);
    for (let i = 0; i < 3; i++) kp.keyDown(key('ArrowLeft', { shiftKey: true }), brush, canvas, 1);
    kp.keyUp({ key: ' ' }, brush, 1);
    const strokes = useProjectStore.getState().project.brush;
    expect(strokes).toHaveLength(1);
    expect(strokes[0].points[0]).toEqual({ x: 256, y: 160 });
    expect(strokes[0].points[strokes[0].points.length - 1]).toEqual({ x: 256 - 3 * SHIFT_STEP, y: 160 });
  });
});
