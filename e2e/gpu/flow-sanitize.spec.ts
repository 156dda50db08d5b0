/**
 * FlowSanitize (src/gpu/kernels/flowSanitize.ts) against the CPU reference and hand-counted
 * cases: NaN, +-Inf in either component, +-1e30, values just inside and just outside the limit,
 * -0 and subnormals (finite: kept), over 3 frames of 37x29 (a ragged last workgroup). The
 * repaired stack must equal the reference bit for bit, and the counts must be the hand counts.
 */
import { test, expect } from '../fixtures';

test('flow sanitize zeroes non-finite flows, clamps absurd ones, and counts both', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { FlowSanitize, flowLimit } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/flowSanitize.ts' as string
    )) as typeof import('../../src/gpu/kernels/flowSanitize');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const { sanitizeFlowsCpu } = (await import(
      /* @vite-ignore */ '/e2e/reference/flowSanitize.ts' as string
    )) as typeof import('../reference/flowSanitize');
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const [n, h, w] = [3, 29, 37];
    const plane = h * w;
    const limit = flowLimit(w, h);
    const flows = new Float32Array(n * 2 * plane);
    for (let i = 0; i < flows.length; i++) flows[i] = Math.sin(0.37 * i) * 20;
    // [frame, pixel, dx, dy]: 4 non-finite pixels, 4 clamped ones; the rest must stay as they are
    const cases: [number, number, number, number][] = [
      [0, 0, Number.NaN, 1],
      [0, 5, 2, Number.POSITIVE_INFINITY],
      [1, 7, Number.NEGATIVE_INFINITY, Number.NaN],
      [2, plane - 1, Number.NaN, 1e30], // non-finite wins over clamping
      [0, 9, 1e30, 3],
      [1, 100, -3, -1e30],
      [2, 200, limit * 1.0001, 0],
      [2, 201, 0, -limit * 1.5],
      [1, 300, limit, -limit], // at the limit: kept
      [1, 301, -0, 1e-40], // -0 and a subnormal: finite, kept
    ];
    for (const [f, p, dx, dy] of cases) {
      flows[f * 2 * plane + p] = dx;
      flows[f * 2 * plane + plane + p] = dy;
    }
    const t = uploadTensor(device, flows, [n, 2, h, w], 'float32', 'test flows');
    device.pushErrorScope('validation');
    const repair = await new FlowSanitize(device).run(t);
    const gpu = (await readTensor(device, t)) as Float32Array;
    const error = await device.popErrorScope();
    const ref = sanitizeFlowsCpu(flows, [n, 2, h, w], limit);
    const gpuBits = new Uint32Array(gpu.buffer, gpu.byteOffset, gpu.length);
    const refBits = new Uint32Array(ref.flows.buffer);
    let differ = 0;
    for (let i = 0; i < refBits.length; i++) if (gpuBits[i] !== refBits[i]) differ++;
    const at = (f: number, p: number) => [gpu[f * 2 * plane + p], gpu[f * 2 * plane + plane + p]];
    return {
      error: error?.message ?? null,
      repair,
      ref: { nonFinite: ref.nonFinite, clamped: ref.clamped },
      differ,
      limit,
      samples: { nan: at(0, 0), big: at(0, 9), edge: at(1, 300), clampedY: at(2, 201) },
    };
  });
  expect(r.error).toBeNull();
  expect(r.limit).toBe(148);
  expect(r.repair).toEqual({ nonFinite: 4, clamped: 4, pixels: 3 * 29 * 37, limit: 148 });
  expect(r.ref).toEqual({ nonFinite: 4, clamped: 4 });
  expect(r.differ).toBe(0);
  expect(r.samples.nan).toEqual([0, 0]);
  expect(r.samples.big[0]).toBe(148);
  expect(r.samples.edge).toEqual([148, -148]);
  expect(r.samples.clampedY[1]).toBe(-148);
});
