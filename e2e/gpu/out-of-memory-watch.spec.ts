/**
 * OutOfMemoryWatch on a real device: a real allocation the adapter cannot back (the device's
 * largest buffer size, which SwiftShader cannot allocate: checked first, so the test says so
 * where an adapter can) is reported by the span it fell in, while the job runs (the callback
 * fires before finish), and by finish; a validation error (a buffer over the size limit) and
 * clean spans are not out of memory.
 */
import { expect, test } from '../fixtures';

test('OutOfMemoryWatch reports a failed allocation from the span it fell in, before the job ends', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import('/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { OutOfMemoryWatch } = (await import(
      '/src/gpu/outOfMemoryWatch.ts' as string
    )) as typeof import('../../src/gpu/outOfMemoryWatch');
    const { device } = await acquireGpu();
    const huge = () => device.createBuffer({ size: device.limits.maxBufferSize, usage: GPUBufferUsage.STORAGE }).destroy();
    const settle = () => device.queue.onSubmittedWorkDone().then(() => new Promise((r) => setTimeout(r, 50)));

    // Precondition: this adapter cannot back its largest buffer (else the fault hook cannot simulate anything here).
    device.pushErrorScope('out-of-memory');
    huge();
    const direct = await device.popErrorScope();

    // A clean job, and a job whose only error is a validation error.
    device.pushErrorScope('validation');
    const clean = new OutOfMemoryWatch(device);
    device.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE }).destroy();
    clean.check();
    device.createBuffer({ size: device.limits.maxBufferSize * 2, usage: GPUBufferUsage.STORAGE }).destroy();
    const cleanResult = await clean.finish();
    const validation = await device.popErrorScope();

    // A job that allocates too much in its second span: the callback hears it at the next check, the job still running.
    const heard: string[] = [];
    const watch = new OutOfMemoryWatch(device, (e) => heard.push(e.constructor.name));
    watch.check();
    await settle();
    const beforeFault = heard.length;
    huge();
    watch.check();
    await settle();
    const heardWhileRunning = [...heard];
    watch.check();
    await settle();
    const result = await watch.finish();
    const again = await watch.finish();

    // An allocation after the last check is found by finish.
    const late = new OutOfMemoryWatch(device);
    late.check();
    huge();
    const lateResult = await late.finish();
    device.destroy();
    return {
      direct: direct?.constructor.name ?? null,
      clean: cleanResult,
      validation: validation?.constructor.name ?? null,
      beforeFault,
      heardWhileRunning,
      heard,
      result: result?.constructor.name ?? null,
      same: again === result,
      late: lateResult?.constructor.name ?? null,
    };
  });
  expect(r.direct, 'this adapter can allocate its largest buffer: the out-of-memory path cannot be provoked here').toBe(
    'GPUOutOfMemoryError',
  );
  expect(r.clean).toBeNull();
  expect(r.validation).toBe('GPUValidationError');
  expect(r.beforeFault).toBe(0);
  expect(r.heardWhileRunning).toEqual(['GPUOutOfMemoryError']);
  expect(r.heard).toEqual(['GPUOutOfMemoryError']);
  expect(r.result).toBe('GPUOutOfMemoryError');
  expect(r.same).toBe(true);
  expect(r.late).toBe('GPUOutOfMemoryError');
});
