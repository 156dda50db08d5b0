import { afterEach, describe, expect, it } from 'vitest';
import { AppError, DeviceLostError, GENERIC_FAILURE, isOutOfMemory, KernelInputError, OutOfMemoryError, toUserError } from './errors';

describe('out of memory', () => {
  const g = globalThis as { GPUOutOfMemoryError?: unknown };
  afterEach(() => delete g.GPUOutOfMemoryError);

  it("is told by WebGPU's class, by the words of others' errors, and through causes", () => {
    class GPUOutOfMemoryError {
      message = 'x';
    }
    g.GPUOutOfMemoryError = GPUOutOfMemoryError;
    expect(isOutOfMemory(new GPUOutOfMemoryError())).toBe(true);
    expect(isOutOfMemory(new Error('Failed to allocate 12 bytes'))).toBe(true);
    expect(isOutOfMemory(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isOutOfMemory(new AppError('model-pack', 'could not be loaded', { cause: new GPUOutOfMemoryError() }))).toBe(true);
    expect(isOutOfMemory(new Error('Invalid buffer'))).toBe(false);
    expect(isOutOfMemory(new KernelInputError('K', 'a', 'has shape [2]'))).toBe(false);
  });

  it('never judges our own messages by their words: a lost device stays a lost device', () => {
    const lost = new DeviceLostError('reset');
    expect(lost.message).toMatch(/out of memory/);
    expect(isOutOfMemory(lost)).toBe(false);
    expect(toUserError(lost)).toBe(lost);
  });

  it('names the variant the job ran and the smaller ones the pack has', () => {
    expect(new OutOfMemoryError({ pack: { variant: 'fp32', smaller: ['q8', 'q4'] } }).message).toMatch(
      /runs in fp32 here: install a smaller precision of it \(q8 or q4\) in Model packs/,
    );
    expect(new OutOfMemoryError({ pack: { variant: 'q4', smaller: [] } }).message).toMatch(
      /already runs in its smallest precision here \(q4\)/,
    );
    const rebuilt = new OutOfMemoryError({ message: 'as sent' });
    expect(toUserError(rebuilt)).toBe(rebuilt);
    expect(toUserError(new AppError('gpu-out-of-memory', 'as sent')).message).toBe('as sent');
  });

  it('toUserError turns any of them into the one message; other internal errors stay generic', () => {
    const e = toUserError(new Error('[WebGPU] Out of memory while creating buffer "x" of shape [1, 2]'));
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e.code).toBe('gpu-out-of-memory');
    expect(e.message).not.toMatch(/shape|WebGPU\]/);
    expect(toUserError(new Error('something else')).message).toBe(GENERIC_FAILURE);
  });
});
