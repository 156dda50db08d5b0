/**
 * Seamless loop of the classical engine on more frames than one render chunk (the blend used to
 * get the whole output while its check expected the current chunk): the GPU frames against the
 * CPU reference of the loop (e2e/reference/loop.ts), frame N equal to frame 0, no seam.
 */
import { test, expect } from '../fixtures';

test('seamless loop over several render chunks matches the CPU reference; frame N is frame 0', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const motion = (await import(/* @vite-ignore */ '/src/motion/index.ts' as string)) as typeof import('../../src/motion');
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { ClassicalEngine, uploadImage, METRIC_SCALE } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../../src/pipeline/classical');
    const { runStages } = (await import(
      /* @vite-ignore */ '/src/pipeline/engine.ts' as string
    )) as typeof import('../../src/pipeline/engine');
    const { buildConstraints } = (await import(
      /* @vite-ignore */ '/src/pipeline/constraints.ts' as string
    )) as typeof import('../../src/pipeline/constraints');
    const { DENSIFY_DEFAULTS, MIN_COARSE } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/densify.ts' as string
    )) as typeof import('../../src/gpu/kernels/densify');
    const { readTensor } = (await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string)) as typeof import('../../src/gpu/tensor');
    const { cpuLoopFrames, frameMad } = (await import(
      /* @vite-ignore */ '/e2e/reference/loop.ts' as string
    )) as typeof import('../reference/loop');
    const bmp = await createImageBitmap(await (await fetch('/__media/softsplat/one.png')).blob());
    const W = 72;
    const H = 56;
    const ctx = new OffscreenCanvas(W, H).getContext('2d')!;
    ctx.drawImage(bmp, -120, -110);
    const imageData = ctx.getImageData(0, 0, W, H);
    const FRAMES = 11; // 10 flows: three render chunks of 4, 4, 2
    const project = motion.emptyProject();
    project.canvas = { width: W, height: H };
    project.settings.frames = FRAMES;
    project.settings.flowUnit = 32;
    project.settings.loop = true;
    project.trajectories = [
      {
        id: 'a',
        color: '#f00',
        points: [
          { x: 30, y: 28 },
          { x: 38, y: 20 },
          { x: 46, y: 27 },
        ],
        timing: motion.defaultTiming(FRAMES),
      },
    ];
    project.brush = [
      {
        mode: 'paint',
        radius: 22,
        points: [
          { x: 20, y: 28 },
          { x: 50, y: 28 },
        ],
      },
    ];
    const { device } = await acquireGpu();
    // The CPU reference fills holes by pull-push: compare like with like.
    const engine = new ClassicalEngine(device, { holeFill: 'pull-push' });
    const { frames } = await runStages(engine, engine, { project, image: uploadImage(device, imageData) });
    const gpu = (await readTensor(device, frames.tensor)) as Uint32Array;
    const c = buildConstraints(project);
    const cpu = cpuLoopFrames({
      width: W,
      height: H,
      rgba: imageData.data,
      ids: c.ids,
      k: c.k,
      table: c.table,
      frames: c.flows,
      screeningLength: c.screeningLength,
      edgeSigma: DENSIFY_DEFAULTS.edgeSigma,
      floorWeight: DENSIFY_DEFAULTS.floorWeight,
      schedule: { ...DENSIFY_DEFAULTS, minCoarse: MIN_COARSE },
      metricScale: METRIC_SCALE,
    });
    const n = W * H;
    let maxByte = 0;
    let over1 = 0;
    for (let i = 0; i < gpu.length; i++) {
      let worst = 0;
      for (let s = 0; s < 32; s += 8) worst = Math.max(worst, Math.abs(((gpu[i] >>> s) & 255) - ((cpu[i] >>> s) & 255)));
      maxByte = Math.max(maxByte, worst);
      if (worst > 1) over1++;
    }
    const N = FRAMES - 1;
    // Steps of the cycle 0 -> 1 -> ... -> N (= 0): a seam is one step far larger than the others.
    const steps = Array.from({ length: N }, (_, i) => frameMad(gpu, n, i, i + 1));
    const cpuSteps = Array.from({ length: N }, (_, i) => frameMad(cpu, n, i, i + 1));
    let lastVsFirst = 0;
    for (let i = 0; i < n; i++) if (gpu[N * n + i] !== gpu[i]) lastVsFirst++;
    engine.dispose();
    device.destroy();
    return { count: frames.count, maxByte, over1, total: gpu.length, lastVsFirst, steps, cpuSteps, middle: frameMad(gpu, n, 0, N >> 1) };
  });
  console.log('loop GPU vs CPU', r);
  expect(r.count).toBe(11);
  expect(r.lastVsFirst).toBe(0);
  expect(r.maxByte).toBeLessThanOrEqual(2);
  expect(r.over1 / r.total).toBeLessThan(0.001);
  expect(r.middle).toBeGreaterThan(0.3);
  // No seam: no step of the cycle is more than 3x the median step (the CPU reference's own steps agree).
  const median = [...r.steps].sort((a, b) => a - b)[r.steps.length >> 1];
  expect(Math.max(...r.steps)).toBeLessThan(3 * median + 0.05);
  for (let i = 0; i < r.steps.length; i++) expect(Math.abs(r.steps[i] - r.cpuSteps[i])).toBeLessThan(0.05);
});
