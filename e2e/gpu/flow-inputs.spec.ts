/**
 * Bad arguments to FlowResize and FlowColour: a KernelInputError naming the kernel and the
 * argument, thrown before anything is recorded (the encoder is submitted afterwards and the
 * output keeps its sentinel; no WebGPU validation error).
 */
import { test, expect } from '../fixtures';
import type { DType } from '../../src/gpu/tensor';

test('FlowResize and FlowColour reject bad arguments before dispatch', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { FlowResize } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/flowResize.ts' as string
    )) as typeof import('../../src/gpu/kernels/flowResize');
    const { FlowColour, FLOW_COLOUR_USAGE } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/flowColour.ts' as string
    )) as typeof import('../../src/gpu/kernels/flowColour');
    const { uploadTensor, createTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const resize = new FlowResize(device);
    const colour = new FlowColour(device);
    const [N, H, W] = [2, 6, 8];
    const flows = uploadTensor(device, new Float32Array(N * 2 * H * W).fill(1), [N, 2, H, W]);
    const output = uploadTensor(device, new Float32Array(N * 2 * 3 * 4).fill(-7), [N, 2, 3, 4]);
    const t = (shape: number[], dtype: DType = 'float32') => createTensor(device, shape, dtype);
    const tex = (w: number, h: number, format: GPUTextureFormat, usage: number) => device.createTexture({ size: [w, h], format, usage });
    const encoder = device.createCommandEncoder();
    device.pushErrorScope('validation');
    const seen: { kernel: string; expected: string; name: string; got: string; argument: string; message: string }[] = [];
    const attempt = (kernel: string, expected: string, fn: () => void) => {
      try {
        fn();
        seen.push({ kernel, expected, name: 'none', got: '', argument: '', message: 'did not throw' });
      } catch (e) {
        const err = e as { name: string; kernel: string; argument: string; message: string };
        seen.push({ kernel, expected, name: err.name, got: err.kernel, argument: err.argument, message: err.message });
      }
    };
    const R = (expected: string, args: Record<string, unknown>) =>
      attempt('FlowResize', expected, () => resize.encode(encoder, { flows, height: 3, width: 4, output, ...args }));
    R('flows', { flows: t([2, H, W]) });
    R('flows', { flows: t([N, 3, H, W]) });
    R('flows', { flows: t([N, 2, H, W], 'int32') });
    R('flows', { flows: { ...flows, shape: [N, 2, H, W * 10] } });
    R('height', { height: 0 });
    R('height', { height: -3 });
    R('width', { width: 2.5 });
    R('width', { width: NaN });
    R('output', { output: t([N, 2, 4, 3]) });
    R('output', { output: t([N, 2, 3, 4], 'uint32') });
    R('output', { flows: { ...output, shape: [N, 2, 3, 4] } });
    const storage = 0x08 | 0x01;
    const Q = (expected: string, args: Record<string, unknown>) =>
      attempt('FlowColour', expected, () => colour.encode(encoder, { flows, ...args }));
    Q('flows', { flows: t([3, H, W]) });
    Q('flows', { flows: t([N, 2, 2, H, W]) });
    Q('flows', { flows: t([2, H, W], 'int32') });
    Q('frame', { frame: 2 });
    Q('frame', { frame: -1 });
    Q('frame', { frame: 0.5 });
    Q('maxRadius', { maxRadius: 0 });
    Q('maxRadius', { maxRadius: Infinity });
    Q('output', { output: tex(W, H, 'rgba16float', storage) });
    Q('output', { output: tex(W + 1, H, 'rgba8unorm', storage) });
    Q('output', { output: tex(W, H, 'rgba8unorm', 0x04 | 0x01) });
    resize.dispose();
    colour.dispose();
    attempt('FlowColour', 'this', () => colour.encode(encoder, { flows }));
    // a valid texture of the right kind is accepted (usage constant matches what the kernel needs)
    const good = tex(W, H, 'rgba8unorm', FLOW_COLOUR_USAGE);
    device.queue.submit([encoder.finish()]);
    const after = (await readTensor(device, output)) as Float32Array;
    const validation = await device.popErrorScope();
    good.destroy();
    device.destroy();
    return { seen, untouched: after.every((v: number) => v === -7), validation: validation?.message ?? null };
  });
  for (const s of r.seen) {
    console.log(`${s.kernel} ${s.expected}: ${s.message}`);
    expect(s.name, s.message).toBe('KernelInputError');
    expect(s.got).toBe(s.kernel);
    expect(s.argument, s.message).toBe(s.expected);
  }
  expect(r.untouched).toBe(true);
  expect(r.validation).toBeNull();
});
