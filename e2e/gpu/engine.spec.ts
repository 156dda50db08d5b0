/**
 * The classical engine end to end on a real photo (../shared/media/softsplat/one.png, 320x320):
 * frames, bit-identical static pixels, the dragged patch found where the trajectory ends,
 * progress, abort, and the worker path through EngineClient.
 */
import { test, expect } from '../fixtures';

/** Shared page-side set-up: the photo as ImageData and a project with one drag and a brush. */
const SETUP = `
  window.__setup = async (frames) => {
    const motion = await import('/src/motion/index.ts');
    const bmp = await createImageBitmap(await (await fetch('/__media/softsplat/one.png')).blob());
    const canvas = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bmp, 0, 0);
    const imageData = ctx.getImageData(0, 0, bmp.width, bmp.height);
    const project = motion.emptyProject();
    project.canvas = { width: bmp.width, height: bmp.height };
    project.settings.frames = frames;
    project.settings.flowUnit = 64; // footprint radius 8 px
    project.trajectories = [{ id: 't', color: '#f00', points: [{ x: 160, y: 150 }, { x: 172, y: 141 }], timing: motion.defaultTiming(frames) }];
    project.brush = [{ mode: 'paint', radius: 50, points: [{ x: 160, y: 150 }] }];
    return { imageData, project, motion };
  };
`;

test('renders N+1 frames: frame 0 is the image, static pixels are bit-identical, the dragged patch lands at the trajectory end', async ({
  harness,
}) => {
  await harness.addScriptTag({ content: SETUP });
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { ClassicalEngine, uploadImage } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../../src/pipeline/classical');
    const { runStages } = (await import(
      /* @vite-ignore */ '/src/pipeline/engine.ts' as string
    )) as typeof import('../../src/pipeline/engine');
    const { readTensor } = (await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string)) as typeof import('../../src/gpu/tensor');
    const { imageData, project, motion } = await (window as unknown as { __setup: (f: number) => Promise<any> }).__setup(5);
    const { device } = await acquireGpu();
    const engine = new ClassicalEngine(device);
    const image = uploadImage(device, imageData);
    const progress: { stage: string; fraction: number }[] = [];
    const { frames } = await runStages(
      engine,
      engine,
      { project, image },
      { onProgress: (p: { stage: string; fraction: number }) => progress.push(p) },
    );
    const words = (await readTensor(device, frames.tensor)) as Uint32Array;
    const W = imageData.width;
    const H = imageData.height;
    const n = W * H;
    const ref = new Uint32Array(imageData.data.buffer);
    let frame0Diff = 0;
    for (let i = 0; i < n; i++) if (words[i] !== ref[i]) frame0Diff++;
    // Static pixels well away from anything that moves (outside the painted disc grown by the
    // largest displacement, 15 px, plus 2): every frame must copy the image's bytes.
    const movable = motion.movableMask(project.brush, project.canvas);
    let staticChecked = 0;
    let staticDiff = 0;
    for (let f = 1; f < frames.count; f++) {
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const i = y * W + x;
          if (movable[i] || Math.hypot(x - 160, y - 150) < 50 + 15 + 2) continue;
          staticChecked++;
          if (words[f * n + i] !== ref[i]) staticDiff++;
        }
    }
    // Template match of a 9x9 patch around the start point in the last frame.
    const lum = (w: number) => (w & 255) + ((w >>> 8) & 255) + ((w >>> 16) & 255);
    const last = frames.count - 1;
    let best = { dx: 0, dy: 0, ssd: Infinity };
    for (let dy = -20; dy <= 20; dy++)
      for (let dx = -20; dx <= 20; dx++) {
        let ssd = 0;
        for (let v = -4; v <= 4; v++)
          for (let u = -4; u <= 4; u++) {
            const a = lum(ref[(150 + v) * W + 160 + u]);
            const b = lum(words[last * n + (150 + dy + v) * W + 160 + dx + u]);
            ssd += (a - b) ** 2;
          }
        if (ssd < best.ssd) best = { dx, dy, ssd };
      }
    const end = motion.sampleTrajectory(project.trajectories[0], 5)[4];
    engine.dispose();
    device.destroy();
    return {
      count: frames.count,
      shape: frames.tensor.shape,
      frame0Diff,
      staticChecked,
      staticDiff,
      best,
      expected: { dx: end.x - 160, dy: end.y - 150 },
      progress,
    };
  });
  expect(r.count).toBe(5);
  expect(r.shape).toEqual([5, 320, 320]);
  expect(r.frame0Diff).toBe(0);
  expect(r.staticChecked).toBeGreaterThan(4 * 50_000);
  expect(r.staticDiff).toBe(0);
  expect(Math.abs(r.best.dx - r.expected.dx)).toBeLessThanOrEqual(1);
  expect(Math.abs(r.best.dy - r.expected.dy)).toBeLessThanOrEqual(1);
  // Progress is stage-local: within each stage it only grows, and each stage ends at exactly 1.
  expect([...new Set(r.progress.map((p) => p.stage))]).toEqual(['prepare', 'motion', 'render']);
  for (const stage of ['prepare', 'motion', 'render']) {
    const fr = r.progress.filter((p) => p.stage === stage).map((p) => p.fraction);
    for (let i = 1; i < fr.length; i++) expect(fr[i]).toBeGreaterThan(fr[i - 1]);
    expect(fr[fr.length - 1]).toBe(1);
  }
  // Rendering 4 frames in chunks of 4 reports once; the split into stages is the worker's (jobProgress).
  expect(r.progress.filter((p) => p.stage === 'render').length).toBeGreaterThanOrEqual(1);
});

