import { describe, expect, it } from 'vitest';
import { emptyProject, sampleTrajectory, type Project, type Trajectory } from '../motion';
import { buildConstraints, footprintRadius, ID_FREE, ID_STATIC, ID_ZERO, selectFrames, selectRegionFrames } from './constraints';

function project(trajectories: Trajectory[], brush: Project['brush'] = [], frames = 5): Project {
  const p = emptyProject();
  p.canvas = { width: 40, height: 30 };
  p.settings.frames = frames;
  p.settings.flowUnit = 24; // footprint radius 3
  p.trajectories = trajectories;
  p.brush = brush;
  return p;
}

const drag = (id: string, points: { x: number; y: number }[], startFrame = 0, endFrame = 4): Trajectory => ({
  id,
  color: '#f00',
  points,
  timing: { mode: 'reference', startFrame, endFrame },
});

describe('buildConstraints', () => {
  it('pins a disc around the start point to the trajectory displacement of every frame', () => {
    const t = drag(
      'a',
      [
        { x: 10, y: 12 },
        { x: 20, y: 8 },
        { x: 25, y: 15 },
      ],
      1,
      3,
    );
    const c = buildConstraints(project([t]));
    expect(c.k).toBe(1);
    expect(c.flows).toBe(4);
    expect(c.footprintRadius).toBe(3);
    // Disc of radius 3 at (10, 12): centre and edge in, corner out.
    expect(c.ids[12 * 40 + 10]).toBe(0);
    expect(c.ids[12 * 40 + 13]).toBe(0);
    expect(c.ids[15 * 40 + 13]).toBe(ID_FREE);
    const path = sampleTrajectory(t, 5);
    for (let i = 0; i < 4; i++) {
      expect(c.table[2 * i]).toBeCloseTo(path[i + 1].x - 10, 5);
      expect(c.table[2 * i + 1]).toBeCloseTo(path[i + 1].y - 12, 5);
    }
    // Frame 1 is the timing's start: no motion yet; after endFrame it stays at the end.
    expect([c.table[0], c.table[1]]).toEqual([0, 0]);
    expect(c.table[6]).toBeCloseTo(15, 5);
    expect(c.table[7]).toBeCloseTo(3, 5);
  });

  it('anchors pin zero; later trajectories overwrite earlier ones; no brush means decay', () => {
    const c = buildConstraints(
      project([
        drag('a', [
          { x: 10, y: 10 },
          { x: 14, y: 10 },
        ]),
        drag('b', [{ x: 12, y: 10 }]),
      ]),
    );
    expect(c.k).toBe(1);
    expect(c.ids[10 * 40 + 12]).toBe(ID_ZERO);
    expect(c.ids[10 * 40 + 8]).toBe(0);
    expect(c.painted).toBe(false);
    expect(c.screeningLength).toBeCloseTo(0.25 * 30, 6);
  });

  it('a painted brush makes every unpainted pixel static, even under a trajectory, and lets motion spread', () => {
    const brush = [{ mode: 'paint' as const, radius: 5, points: [{ x: 30, y: 15 }] }];
    const c = buildConstraints(
      project(
        [
          drag('a', [
            { x: 10, y: 15 },
            { x: 12, y: 15 },
          ]),
          drag('b', [
            { x: 30, y: 15 },
            { x: 33, y: 15 },
          ]),
        ],
        brush,
      ),
    );
    expect(c.painted).toBe(true);
    expect(c.screeningLength).toBe(Infinity);
    expect(c.ids[15 * 40 + 10]).toBe(ID_STATIC); // drag 'a' lies in the static area
    expect(c.ids[15 * 40 + 30]).toBe(1);
    expect(c.ids[0]).toBe(ID_STATIC);
    expect(c.trajectoryIndex).toEqual([0, 1]);
  });

  it('selectFrames picks table rows by flow index', () => {
    const c = buildConstraints(
      project([
        drag('a', [
          { x: 5, y: 5 },
          { x: 9, y: 5 },
        ]),
        drag('b', [
          { x: 30, y: 20 },
          { x: 30, y: 28 },
        ]),
      ]),
    );
    const rows = selectFrames(c, [3, 0]);
    expect(Array.from(rows)).toEqual([...c.table.subarray(12, 16), ...c.table.subarray(0, 4)]);
  });

  it('footprint radius follows the Flow Unit within 2..24 px', () => {
    expect(footprintRadius(64)).toBe(8);
    expect(footprintRadius(1)).toBe(2);
    expect(footprintRadius(320)).toBe(24);
  });
});

