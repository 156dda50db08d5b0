import { test, expect } from '../fixtures';

test('acquires a device with raised limits and reports features', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const ctx = await acquireGpu();
    const out = {
      features: ctx.features,
      binding: ctx.device.limits.maxStorageBufferBindingSize,
      adapterBinding: ctx.adapter.limits.maxStorageBufferBindingSize,
      fallback: ctx.isFallbackAdapter,
    };
    ctx.device.destroy();
    return out;
  });
  expect(r.binding).toBe(r.adapterBinding);
  expect(r.binding).toBeGreaterThan(128 * 1024 * 1024);
  expect(typeof r.features.shaderF16).toBe('boolean');
});

test('GpuManager recreates the device after a loss', async ({ harness }) => {
  const events = await harness.evaluate(async () => {
    const { GpuManager } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const mgr = new GpuManager();
    const seen: string[] = [];
    mgr.subscribe((e: { type: string }) => seen.push(e.type));
    const a = await mgr.get();
    await mgr.simulateLoss();
    const b = await mgr.get();
    const same = a.device === b.device;
    // the new device works
    const buf = b.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    buf.destroy();
    mgr.dispose();
    return { seen, same };
  });
  expect(events.same).toBe(false);
  expect(events.seen).toEqual(['ready', 'lost', 'ready']);
});
