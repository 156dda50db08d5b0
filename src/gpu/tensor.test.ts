import { describe, expect, it } from 'vitest';
import { numel } from './tensor';

describe('tensor helpers', () => {
  it('numel multiplies dimensions', () => {
    expect(numel([2, 3, 4])).toBe(24);
    expect(numel([])).toBe(1);
  });
});