test('abort during rendering rejects with AbortError at once', async ({ harness }) => {
  await harness.addScriptTag({ content: SETUP });
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { ClassicalEngine, uploadImage } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../../src/pipeline/classical');
    const { runStages } = (await import(
      /* @vite-ignore */ '/src/pipeline/engine.ts' as string
    )) as typeof import('../../src/pipeline/engine');
    const { imageData, project } = await (window as unknown as { __setup: (f: number) => Promise<any> }).__setup(16);
    const { device } = await acquireGpu();
    const engine = new ClassicalEngine(device);
    const image = uploadImage(device, imageData);
    const controller = new AbortController();
    let abortedAt = 0;
    const onProgress = (p: { stage: string }) => {
      if (p.stage === 'render' && !abortedAt) {
        abortedAt = performance.now();
        controller.abort();
      }
    };
    let error: { name: string; code?: string } | null = null;
    try {
      await runStages(engine, engine, { project, image }, { signal: controller.signal, onProgress });
    } catch (e) {
      error = { name: (e as Error).name, code: (e as { code?: string }).code };
    }
    const ms = performance.now() - abortedAt;
    // A fresh job on the same engine still works after the abort.
    project.settings.frames = 2;
    const again = await runStages(engine, engine, { project, image });
    const ok = again.frames.count === 2;
    engine.dispose();
    device.destroy();
    return { error, ms, ok, abortedAt };
  });
  expect(r.abortedAt).toBeGreaterThan(0);
  expect(r.error).toEqual({ name: 'AbortError', code: 'aborted' });
  expect(r.ms).toBeLessThan(500);
  expect(r.ok).toBe(true);
});

