/**
 * Bad arguments to SoftmaxSplat: each is rejected with a KernelInputError naming the kernel
 * and the argument, before anything is recorded: the encoder used for every failed call is
 * submitted afterwards and the output buffer still holds its sentinel, with no WebGPU
 * validation error.
 */
import { test, expect } from '../fixtures';
import type { DType } from '../../src/gpu/tensor';

test('SoftmaxSplat rejects bad arguments before dispatch', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { SoftmaxSplat } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/splat.ts' as string
    )) as typeof import('../../src/gpu/kernels/splat');
    const { uploadTensor, createTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    // Default limits: maxStorageBufferBindingSize 128 MiB, so the binding check is reachable.
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const splat = new SoftmaxSplat(device);
    const [B, C, H, W, N] = [2, 3, 4, 5, 3];
    const input = uploadTensor(device, new Float32Array(B * C * H * W).fill(1), [B, C, H, W]);
    const flows = uploadTensor(device, new Float32Array(N * 2 * H * W).fill(0.5), [N, 2, H, W]);
    const metric = uploadTensor(device, new Float32Array(B * N * H * W), [B, N, H, W]);
    const sentinel = new Float32Array(B * N * C * H * W).fill(-12345);
    const output = uploadTensor(device, sentinel, [B, N, C, H, W]);
    const t = (shape: number[], dtype: DType = 'float32') => createTensor(device, shape, dtype);
    const big = device.limits.maxStorageBufferBindingSize / 4 + 1024; // channels: just over the binding limit
    const cases: [string, Record<string, unknown>][] = [
      ['mode', { input, flows, mode: 'max' }],
      ['layout', { input, flows, mode: 'avg', layout: 'nchw' }],
      ['input', { input: undefined, flows, mode: 'avg' }],
      ['input', { input: t([B, C, H, W], 'int32'), flows, mode: 'avg' }],
      ['input', { input: t([C, H, W]), flows, mode: 'avg' }],
      ['input', { input: { ...input, shape: [B, C, H, W * 100] }, flows: t([N, 2, H, W * 100]), mode: 'avg' }],
      ['flows', { input, flows: t([N, 2, H + 1, W]), mode: 'avg' }],
      ['flows', { input, flows: t([N, 3, H, W]), mode: 'avg' }],
      ['flows', { input, flows: t([N, 2, H, W], 'float16'), mode: 'avg' }],
      ['flows', { input, flows: { ...flows, shape: [N, 2, H, W, 1] }, mode: 'avg' }],
      ['metric', { input, flows, mode: 'soft' }],
      ['metric', { input, flows, mode: 'linear' }],
      ['metric', { input, flows, mode: 'avg', metric }],
      ['metric', { input, flows, mode: 'soft', metric: t([3, 1, H, W]) }],
      ['metric', { input, flows, mode: 'soft', metric: t([1, 2, H, W]) }],
      ['metric', { input, flows, mode: 'soft', metric: t([1, 1, H, W + 1]) }],
      ['output', { input, flows, mode: 'avg', output: t([B, N, H, W, C]) }],
      ['output', { input: { ...input, shape: [B, H, W, C] }, flows, mode: 'avg', layout: 'hwc', output: t([B, N, C, H, W]) }],
      ['output', { input, flows, mode: 'avg', output: t([B, N, C, H, W], 'int32') }],
      ['output', { input: { ...output, shape: [B, C, H, W] }, flows, mode: 'avg', output }],
      ['input', { input: t([1, big, 1, 1]), flows: t([1, 2, 1, 1]), mode: 'sum', output: undefined }],
    ];
    const encoder = device.createCommandEncoder();
    device.pushErrorScope('validation');
    const seen: { expected: string; name: string; kernel: string; argument: string; code: string; message: string }[] = [];
    for (const [expected, args] of cases) {
      try {
        splat.encode(encoder, { output, ...args } as Parameters<typeof splat.encode>[1]);
        seen.push({ expected, name: 'none', kernel: '', argument: '', code: '', message: 'did not throw' });
      } catch (e) {
        const err = e as { name: string; kernel: string; argument: string; code: string; message: string };
        seen.push({ expected, name: err.name, kernel: err.kernel, argument: err.argument, code: err.code, message: err.message });
      }
    }
    splat.dispose();
    let disposedError = '';
    try {
      splat.encode(encoder, { input, flows, mode: 'avg', output });
    } catch (e) {
      disposedError = (e as { argument: string }).argument;
    }
    splat.dispose(); // twice is fine
    device.queue.submit([encoder.finish()]);
    const after = (await readTensor(device, output)) as Float32Array;
    const validation = await device.popErrorScope();
    device.destroy();
    return { seen, untouched: after.every((v: number) => v === -12345), validation: validation?.message ?? null, disposedError };
  });
  for (const s of r.seen) {
    console.log(`${s.expected}: ${s.message}`);
    expect(s.name, s.message).toBe('KernelInputError');
    expect(s.code).toBe('kernel-input');
    expect(s.kernel).toBe('SoftmaxSplat');
    expect(s.argument, s.message).toBe(s.expected);
    expect(s.message).toContain(`'${s.expected}'`);
  }
  expect(r.seen.at(-1)!.message).toContain('maxStorageBufferBindingSize');
  expect(r.disposedError).toBe('this');
  expect(r.untouched).toBe(true);
  expect(r.validation).toBeNull();
});
