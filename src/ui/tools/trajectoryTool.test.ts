import { beforeEach, describe, expect, it } from 'vitest';
import { emptyProject } from '../../motion/types';
import { useEditorStore } from '../../state/editor';
import { useProjectStore } from '../../state/project';
import { BrushTool } from './brushTool';
import { TrajectoryTool } from './trajectoryTool';

/** Pointer events at canvas pixels, canvas displayed at 2x (pixelScale 0.5 canvas px per CSS px). */
const ev = (x: number, y: number) => ({ point: { x, y }, pixelScale: 0.5, shiftKey: false });
const click = (t: TrajectoryTool, x: number, y: number) => {
  t.onPointerDown(ev(x, y));
  t.onPointerUp(ev(x, y));
};
const drag = (
  t: {
    onPointerDown: (e: ReturnType<typeof ev>) => void;
    onPointerMove: (e: ReturnType<typeof ev>) => void;
    onPointerUp: (e: ReturnType<typeof ev>) => void;
  },
  pts: [number, number][],
) => {
  t.onPointerDown(ev(...pts[0]));
  for (const p of pts.slice(1)) t.onPointerMove(ev(...p));
  t.onPointerUp(ev(...pts[pts.length - 1]));
};
const project = () => useProjectStore.getState().project;

beforeEach(() => {
  useProjectStore.getState().resetProject(emptyProject(), { hydrated: true });
  useEditorStore.setState({ activeTrajectoryId: null, selectedPoint: null, selectedTrajectoryId: null, hoverPoint: null });
});

describe('TrajectoryTool', () => {
  it('clicks add points to the current trajectory; Enter finishes it; a lone click is an anchor', () => {
    const tool = new TrajectoryTool();
    click(tool, 10.4, 20.6);
    click(tool, 50, 60);
    tool.onKeyDown('Enter');
    click(tool, 200, 100);
    tool.onKeyDown('Enter');
    const [a, b] = project().trajectories;
    expect(a.points).toEqual([
      { x: 10, y: 21 },
      { x: 50, y: 60 },
    ]);
    expect(b.points).toEqual([{ x: 200, y: 100 }]);
    expect(a.color).not.toBe(b.color);
    expect(useProjectStore.getState().past).toHaveLength(3);
  });

  it('dragging a point moves it (one undo step); Esc during the drag rolls it back', () => {
    const tool = new TrajectoryTool();
    click(tool, 100, 100);
    click(tool, 150, 100);
    tool.onKeyDown('Enter');
    drag(tool, [
      [150, 100],
      [155, 110],
      [170, 130],
    ]);
    expect(project().trajectories[0].points[1]).toEqual({ x: 170, y: 130 });
    expect(useProjectStore.getState().past).toHaveLength(3);
    tool.onPointerDown(ev(170, 130));
    tool.onPointerMove(ev(200, 200));
    expect(tool.stateName).toBe('dragging-point');
    tool.onKeyDown('Escape');
    expect(tool.stateName).toBe('idle');
    expect(project().trajectories[0].points[1]).toEqual({ x: 170, y: 130 });
  });

  it('press-drag on empty canvas sketches a trajectory simplified to a few points', () => {
    const tool = new TrajectoryTool();
    const pts: [number, number][] = [];
    for (let i = 0; i <= 60; i++) pts.push([20 + i * 4, 100 + 40 * Math.sin(i / 10)]);
    drag(tool, pts);
    const t = project().trajectories[0];
    expect(t.points.length).toBeGreaterThanOrEqual(3);
    expect(t.points.length).toBeLessThanOrEqual(8);
    expect(t.points[0]).toEqual({ x: 20, y: 100 });
    expect(useEditorStore.getState().activeTrajectoryId).toBeNull();
  });

  it("a point lying on another trajectory's curve is still picked, and repeated clicks cycle through overlapping points", () => {
    const tool = new TrajectoryTool();
    click(tool, 50, 100);
    click(tool, 250, 100);
    tool.onKeyDown('Enter');
    click(tool, 150, 100); // an anchor right on the first curve
    tool.onKeyDown('Enter');
    click(tool, 180, 100); // a second anchor, then dragged almost on top of the first
    tool.onKeyDown('Enter');
    drag(tool, [
      [180, 100],
      [160, 101],
      [151, 101],
    ]);
    const [, anchor1, anchor2] = project().trajectories;
    expect(anchor2.points[0]).toEqual({ x: 151, y: 101 });
    expect(useEditorStore.getState().selectedPoint).toEqual({ trajectoryId: anchor2.id, index: 0 });
    click(tool, 151, 101);
    expect(useEditorStore.getState().selectedPoint).toEqual({ trajectoryId: anchor1.id, index: 0 });
    click(tool, 151, 101);
    expect(useEditorStore.getState().selectedPoint).toEqual({ trajectoryId: anchor2.id, index: 0 });
    // Delete removes the selected point (and its one-point trajectory).
    tool.onKeyDown('Delete');
    expect(project().trajectories.map((t) => t.id)).toEqual([project().trajectories[0].id, anchor1.id]);
    // Clicking on a curve away from points places a new point (an anchor on the path).
    click(tool, 100, 100);
    expect(project().trajectories).toHaveLength(3);
    expect(project().trajectories[2].points).toEqual([{ x: 100, y: 100 }]);
    // A trajectory selected as a whole (from the side panel) is deleted by Delete.
    const first = project().trajectories[0].id;
    useEditorStore.getState().select(first, null);
    expect(tool.onKeyDown('Delete')).toBe(true);
    expect(project().trajectories.map((t) => t.id)).not.toContain(first);
  });
});

describe('BrushTool', () => {
  it('one stroke per press, one undo step, Esc cancels the stroke', () => {
    useEditorStore.getState().setBrushRadius(12);
    const paint = new BrushTool('paint');
    drag(paint, [
      [10, 10],
      [20, 10],
      [30, 12],
    ]);
    expect(project().brush).toEqual([
      {
        mode: 'paint',
        radius: 12,
        points: [
          { x: 10, y: 10 },
          { x: 20, y: 10 },
          { x: 30, y: 12 },
        ],
      },
    ]);
    expect(useProjectStore.getState().past).toHaveLength(1);
    const erase = new BrushTool('erase');
    erase.onPointerDown(ev(15, 10));
    erase.onPointerMove(ev(25, 10));
    erase.onKeyDown('Escape');
    expect(project().brush).toHaveLength(1);
    expect(useProjectStore.getState().past).toHaveLength(1);
  });
});