test('EngineClient runs the job in a worker: frames, progress, preview and cancel', async ({ harness }) => {
  await harness.addScriptTag({ content: SETUP });
  const r = await harness.evaluate(async () => {
    const { EngineClient } = (await import(
      /* @vite-ignore */ '/src/pipeline/client.ts' as string
    )) as typeof import('../../src/pipeline/client');
    const { imageData, project } = await (window as unknown as { __setup: (f: number) => Promise<any> }).__setup(4);
    const client = new EngineClient();
    const fractions: number[] = [];
    const video = await client.generate(project, imageData, {
      onProgress: (p: { fraction: number }) => fractions.push(p.fraction),
      includeFlows: true,
    });
    const canvas = new OffscreenCanvas(video.width, video.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(video.frames[0], 0, 0);
    const f0 = new Uint32Array(ctx.getImageData(0, 0, video.width, video.height).data.buffer);
    const ref = new Uint32Array(imageData.data.buffer);
    let diff = 0;
    for (let i = 0; i < ref.length; i++) if (f0[i] !== ref[i]) diff++;
    const frameSizes = video.frames.map((b: ImageBitmap) => `${b.width}x${b.height}`);
    const flowAtStart = video.flows
      ? [video.flows[2 * 320 * 320 * 2 + 150 * 320 + 160], video.flows[2 * 320 * 320 * 2 + 320 * 320 + 150 * 320 + 160]]
      : null;
    const preview = await client.preview(project, imageData, { frame: 3 });
    const detail = await client.previewDetail(project, imageData, { frame: 2, stripWidth: 80, withFlow: true });
    // A cancelled request rejects with AbortError.
    const controller = new AbortController();
    const pending = client.generate(project, imageData, { signal: controller.signal });
    controller.abort();
    let cancelError = '';
    try {
      await pending;
    } catch (e) {
      cancelError = (e as Error).name;
    }
    client.dispose();
    client.dispose(); // safe twice
    return {
      frames: video.frames.length,
      fps: video.fps,
      frameSizes,
      diff,
      fractions,
      flowAtStart,
      preview: [preview.width, preview.height],
      strip: detail.strip.map((b: ImageBitmap) => `${b.width}x${b.height}`),
      flowLen: detail.flow?.length,
      cancelError,
      colour: detail.flowColour ? [detail.flowColour.width, detail.flowColour.height] : null,
    };
  });
  expect(r.frames).toBe(4);
  expect(new Set(r.frameSizes)).toEqual(new Set(['320x320']));
  expect(r.diff).toBe(0);
  expect(r.fractions[r.fractions.length - 1]).toBe(1);
  for (let i = 1; i < r.fractions.length; i++) expect(r.fractions[i]).toBeGreaterThanOrEqual(r.fractions[i - 1]);
  // Frame 3 of 4 (reference timing, 2 points): the end point, (12, -9) from the start.
  expect(r.flowAtStart![0]).toBeCloseTo(12, 4);
  expect(r.flowAtStart![1]).toBeCloseTo(-9, 4);
  expect(r.preview).toEqual([320, 320]);
  expect(r.strip).toEqual(['80x80', '80x80', '80x80', '80x80']);
  expect(r.flowLen).toBe(2 * 320 * 320);
  expect(r.colour).toEqual([320, 320]);
  expect(r.cancelError).toBe('AbortError');
});

test('GPU frames match the CPU reference engine (same solver schedule, splat, hole filling)', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const motion = (await import(/* @vite-ignore */ '/src/motion/index.ts' as string)) as typeof import('../../src/motion/index');
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
    const { cpuEngine } = (await import(/* @vite-ignore */ '/e2e/reference/engine.ts' as string)) as typeof import('../reference/engine');
    // A 72x56 crop of the photo keeps the CPU side quick.
    const bmp = await createImageBitmap(await (await fetch('/__media/softsplat/one.png')).blob());
    const W = 72;
    const H = 56;
    const canvas = new OffscreenCanvas(W, H);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bmp, -120, -110);
    const imageData = ctx.getImageData(0, 0, W, H);
    const project = motion.emptyProject();
    project.canvas = { width: W, height: H };
    project.settings.frames = 4;
    project.settings.flowUnit = 32;
    project.trajectories = [
      {
        id: 'a',
        color: '#f00',
        points: [
          { x: 30, y: 28 },
          { x: 38, y: 20 },
          { x: 44, y: 27 },
        ],
        timing: motion.defaultTiming(4),
      },
      { id: 'b', color: '#0f0', points: [{ x: 55, y: 40 }], timing: motion.defaultTiming(4) },
    ];
    project.brush = [
      {
        mode: 'paint',
        radius: 20,
        points: [
          { x: 20, y: 28 },
          { x: 50, y: 28 },
        ],
      },
    ];
    const { device } = await acquireGpu();
    // The CPU reference engine fills holes by pull-push over all pixels (the patch fill has its own spec).
    const engine = new ClassicalEngine(device, { holeFill: 'pull-push' });
    const { frames, flows } = await runStages(engine, engine, { project, image: uploadImage(device, imageData) });
    const gpu = (await readTensor(device, frames.tensor)) as Uint32Array;
    const gpuFlows = (await readTensor(device, flows.tensor)) as Float32Array;
    const c = buildConstraints(project);
    const cpu = cpuEngine({
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
    let flowDiff = 0;
    for (let i = 0; i < gpuFlows.length; i++) flowDiff = Math.max(flowDiff, Math.abs(gpuFlows[i] - cpu.flows[i]));
    let maxByte = 0;
    let over1 = 0;
    let exactStaticMismatch = 0;
    const n = W * H;
    for (let i = 0; i < gpu.length; i++) {
      let worst = 0;
      for (let s = 0; s < 32; s += 8) worst = Math.max(worst, Math.abs(((gpu[i] >>> s) & 255) - ((cpu.frames[i] >>> s) & 255)));
      maxByte = Math.max(maxByte, worst);
      if (worst > 1) over1++;
      // Where the CPU copies the reference, the GPU must too (and vice versa), bit for bit.
      const ref = cpu.frames[i % n];
      if ((cpu.frames[i] === ref) !== (gpu[i] === ref) && i >= n) exactStaticMismatch++;
    }
    engine.dispose();
    device.destroy();
    return { flowDiff, maxByte, over1, total: gpu.length, exactStaticMismatch };
  });
  console.log('GPU vs CPU engine', r);
  expect(r.flowDiff).toBeLessThan(1e-3);
  expect(r.maxByte).toBeLessThanOrEqual(2);
  expect(r.over1 / r.total).toBeLessThan(0.001);
  expect(r.exactStaticMismatch).toBeLessThan(0.001 * r.total);
});

