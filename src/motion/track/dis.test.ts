import { describe, expect, it } from 'vitest';
import { patchCount } from '../../gpu/kernels/opticalFlow';
import { coarsestLevel, DIS_PRESETS, levelSizes } from './dis';

describe('DIS layout', () => {
  it('patches cover every pixel, the last one ending at the border', () => {
    for (const [extent, size, stride] of [
      [37, 8, 3],
      [8, 8, 3],
      [320, 8, 4],
      [29, 8, 2],
      [100, 12, 5],
    ]) {
      const count = patchCount(extent, size, stride);
      const origins = Array.from({ length: count }, (_, i) => Math.min(i * stride, extent - size));
      expect(origins[origins.length - 1] + size).toBe(extent);
      for (let c = 0; c < extent; c++)
        expect(
          origins.some((o) => o <= c && c < o + size),
          `${extent} ${c}`,
        ).toBe(true);
      expect(new Set(origins).size).toBe(count);
    }
  });

  it('picks the coarsest level as OpenCV does and never a level smaller than a patch', () => {
    expect(coarsestLevel(640, 480, DIS_PRESETS.high)).toBe(4);
    expect(coarsestLevel(1024, 436, DIS_PRESETS.medium)).toBe(5);
    expect(coarsestLevel(8, 8, DIS_PRESETS.medium)).toBe(0);
    for (const [w, h] of [
      [37, 29],
      [64, 48],
      [512, 320],
      [9, 300],
    ]) {
      const sizes = levelSizes(w, h, coarsestLevel(w, h, DIS_PRESETS.fast));
      const [lw, lh] = sizes[sizes.length - 1];
      expect(Math.min(lw, lh)).toBeGreaterThanOrEqual(8);
    }
  });
});
