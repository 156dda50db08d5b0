import { describe, expect, it } from 'vitest';
import { rasterizeBrush } from '../motion/brush';
import type { BrushStroke } from '../motion/types';
import { paintedMask } from './overlay';

describe('paintedMask while painting', () => {
  it('the incremental raster of a growing last stroke equals a full rasterisation', () => {
    const canvas = { width: 96, height: 64 };
    const done: BrushStroke[] = [
      {
        mode: 'paint',
        radius: 10,
        points: [
          { x: 10, y: 10 },
          { x: 80, y: 50 },
        ],
      },
    ];
    for (const mode of ['erase', 'paint'] as const) {
      let points = [{ x: 50, y: 5.5 }];
      let strokes: BrushStroke[] = [...done, { mode, radius: 6.5, points }];
      paintedMask(strokes, canvas);
      for (let i = 1; i <= 12; i++) {
        points = [...points, { x: 50 + 3 * i * Math.cos(i), y: 5.5 + 4.2 * i }];
        strokes = [...done, { mode, radius: 6.5, points }];
        expect(Array.from(paintedMask(strokes, canvas))).toEqual(Array.from(rasterizeBrush(strokes, canvas)));
      }
      done.push(strokes[strokes.length - 1]);
    }
    // Any other change (undo to fewer strokes) falls back to a full rasterisation.
    const fewer = done.slice(0, 1);
    expect(Array.from(paintedMask(fewer, canvas))).toEqual(Array.from(rasterizeBrush(fewer, canvas)));
  });
});