test('EngineClient: a device lost in the middle of a job fails that job in words; the worker recovers and the next job works', async ({
  harness,
}) => {
  await harness.addScriptTag({ content: SETUP });
  const r = await harness.evaluate(async () => {
    const { EngineClient } = (await import(
      /* @vite-ignore */ '/src/pipeline/client.ts' as string
    )) as typeof import('../../src/pipeline/client');
    const { imageData, project } = await (window as unknown as { __setup: (f: number) => Promise<any> }).__setup(16);
    const events: string[] = [];
    let notify: () => void = () => undefined;
    const readyAgain = new Promise<void>((res) => (notify = res));
    const client = new EngineClient();
    client.onDevice((e: { type: string }) => {
      events.push(e.type);
      if (e.type === 'ready') notify();
    });
    const info = await client.gpuInfo();
    let lostSent = false;
    let failure: { code: string; message: string } | null = null;
    try {
      await client.generate(project, imageData, {
        onProgress: (p: { stage: string }) => {
          if (p.stage === 'render' && !lostSent) {
            lostSent = true;
            client.simulateDeviceLoss();
          }
        },
      });
    } catch (e) {
      failure = { code: (e as { code: string }).code, message: (e as Error).message };
    }
    await readyAgain;
    project.settings.frames = 2;
    const after = await client.generate(project, imageData);
    const out = { info, lostSent, failure, events, after: after.frames.length };
    client.dispose();
    return out;
  });
  expect(r.info.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 1024 * 1024);
  expect(typeof r.info.isFallbackAdapter).toBe('boolean');
  expect(r.lostSent).toBe(true);
  expect(r.failure?.code).toBe('gpu-device-lost');
  expect(r.failure?.message).toMatch(/trajectories and brush are kept/);
  expect(r.events).toEqual(['lost', 'ready']);
  expect(r.after).toBe(2);
});

test('seamless loop: the last frame equals frame 0, static pixels stay bit-identical, middle frames move', async ({ harness }) => {
  await harness.addScriptTag({ content: SETUP });
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { ClassicalEngine, uploadImage } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../../src/pipeline/classical');
    const { runStages } = (await import(
      /* @vite-ignore */ '/src/pipeline/engine.ts' as string
    )) as typeof import('../../src/pipeline/engine');
    const { readTensor } = (await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string)) as typeof import('../../src/gpu/tensor');
    const { imageData, project, motion } = await (window as unknown as { __setup: (f: number) => Promise<any> }).__setup(5);
    project.settings.loop = true;
    const { device } = await acquireGpu();
    const engine = new ClassicalEngine(device);
    const { frames } = await runStages(engine, engine, { project, image: uploadImage(device, imageData) });
    const words = (await readTensor(device, frames.tensor)) as Uint32Array;
    const W = 320;
    const n = W * 320;
    const ref = new Uint32Array(imageData.data.buffer);
    const movable = motion.movableMask(project.brush, project.canvas);
    const diffCount = (f: number) => {
      let c = 0;
      for (let i = 0; i < n; i++) if (words[f * n + i] !== ref[i]) c++;
      return c;
    };
    let staticDiff = 0;
    for (let f = 1; f < 5; f++)
      for (let i = 0; i < n; i++) {
        const x = i % W;
        const y = Math.floor(i / W);
        if (!movable[i] && Math.hypot(x - 160, y - 150) > 50 + 15 + 2 && words[f * n + i] !== ref[i]) staticDiff++;
      }
    const out = { last: diffCount(4), middle: diffCount(2), staticDiff };
    engine.dispose();
    device.destroy();
    return out;
  });
  expect(r.last).toBe(0);
  expect(r.staticDiff).toBe(0);
  expect(r.middle).toBeGreaterThan(1000);
});