describe('motion-mode regions', () => {
  it('rigid and shape paint become static for the solve and regions with their own handles; fluid paint is unchanged', () => {
    const a = drag('a', [
      { x: 8, y: 8 },
      { x: 12, y: 8 },
    ]);
    const b = drag('b', [
      { x: 14, y: 10 },
      { x: 14, y: 14 },
    ]);
    const anchor = drag('c', [{ x: 30, y: 15 }]);
    const fluid = drag('d', [
      { x: 20, y: 25 },
      { x: 24, y: 25 },
    ]);
    const brush: Project['brush'] = [
      { mode: 'paint', radius: 8, points: [{ x: 10, y: 10 }], motion: 'rigid' },
      { mode: 'paint', radius: 6, points: [{ x: 30, y: 12 }], motion: 'shape' },
      { mode: 'paint', radius: 4, points: [{ x: 20, y: 25 }] },
    ];
    const c = buildConstraints(project([a, b, anchor, fluid], brush));
    expect(c.regions.count).toBe(2);
    expect(c.ids[10 * 40 + 10]).toBe(ID_STATIC);
    expect(c.regions.regionOf[10 * 40 + 10]).toBe(0);
    expect(c.regions.regionOf[12 * 40 + 30]).toBe(1);
    expect(c.regions.regionOf[25 * 40 + 20]).toBe(-1);
    expect(c.ids[25 * 40 + 20]).toBe(2); // the fluid drag's disc, as without modes
    // Rigid: modes, handles a and b; shape: the anchor alone.
    expect(Array.from(c.regions.info)).toEqual([0, 0, 2, 0, 1, 2, 1, 0]);
    expect(Array.from(c.regions.handles)).toEqual([8, 8, 14, 10, 30, 15]);
    // Last flow: a moved (4, 0), b (0, 4), the anchor nothing.
    const last = (c.flows - 1) * c.regions.handleCount * 2;
    expect(Array.from(c.regions.handleDisp.subarray(last, last + 6))).toEqual([4, 0, 0, 4, 0, 0]);
    // The preview's subset of frames takes the same rows of both per-frame tables.
    const sub = selectRegionFrames(c, [c.flows - 1, 0]);
    expect(Array.from(sub.handleDisp.subarray(0, 6))).toEqual([4, 0, 0, 4, 0, 0]);
    expect(Array.from(sub.transforms.subarray(0, 8))).toEqual(Array.from(c.regions.transforms.subarray((c.flows - 1) * 8, c.flows * 8)));
    expect(Array.from(sub.transforms.subarray(8, 16))).toEqual(Array.from(c.regions.transforms.subarray(0, 8)));
  });

  it("a trajectory's mode gives the whole painted patch under its start that mode, as if painted so", () => {
    const a = drag('a', [
      { x: 8, y: 8 },
      { x: 12, y: 9 },
    ]);
    const b = drag('b', [
      { x: 14, y: 10 },
      { x: 14, y: 14 },
    ]);
    // Two overlapping fluid strokes make one patch; a separate fluid patch stays fluid.
    const fluidBrush: Project['brush'] = [
      { mode: 'paint', radius: 6, points: [{ x: 9, y: 9 }] },
      { mode: 'paint', radius: 5, points: [{ x: 15, y: 12 }] },
      { mode: 'paint', radius: 4, points: [{ x: 32, y: 22 }] },
    ];
    const painted = fluidBrush.map((s, i) => (i < 2 ? { ...s, motion: 'rigid' as const } : s));
    const byTrajectory = buildConstraints(project([{ ...a, motion: 'rigid' }, b], fluidBrush));
    const byPaint = buildConstraints(project([a, b], painted));
    expect(byPaint.regions.count).toBe(1);
    expect(byTrajectory.ids).toEqual(byPaint.ids);
    expect(byTrajectory.regions).toEqual(byPaint.regions);
    // On a rigid patch an anchor's shape mode wins; off paint a mode changes nothing.
    const anchor = { ...drag('c', [{ x: 15, y: 12 }]), motion: 'shape' as const };
    const shaped = buildConstraints(project([a, b, anchor], painted));
    expect(shaped.regions.count).toBe(1);
    expect(shaped.regions.info[0]).toBe(1);
    const off = buildConstraints(project([a, b, { ...drag('d', [{ x: 25, y: 2 }]), motion: 'rigid' }], fluidBrush));
    const plain = buildConstraints(project([a, b, drag('d', [{ x: 25, y: 2 }])], fluidBrush));
    expect(off.ids).toEqual(plain.ids);
    expect(off.regions.count).toBe(0);
  });

  it('without modes or feather the constraints are exactly those of the plain brush', () => {
    const a = drag('a', [
      { x: 8, y: 8 },
      { x: 12, y: 8 },
    ]);
    const brush: Project['brush'] = [{ mode: 'paint', radius: 8, points: [{ x: 10, y: 10 }] }];
    const plain = buildConstraints(project([a], brush));
    const fluid = buildConstraints(project([a], [{ ...brush[0], motion: 'fluid' }]));
    expect(fluid.ids).toEqual(plain.ids);
    expect(plain.regions.count).toBe(0);
  });
});
