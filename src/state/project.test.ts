import { beforeEach, describe, expect, it } from 'vitest';
import { emptyProject, type Trajectory } from '../motion/types';
import { canRedo, canUndo, HISTORY_LIMIT, useProjectStore } from './project';

const traj = (id: string, x = 10): Trajectory => ({
  id,
  points: [{ x, y: 20 }],
  color: '#ff0000',
  timing: { mode: 'reference', startFrame: 0, endFrame: 15 },
});
const s = () => useProjectStore.getState();

beforeEach(() => s().resetProject(emptyProject(), { hydrated: true }));

describe('project history', () => {
  it('every edit is one undo step; undo/redo walk it both ways; a new edit drops the redo branch', () => {
    s().addTrajectory(traj('a'));
    s().addPoint('a', { x: 30, y: 40 });
    s().setSettings({ flowUnit: 32 });
    const end = s().project;
    expect(s().past).toHaveLength(3);
    s().undo();
    expect(s().project.settings.flowUnit).toBe(64);
    s().undo();
    expect(s().project.trajectories[0].points).toHaveLength(1);
    s().redo();
    s().redo();
    expect(s().project).toBe(end);
    s().undo();
    s().removeTrajectory('a');
    expect(canRedo(s())).toBe(false);
    expect(s().project.trajectories).toHaveLength(0);
  });

  it('a gesture (mark .. commit) is one step however many moves it has; cancel rolls back', () => {
    s().addTrajectory(traj('a'));
    const before = s().project;
    s().mark();
    for (let i = 1; i <= 20; i++) s().movePoint('a', 0, { x: 10 + i, y: 20 });
    expect(canUndo(s())).toBe(false); // no undo in the middle of a gesture
    s().commit();
    expect(s().project.trajectories[0].points[0]).toEqual({ x: 30, y: 20 });
    expect(s().past).toHaveLength(2);
    s().undo();
    expect(s().project).toBe(before);

    s().mark();
    s().movePoint('a', 0, { x: 99, y: 99 });
    s().cancel();
    expect(s().project).toBe(before);
    expect(s().past).toHaveLength(1);
    // An empty gesture records nothing.
    s().mark();
    s().commit();
    expect(s().past).toHaveLength(1);
  });

  it('coalesces consecutive edits with the same key (slider drags) into one step', () => {
    for (const v of [10, 20, 30, 40]) s().setSettings({ flowUnit: v }, { coalesce: 'flowUnit' });
    expect(s().past).toHaveLength(1);
    s().setSettings({ prompt: 'waves' }, { coalesce: 'prompt' });
    s().setSettings({ flowUnit: 50 }, { coalesce: 'flowUnit' });
    expect(s().past).toHaveLength(3);
    s().undo();
    s().undo();
    expect(s().project.settings.flowUnit).toBe(40);
    s().undo();
    expect(s().project.settings.flowUnit).toBe(64);
  });

  it('removing the last point removes the trajectory; a canvas change keeps points inside', () => {
    s().addTrajectory({
      ...traj('a'),
      points: [
        { x: 500, y: 300 },
        { x: 100, y: 10 },
      ],
    });
    s().setCanvas({ width: 320, height: 320 }, null);
    expect(s().project.trajectories[0].points).toEqual([
      { x: 319, y: 300 },
      { x: 100, y: 10 },
    ]);
    s().removePoint('a', 0);
    s().removePoint('a', 0);
    expect(s().project.trajectories).toHaveLength(0);
  });

  it('keeps at most HISTORY_LIMIT steps', () => {
    for (let i = 0; i < HISTORY_LIMIT + 25; i++) s().setSettings({ seed: i });
    expect(s().past).toHaveLength(HISTORY_LIMIT);
    while (canUndo(s())) s().undo();
    expect(s().project.settings.seed).toBe(24);
  });
});

describe('every edit passes the validator restore uses', () => {
  it('an edit that would store frames out of order or settings out of range is repaired in memory, so a reload reads back the same document', async () => {
    const { readProject } = await import('../motion/project');
    s().addTrajectory({
      ...traj('a'),
      points: [
        { x: 1, y: 2 },
        { x: 30, y: 40 },
      ],
    });
    s().updateTrajectory('a', { timing: { mode: 'reference', startFrame: 10, endFrame: 5 } });
    s().setSettings({ frames: 1000, flowUnit: 0 });
    const p = s().project;
    expect(p.trajectories[0].timing).toMatchObject({ startFrame: 5, endFrame: 10 });
    expect(p.settings).toMatchObject({ frames: 64, flowUnit: 1 });
    // What memory holds is what restore accepts, unchanged.
    const back = readProject(JSON.parse(JSON.stringify(p)));
    expect(back.repairs).toEqual([]);
    expect(back.project).toEqual(p);
  });
});

describe('motion modes and the brush edge are ordinary undoable edits', () => {
  it('a stroke keeps its mode, the feather slider coalesces into one step, undo restores both', () => {
    s().addBrushStroke({ mode: 'paint', radius: 8, points: [{ x: 5, y: 5 }], motion: 'rigid' });
    expect(s().project.brush[0].motion).toBe('rigid');
    s().setSettings({ brushFeather: 3 }, { coalesce: 'brushFeather' });
    s().setSettings({ brushFeather: 7 }, { coalesce: 'brushFeather' });
    expect(s().project.settings.brushFeather).toBe(7);
    s().undo();
    expect(s().project.settings.brushFeather).toBe(0);
    expect(s().project.brush[0].motion).toBe('rigid');
    s().undo();
    expect(s().project.brush).toEqual([]);
  });
});

describe('setStrokeMotion', () => {
  it('sets the mode of the given strokes in one undo step; fluid is stored as no field', () => {
    s().addBrushStroke({ mode: 'paint', radius: 8, points: [{ x: 5, y: 5 }] });
    s().addBrushStroke({ mode: 'paint', radius: 8, points: [{ x: 40, y: 5 }], motion: 'shape' });
    s().setStrokeMotion([0, 1], 'rigid');
    expect(s().project.brush.map((b) => b.motion)).toEqual(['rigid', 'rigid']);
    s().setStrokeMotion([1], 'fluid');
    expect('motion' in s().project.brush[1]).toBe(false);
    s().undo();
    s().undo();
    expect(s().project.brush.map((b) => b.motion)).toEqual([undefined, 'shape']);
  });
});
