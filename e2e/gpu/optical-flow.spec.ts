/**
 * The DIS-style optical flow (src/gpu/kernels/opticalFlow.ts, src/motion/track) against the CPU
 * reference in e2e/reference/dis.ts, written from the shader headers' math:
 *  - every kernel on tiny synthetic images (same inputs to both sides);
 *  - the whole estimator and the tracker on a synthetic translation with a known answer;
 *  - a real Middlebury pair (RubberWhale crop): halfway interpolation by splatting both frames
 *    with the estimated flows must beat a floor and plain blending by a margin.
 */
import { test, expect } from '../fixtures';

test('each optical-flow kernel matches the CPU reference on tiny images', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { OpticalFlowKernels, patchGrid } = ((await import(/* @vite-ignore */ '/src/gpu/kernels/opticalFlow.ts' as string)) as typeof import('../../src/gpu/kernels/opticalFlow'));
    const { uploadTensor, readTensor, createTensor } = ((await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string)) as typeof import('../../src/gpu/tensor'));
    const ref = ((await import(/* @vite-ignore */ '/e2e/reference/dis.ts' as string)) as typeof import('../reference/dis'));
    const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
    const k = new OpticalFlowKernels(device);
    const W = 37;
    const H = 29;
    const n = W * H;
    const pattern = (x: number, y: number) => 128 + 60 * Math.sin(0.35 * x + 0.2 * y) + 40 * Math.cos(0.27 * y - 0.15 * x) + 20 * Math.sin(0.5 * x) * Math.cos(0.45 * y);
    const pack = (dx: number, dy: number, frames: number[]) => {
      const out = new Uint32Array(frames.length * n);
      frames.forEach((f, fi) => {
        for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
          const v = pattern(x - dx * f, y - dy * f);
          const c = (s: number) => Math.max(0, Math.min(255, Math.round(s)));
          out[fi * n + y * W + x] = (c(v) | (c(255 - v * 0.5) << 8) | (c(v * 0.8 + 20) << 16) | (255 << 24)) >>> 0;
        }
      });
      return out;
    };
    const stack = pack(1.3, -0.7, [0, 1]);
    const framesT = uploadTensor(device, stack, [2, H, W], 'uint32');
    const t = (shape: number[]) => createTensor(device, shape);
    const read = async (x: import('../../src/gpu/tensor').GpuTensor) => (await readTensor(device, x)) as Float32Array;
    const run = async (record: (e: GPUCommandEncoder) => void) => {
      const e = device.createCommandEncoder();
      record(e);
      device.queue.submit([e.finish()]);
      await device.queue.onSubmittedWorkDone();
    };
    // |gpu - cpu| <= tol * max(scale, |cpu|): scale 255 for differences of grey levels.
    const compare = (gpu: ArrayLike<number>, cpu: ArrayLike<number>, tol: number, scale = 1) => {
      let worst = 0;
      let bad = 0;
      for (let i = 0; i < cpu.length; i++) {
        const d = Math.abs(gpu[i] - cpu[i]) / Math.max(scale, Math.abs(cpu[i]));
        if (!(d <= tol)) bad++;
        if (!(d <= worst)) worst = d;
      }
      return { worst, bad, size: cpu.length };
    };
    const results: Record<string, { worst: number; bad: number; size: number }> = {};
    device.pushErrorScope('validation');

    const g0 = t([H, W]);
    const g1 = t([H, W]);
    await run((e) => { k.encodeGray(e, framesT, 0, g0); k.encodeGray(e, framesT, 1, g1); });
    const c0 = ref.grayReference(stack, 0, W, H);
    const c1 = ref.grayReference(stack, n, W, H);
    results.gray = compare([...(await read(g0)), ...(await read(g1))], [...c0, ...c1], 1e-5);

    const down = t([Math.ceil(H / 2), Math.ceil(W / 2)]);
    const grad0 = t([2, H, W]);
    const grad1 = t([2, H, W]);
    await run((e) => { k.encodeDownsample(e, g0, down); k.encodeGradient(e, g0, grad0); k.encodeGradient(e, g1, grad1); });
    results.downsample = compare(await read(down), ref.downsampleReference(c0, W, H), 1e-5);
    const cg0 = ref.gradientReference(c0, W, H);
    const cg1 = ref.gradientReference(c1, W, H);
    results.gradient = compare(await read(grad0), cg0, 1e-5, 255);

    // A smooth initial flow near the true (1.3, -0.7), so every patch converges.
    const init = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) { init[i] = 0.8 + 0.3 * Math.sin(i * 0.01); init[n + i] = -0.3 - 0.2 * Math.cos(i * 0.013); }
    const initT = uploadTensor(device, init, [2, H, W]);
    const grid = patchGrid(W, H, 8, 3);
    const patches = t([2, grid.countY, grid.countX]);
    await run((e) => k.encodePatchSearch(e, { i0: g0, grad0, i1: g1, init: initT, patches, grid, iterations: 12 }));
    const gpuPatches = await read(patches);
    results['patch search'] = compare(gpuPatches, ref.patchSearchReference(c0, cg0, c1, init, W, H, grid, 12), 1e-3);

    // Densify from patches that differ across the image (a motion boundary down the middle).
    const mixed = new Float32Array(gpuPatches.length).map((v, i) => v + ((i % grid.countX) > grid.countX / 2 ? 1.5 : 0));
    const mixedT = uploadTensor(device, mixed, [2, grid.countY, grid.countX]);
    const dense = t([2, H, W]);
    await run((e) => k.encodeDensify(e, { i0: g0, i1: g1, patches: mixedT, grid, flow: dense }));
    const denseCpu = ref.densifyReference(c0, c1, mixed, W, H, grid);
    results.densify = compare(await read(dense), denseCpu, 1e-4);

    const weights = { alpha: 20, gamma: 10, delta: 5 };
    const flowT = uploadTensor(device, denseCpu, [2, H, W]);
    const coef = t([6, H, W]);
    const inc = uploadTensor(device, new Float32Array(2 * n).fill(7), [2, H, W]);
    await run((e) => k.encodeVariationalPrep(e, { i0: g0, grad0, i1: g1, grad1, flow: flowT, coefficients: coef, increment: inc, weights }));
    const coefCpu = ref.variationalPrepReference(c0, cg0, c1, cg1, denseCpu, W, H, weights);
    const coefGpu = await read(coef);
    // Coefficients span orders of magnitude: compare each plane relative to its largest value.
    let prepWorst = 0;
    let prepBad = 0;
    for (let c = 0; c < 6; c++) {
      const plane = coefCpu.subarray(c * n, (c + 1) * n);
      const scale = Math.max(...plane.map(Math.abs), 1e-6);
      for (let i = 0; i < n; i++) {
        const d = Math.abs(coefGpu[c * n + i] - plane[i]) / scale;
        if (!(d <= 1e-3)) prepBad++;
        prepWorst = Math.max(prepWorst, d);
      }
    }
    results['variational prep'] = { worst: prepWorst, bad: prepBad, size: 6 * n };
    results['variational prep zeroes the increment'] = compare(await read(inc), new Float32Array(2 * n), 0);

    // Three red-black sweeps from a nonzero increment, same coefficients on both sides.
    const du0 = new Float32Array(2 * n).map((_, i) => 0.05 * Math.sin(i * 0.37));
    const duT = uploadTensor(device, du0, [2, H, W]);
    const coefT = uploadTensor(device, coefCpu, [6, H, W]);
    await run((e) => { for (let s = 0; s < 3; s++) for (const parity of [0, 1] as const) k.encodeVariationalSor(e, { coefficients: coefT, flow: flowT, increment: duT, parity, alpha: 20, omega: 1.6 }); });
    const duCpu = du0.slice();
    for (let s = 0; s < 3; s++) for (const parity of [0, 1]) ref.sorReference(coefCpu, denseCpu, duCpu, W, H, parity, 20, 1.6);
    results['variational sor'] = compare(await read(duT), duCpu, 1e-4);
    await run((e) => k.encodeVariationalApply(e, duT, flowT));
    results['variational apply'] = compare(await read(flowT), denseCpu.map((v, i) => v + duCpu[i]), 1e-4);

    // Forward-backward: a translation whose backward flow is exact except in two blocks.
    const fwd = new Float32Array(2 * n);
    const bwd = new Float32Array(2 * n);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const i = y * W + x;
      fwd[i] = 1.5 + 0.02 * x; fwd[n + i] = -0.5;
      const wrong = (x > 5 && x < 12 && y > 4 && y < 10) || (x > 20 && y > 18);
      bwd[i] = -(1.5 + 0.02 * x) + (wrong ? 2.5 : 0.1); bwd[n + i] = 0.5;
    }
    const occ = t([H, W]);
    await run((e) => k.encodeConsistency(e, { forward: uploadTensor(device, fwd, [2, H, W]), backward: uploadTensor(device, bwd, [2, H, W]), occlusion: occ, fbAlpha: 0.01, fbBeta: 0.5 }));
    const occCpu = ref.consistencyReference(fwd, bwd, W, H, 0.01, 0.5);
    results.consistency = compare(await read(occ), occCpu, 0);
    const occluded = occCpu.reduce((a, b) => a + b, 0);

    // Compose: a smooth track, a step flow, and block occlusions on both.
    const track = new Float32Array(2 * n).map((_, i) => (i < n ? 2.3 + Math.sin(i * 0.05) : -1.7 + Math.cos(i * 0.03)));
    const step = new Float32Array(2 * n).map((_, i) => Math.sin(i * 0.11) * 3);
    const trackOcc = new Float32Array(n).map((_, i) => ((i % W) < 4 ? 1 : 0));
    const stepOcc = new Float32Array(n).map((_, i) => (Math.floor(i / W) % 7 === 3 ? 1 : 0));
    const composed = t([2, H, W]);
    const composedOcc = t([H, W]);
    await run((e) => k.encodeCompose(e, { track: uploadTensor(device, track, [2, H, W]), trackOcclusion: uploadTensor(device, trackOcc, [H, W]), step: uploadTensor(device, step, [2, H, W]), stepOcclusion: uploadTensor(device, stepOcc, [H, W]), composed, composedOcclusion: composedOcc }));
    const comp = ref.composeReference(track, trackOcc, step, stepOcc, W, H);
    results['compose flow'] = compare(await read(composed), comp.flow, 1e-5);
    results['compose occlusion'] = compare(await read(composedOcc), comp.occlusion, 0);

    const err = await device.popErrorScope();
    device.destroy();
    return { results, err: err?.message ?? null, occluded, n };
  });
  expect(r.err).toBeNull();
  for (const [name, v] of Object.entries(r.results)) console.log(`${name}: worst ${v.worst.toExponential(2)}, ${v.bad} of ${v.size} outside tolerance`);
  for (const [name, v] of Object.entries(r.results)) expect(v.bad, name).toBe(0);
  // The consistency case must exercise both outcomes.
  expect(r.occluded).toBeGreaterThan(50);
  expect(r.occluded).toBeLessThan(r.n - 50);
});
