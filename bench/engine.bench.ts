/**
 * The classical engine at the demo's shape (512x320, 16 frames): the whole job (densify 15
 * flows + render 16 frames) and one live-preview update (densify + render one frame), on the
 * GPU versus a plain CPU implementation of the same steps in the same page
 * (e2e/reference/engine.ts: same solver schedule, same splat, same hole filling).
 * Also the densify solve alone in GPU time (timestamp queries). Writes bench/results/engine.json.
 *
 * Input: MPI Sintel frame_0016 (../shared/media/sintel-raft) cover-cropped to 512x320, two drags,
 * one anchor, a painted brush. GPU numbers are wall time from the call to the last
 * onSubmittedWorkDone (what a caller waits for), median of `repeats` after a warm-up.
 * Encoding is measured by the export benchmarks, not here.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '../e2e/fixtures';

test('classical engine: GPU vs CPU, whole job and preview update at 512x320', async ({ harness }) => {
  test.setTimeout(1_800_000);
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../src/gpu/device');
    const motion = (await import(/* @vite-ignore */ '/src/motion/index.ts' as string)) as typeof import('../src/motion/index');
    const { ClassicalEngine, uploadImage, METRIC_SCALE } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../src/pipeline/classical');
    const { runStages } = (await import(/* @vite-ignore */ '/src/pipeline/engine.ts' as string)) as typeof import('../src/pipeline/engine');
    const { buildConstraints, selectFrames } = (await import(
      /* @vite-ignore */ '/src/pipeline/constraints.ts' as string
    )) as typeof import('../src/pipeline/constraints');
    const { Densify, DENSIFY_DEFAULTS, MIN_COARSE } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/densify.ts' as string
    )) as typeof import('../src/gpu/kernels/densify');
    const { uploadTensor, createTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../src/gpu/tensor');
    const { timeGpu } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/timing.ts' as string
    )) as typeof import('../src/gpu/kernels/timing');
    const { cpuEngine } = (await import(
      /* @vite-ignore */ '/e2e/reference/engine.ts' as string
    )) as typeof import('../e2e/reference/engine');
    const W = 512;
    const H = 320;
    const FRAMES = 16;
    const bmp = await createImageBitmap(await (await fetch('/__media/sintel-raft/frame_0016.png')).blob());
    const canvas = new OffscreenCanvas(W, H);
    const ctx2d = canvas.getContext('2d')!;
    const scale = Math.max(W / bmp.width, H / bmp.height);
    ctx2d.drawImage(bmp, (W - bmp.width * scale) / 2, (H - bmp.height * scale) / 2, bmp.width * scale, bmp.height * scale);
    const imageData = ctx2d.getImageData(0, 0, W, H);
    const project = motion.emptyProject();
    project.canvas = { width: W, height: H };
    project.settings.frames = FRAMES;
    project.trajectories = [
      {
        id: 'a',
        color: '#f00',
        points: [
          { x: 200, y: 160 },
          { x: 240, y: 130 },
          { x: 280, y: 150 },
        ],
        timing: motion.defaultTiming(FRAMES),
      },
      {
        id: 'b',
        color: '#0f0',
        points: [
          { x: 380, y: 220 },
          { x: 350, y: 240 },
        ],
        timing: motion.defaultTiming(FRAMES),
      },
      { id: 'c', color: '#00f', points: [{ x: 300, y: 200 }], timing: motion.defaultTiming(FRAMES) },
    ];
    project.brush = [
      {
        mode: 'paint',
        radius: 90,
        points: [
          { x: 180, y: 160 },
          { x: 400, y: 200 },
        ],
      },
    ];

    const ctx = await acquireGpu();
    const device: GPUDevice = ctx.device;
    // The CPU baseline (e2e/reference/engine.ts) fills holes by pull-push: compare like with like.
    const engine = new ClassicalEngine(device, { holeFill: 'pull-push' });
    const image = uploadImage(device, imageData);
    const input = { project, image };
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    };
    const timeAsync = async (fn: () => Promise<void>, repeats: number) => {
      await fn(); // warm-up: pipeline compilation, buffer creation
      const samples: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const t0 = performance.now();
        await fn();
        samples.push(performance.now() - t0);
      }
      return median(samples);
    };
    const PREVIEW_FRAME = 10;
    const jobMs = await timeAsync(async () => {
      const { flows, frames } = await runStages(engine, engine, input);
      flows.tensor.buffer.destroy();
      frames.tensor.buffer.destroy();
    }, 3);
    const previewMs = await timeAsync(async () => {
      const { flows, frames } = await runStages(engine, engine, input, { frames: [PREVIEW_FRAME] });
      flows.tensor.buffer.destroy();
      frames.tensor.buffer.destroy();
    }, 5);
    // Densify alone, GPU time.
    const c = buildConstraints(project);
    const dens = new Densify(device);
    const args = {
      image,
      ids: uploadTensor(device, c.ids, [H, W], 'int32'),
      table: uploadTensor(
        device,
        selectFrames(
          c,
          Array.from({ length: c.flows }, (_, i) => i),
        ),
        [c.flows, c.k, 2],
      ),
      out: createTensor(device, [c.flows, 2, H, W]),
    };
    const solve = await timeGpu(device, (enc: GPUCommandEncoder) => dens.encode(enc, args, { screeningLength: c.screeningLength }), {
      repeats: 3,
      warmup: 1,
    });

    // CPU: the same steps.
    const cpuArgs = (frames: number, table: Float32Array) => ({
      width: W,
      height: H,
      rgba: imageData.data,
      ids: c.ids,
      k: c.k,
      table,
      frames,
      screeningLength: c.screeningLength,
      edgeSigma: DENSIFY_DEFAULTS.edgeSigma,
      floorWeight: DENSIFY_DEFAULTS.floorWeight,
      schedule: { ...DENSIFY_DEFAULTS, minCoarse: MIN_COARSE },
      metricScale: METRIC_SCALE,
    });
    let t0 = performance.now();
    const cpuJob = cpuEngine(cpuArgs(c.flows, c.table));
    const cpuJobMs = performance.now() - t0;
    const cpuPreviewSamples: number[] = [];
    for (let i = 0; i < 3; i++) {
      t0 = performance.now();
      buildConstraints(project);
      cpuEngine(cpuArgs(1, selectFrames(c, [PREVIEW_FRAME - 1])));
      cpuPreviewSamples.push(performance.now() - t0);
    }
    const description = ctx.description + (ctx.isFallbackAdapter ? ' (fallback adapter)' : '');
    engine.dispose();
    dens.dispose();
    device.destroy();
    return {
      jobMs,
      previewMs,
      solveMs: solve.ms,
      solveMethod: solve.method,
      cpuJobMs,
      cpuPreviewMs: median(cpuPreviewSamples),
      cpuFrames: cpuJob.frames.length,
      description,
      k: c.k,
    };
  });
  console.log(r);
  const rows = [
    {
      case: 'whole job, 16 frames 512x320 (densify 15 flows + render)',
      ours_ms: r.jobMs,
      baseline: 'same steps on the CPU (JS)',
      baseline_ms: r.cpuJobMs,
      ratio: r.cpuJobMs / r.jobMs,
      target: 'interactive on a real GPU',
      note: 'GPU: wall time to the last onSubmittedWorkDone, median of 3; CPU: one run',
    },
    {
      case: 'live preview update, 1 frame 512x320 (constraints + densify + render)',
      ours_ms: r.previewMs,
      baseline: 'same steps on the CPU (JS)',
      baseline_ms: r.cpuPreviewMs,
      ratio: r.cpuPreviewMs / r.previewMs,
      target: '< 16 ms on a real GPU',
      note: 'median of 5 (GPU) and 3 (CPU)',
    },
    {
      case: `densify solve alone, 15 flows 512x320, ${r.k} moving trajectories + 1 anchor (GPU ${r.solveMethod})`,
      ours_ms: r.solveMs,
      baseline: '',
      baseline_ms: null,
      ratio: null,
      target: 'a few ms on a real GPU',
      note: `${DEFAULT_NOTE}`,
    },
  ];
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'engine.json'),
    JSON.stringify({ name: 'engine', device: r.description, date: new Date().toISOString(), rows }, null, 2) + '\n',
  );
});

const DEFAULT_NOTE = '4 V-cycles of red-black Gauss-Seidel (2 pre, 2 post, 40 coarsest), 7 pyramid levels';
