/**
 * Changing the canvas shape or moving the crop keeps the drawing on the photo: a point drawn on
 * image pixel I shows image pixel I afterwards (CropBox's definition: canvas point p shows image
 * point crop.xy + p * crop.size / canvas.size), a round trip gives the points back, and inside a
 * crop drag points pushed to the edge come back when the drag returns.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { emptyProject, type CropBox, type Point, type Project } from '../motion/types';
import { coverCrop } from './image';
import { useProjectStore } from './project';

const s = () => useProjectStore.getState();
const IMAGE = { width: 2000, height: 1000 };
const LANDSCAPE = { width: 512, height: 320 };
const PORTRAIT = { width: 320, height: 512 };

function imagePoint(p: Point, crop: CropBox, canvas: { width: number; height: number }): Point {
  return { x: crop.x + (p.x * crop.width) / canvas.width, y: crop.y + (p.y * crop.height) / canvas.height };
}

function start(): Project {
  const crop = coverCrop(IMAGE.width, IMAGE.height, LANDSCAPE);
  const project: Project = {
    ...emptyProject(),
    canvas: { ...LANDSCAPE },
    image: {
      id: 'img',
      name: 'photo.png',
      width: IMAGE.width,
      height: IMAGE.height,
      naturalWidth: IMAGE.width,
      naturalHeight: IMAGE.height,
    },
    crop,
    trajectories: [
      {
        id: 'a',
        color: '#ff0000',
        timing: { mode: 'reference', startFrame: 0, endFrame: 15 },
        // the middle two fall inside the portrait crop, the outer ones outside it
        points: [
          { x: 20, y: 100 },
          { x: 200, y: 150 },
          { x: 300, y: 160 },
          { x: 500, y: 300 },
        ],
      },
    ],
    brush: [{ mode: 'paint', radius: 20, points: [{ x: 256, y: 160 }] }],
  } as Project;
  s().resetProject(project, { hydrated: true });
  return s().project;
}

beforeEach(() => s().resetProject(emptyProject(), { hydrated: true }));

describe('reframing keeps the drawing on the photo', () => {
  it('a canvas change maps each point through the crop; the round trip gives inner points back', () => {
    const before = start();
    const crop = coverCrop(IMAGE.width, IMAGE.height, PORTRAIT);
    s().setCanvas(PORTRAIT, crop);
    const p = s().project;
    const [, b, c] = before.trajectories[0].points;
    const [o1, b2, c2, o4] = p.trajectories[0].points;
    for (const [was, now] of [
      [b, b2],
      [c, c2],
    ]) {
      const want = imagePoint(was, before.crop!, before.canvas);
      const got = imagePoint(now, crop, PORTRAIT);
      expect(got.x).toBeCloseTo(want.x, 6);
      expect(got.y).toBeCloseTo(want.y, 6);
    }
    // outside the narrower crop: at the canvas's edge
    expect(o1.x).toBe(0);
    expect(o4.x).toBe(PORTRAIT.width - 1);
    // the brush covers the same image area: radius in image pixels unchanged
    const perPx = (k: CropBox, canvas: { width: number }) => k.width / canvas.width;
    expect(p.brush[0].radius * perPx(crop, PORTRAIT)).toBeCloseTo(20 * perPx(before.crop!, LANDSCAPE), 6);

    s().setCanvas(LANDSCAPE, coverCrop(IMAGE.width, IMAGE.height, LANDSCAPE));
    const back = s().project.trajectories[0].points;
    expect(back[1].x).toBeCloseTo(b.x, 6);
    expect(back[2].y).toBeCloseTo(c.y, 6);
    expect(s().project.brush[0].radius).toBeCloseTo(20, 6);
    s().undo();
    s().undo();
    expect(s().project).toEqual(before);
  });

  it('a crop drag moves the drawing with the photo, from the drag start (nothing lost at the edge on the way)', () => {
    const before = start();
    const crop0 = before.crop!;
    s().mark();
    // drag the photo far right (crop moves left to x = 0): the rightmost point leaves the canvas on the way
    s().setCrop({ ...crop0, x: 0 });
    const far = s().project.trajectories[0].points;
    const dx = crop0.x * (LANDSCAPE.width / crop0.width);
    expect(far[1].x).toBeCloseTo(before.trajectories[0].points[1].x + dx, 6);
    expect(far[3].x).toBe(LANDSCAPE.width - 1);
    s().setCrop(crop0);
    s().commit();
    expect(s().project.trajectories).toEqual(before.trajectories);
    expect(s().project).toEqual(before);
  });
});
