import { describe, expect, it } from 'vitest';
import { projectPositionTable, sinusoidalPositionTable } from './positionEncoding';

// Values printed by PyTorch 1.13 from AnimateDiff's PositionalEncoding formula (pe[0, pos, ch]).
const TORCH_320: [number, number, number][] = [
  [31, 0, -0.4040376543998718],
  [31, 1, 0.9147423505783081],
  [17, 100, 0.8168795704841614],
  [31, 318, 0.003283680649474263],
  [31, 319, 0.9999946355819702],
  [5, 41, -0.010342338122427464],
  [30, 2, -0.04747329652309418],
  [29, 63, 0.15550902485847473],
];
const TORCH_1280: [number, number, number][] = [
  [31, 2, -0.7570974230766296],
  [31, 3, 0.653302013874054],
  [23, 640, 0.22797751426696777],
  [30, 1279, 0.9999953508377075],
];

describe('sinusoidalPositionTable', () => {
  it('matches AnimateDiff (torch) at C=320 and C=1280', () => {
    const t320 = sinusoidalPositionTable(32, 320);
    for (const [pos, ch, want] of TORCH_320) expect(Math.abs(t320[pos * 320 + ch] - want)).toBeLessThan(2e-6);
    const t1280 = sinusoidalPositionTable(32, 1280);
    for (const [pos, ch, want] of TORCH_1280) expect(Math.abs(t1280[pos * 1280 + ch] - want)).toBeLessThan(2e-6);
  });
  it('position 0 is [0, 1, 0, 1, ...]', () => {
    const t = sinusoidalPositionTable(3, 8);
    expect(Array.from(t.slice(0, 8))).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });
  it('rejects more positions than max_len and odd channels', () => {
    expect(() => sinusoidalPositionTable(33, 320)).toThrow(/positions/);
    expect(() => sinusoidalPositionTable(31, 7)).toThrow(/channels/);
  });
});

describe('projectPositionTable', () => {
  it('applies y = W x per part (torch Linear layout)', () => {
    // C = 2: Wq = identity, Wk = swap, Wv = 2 * identity.
    const pe = new Float32Array([1, 2, 3, 4]);
    const out = projectPositionTable(pe, 2, 2, {
      q: new Float32Array([1, 0, 0, 1]),
      k: new Float32Array([0, 1, 1, 0]),
      v: new Float32Array([2, 0, 0, 2]),
    });
    expect(Array.from(out)).toEqual([1, 2, 2, 1, 2, 4, 3, 4, 4, 3, 6, 8]);
  });
});
