import { describe, expect, it } from 'vitest';
import { movableMask, rasterizeBrush, staticMask, strokesOfPatch } from './brush';
import type { BrushStroke } from './types';

const canvas = { width: 10, height: 8 };
/** Painted pixels as "x,y" strings, for readable expectations. */
const on = (m: Uint8Array, width = canvas.width) =>
  Array.from(m.keys())
    .filter((i) => m[i])
    .map((i) => `${i % width},${Math.floor(i / width)}`);
const paint = (radius: number, ...pts: [number, number][]): BrushStroke => ({
  mode: 'paint',
  radius,
  points: pts.map(([x, y]) => ({ x, y })),
});
const erase = (radius: number, ...pts: [number, number][]): BrushStroke => ({
  mode: 'erase',
  radius,
  points: pts.map(([x, y]) => ({ x, y })),
});

describe('rasterizeBrush', () => {
  it('a one-point stroke is a disk over pixel centres', () => {
    // Centre (5, 5), r = 1: centres (4.5|5.5, 4.5|5.5) are sqrt(.5) = .71 away -> in;
    // (3.5, 4.5) is sqrt(1.5^2 + .5^2) = 1.58 away -> out.
    expect(on(rasterizeBrush([paint(1, [5, 5])], canvas))).toEqual(['4,4', '5,4', '4,5', '5,5']);
  });

  it('a segment paints a capsule with round caps', () => {
    // Along y = 5.5 from x = 2.5 to 7.5, r = .5: row 5 centres 2.5..7.5 are on the segment;
    // row 4/6 centres are 1 away; (1.5, 5.5) and (8.5, 5.5) are 1 past the caps -> out.
    expect(on(rasterizeBrush([paint(0.5, [2.5, 5.5], [7.5, 5.5])], canvas))).toEqual(['2,5', '3,5', '4,5', '5,5', '6,5', '7,5']);
    // r = 1.2 adds the cap pixels (1.5, 5.5), (8.5, 5.5) (1 away) and rows 4, 6 (1 away) but
    // not the cap diagonals (1.5, 4.5): sqrt(2) = 1.41 > 1.2.
    const thick = on(rasterizeBrush([paint(1.2, [2.5, 5.5], [7.5, 5.5])], canvas));
    expect(thick).toContain('1,5');
    expect(thick).toContain('8,5');
    expect(thick).not.toContain('1,4');
    expect(thick).toHaveLength(6 * 3 + 2);
  });

  it('strokes apply in order: erase clears, a later paint restores', () => {
    const full = paint(20, [5, 4]);
    const hole = erase(1, [5, 5]);
    const painted = rasterizeBrush([full, hole], canvas);
    expect(on(painted)).toHaveLength(80 - 4);
    expect(on(painted)).not.toContain('4,4');
    expect(on(rasterizeBrush([full, hole, paint(1, [5, 5])], canvas))).toHaveLength(80);
    expect(on(rasterizeBrush([hole, full], canvas))).toHaveLength(80);
  });

  it('clips strokes that leave the canvas and ignores ones entirely outside', () => {
    expect(on(rasterizeBrush([paint(1, [0, 0])], canvas))).toEqual(['0,0']);
    expect(on(rasterizeBrush([paint(3, [-50, -50], [-40, -60])], canvas))).toEqual([]);
    expect(on(rasterizeBrush([paint(0.5, [-5, 0.5], [30, 0.5])], canvas))).toHaveLength(10);
  });
});

describe('movableMask / staticMask (reference semantics)', () => {
  it('nothing painted: everything may move, nothing is static', () => {
    expect(movableMask([], canvas).every((v) => v === 1)).toBe(true);
    expect(staticMask([], canvas).every((v) => v === 0)).toBe(true);
  });

  it('painted pixels may move, the rest is static', () => {
    const strokes = [paint(1, [5, 5])];
    expect(on(movableMask(strokes, canvas))).toEqual(['4,4', '5,4', '4,5', '5,5']);
    const fixed = staticMask(strokes, canvas);
    expect(on(fixed)).toHaveLength(76);
    expect(fixed[4 * 10 + 4]).toBe(0);
    expect(fixed[0]).toBe(1);
  });

  it('paint then erase everything counts as nothing painted: everything may move', () => {
    const strokes = [paint(1, [5, 5]), erase(2, [5, 5])];
    expect(movableMask(strokes, canvas).every((v) => v === 1)).toBe(true);
  });
});

describe('strokesOfPatch', () => {
  it('finds every paint stroke of the connected patch under a pixel, and none elsewhere', () => {
    const canvas = { width: 60, height: 20 };
    // Strokes 0 and 1 overlap (one patch); stroke 2 is apart; stroke 3 erases its centre and
    // stroke 4 paints it again: the erase stroke lies on the patch but is not part of it.
    const strokes: BrushStroke[] = [
      paint(4, [5, 10], [15, 10]),
      paint(4, [18, 10], [25, 10]),
      paint(3, [45, 10]),
      erase(1.5, [45, 10]),
      paint(1, [45, 10]),
    ];
    expect(strokesOfPatch(strokes, canvas, 6, 10)).toEqual([0, 1]);
    expect(strokesOfPatch(strokes, canvas, 24, 10)).toEqual([0, 1]);
    expect(strokesOfPatch(strokes, canvas, 47, 10)).toEqual([2, 4]);
    expect(strokesOfPatch(strokes, canvas, 35, 10)).toEqual([]);
  });
});
