/**
 * Classical stage 1 (densify) on the GPU against the CPU reference (e2e/reference/densify.ts)
 * and against the project semantics: exact constraints, exact zeros, edges stop motion.
 */
import { test, expect } from '../fixtures';

test('multigrid solve matches a converged CPU Gauss-Seidel solve and the same schedule on the CPU', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const { Densify, DENSIFY_DEFAULTS, MIN_COARSE } = (await import(
      /* @vite-ignore */ '/src/gpu/kernels/densify.ts' as string
    )) as typeof import('../../src/gpu/kernels/densify');
    const { uploadTensor, createTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../../src/gpu/tensor');
    const ref = (await import(/* @vite-ignore */ '/e2e/reference/densify.ts' as string)) as typeof import('../reference/densify');
    const { device } = await acquireGpu();
    const W = 45;
    const H = 29; // odd sizes exercise the pyramid's edges
    // A textured image with a darker disc (an edge) and two trajectories plus an anchor.
    const rgba = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const inDisc = (x - 30) ** 2 + (y - 14) ** 2 < 64;
        const v = inDisc ? 40 : 200 + ((x * 7 + y * 13) % 20);
        rgba.set([v, inDisc ? 60 : v - 10, v, 255], 4 * (y * W + x));
      }
    const ids = new Int32Array(W * H).fill(-2);
    const disc = (cx: number, cy: number, r: number, v: number) => {
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) ids[y * W + x] = v;
    };
    disc(10, 10, 2, 0);
    disc(30, 14, 2, 1);
    disc(40, 25, 2, -1);
    // A static band (unpainted brush, id -3) on the right: fixed at zero and cut loose.
    for (let y = 0; y < H; y++) for (let x = 42; x < W; x++) ids[y * W + x] = -3;
    const table = new Float32Array([3, -2, 0, 5, 6, -4, 1, 7]); // [F=2, K=2, 2]
    const out: Record<string, number> = {};
    // Enough V-cycles to reach the exact solution: this image's dark disc is insulated by
    // floor-weight edges, the hard case for geometric multigrid (the app's default of fewer
    // cycles is tuned for previews, not for exactness).
    const CYCLES = 40;
    for (const screeningLength of [12, Infinity]) {
      const problem = { width: W, height: H, rgba, ids, k: 2, edgeSigma: 0.1, floorWeight: 1e-3, screeningLength };
      const dens = new Densify(device);
      const flows = createTensor(device, [2, 2, H, W]);
      const enc = device.createCommandEncoder();
      dens.encode(
        enc,
        {
          image: uploadTensor(device, new Uint32Array(rgba.buffer), [H, W], 'uint32'),
          ids: uploadTensor(device, ids, [H, W], 'int32'),
          table: uploadTensor(device, table, [2, 2, 2]),
          out: flows,
        },
        { screeningLength, cycles: CYCLES },
      );
      device.queue.submit([enc.finish()]);
      const gpu = (await readTensor(device, flows)) as Float32Array;
      const converged = ref.compose(ref.solveConverged(problem).basis, table, 2, W * H);
      const sameSchedule = ref.compose(
        ref.solveMultigrid(problem, { ...DENSIFY_DEFAULTS, cycles: CYCLES, minCoarse: MIN_COARSE }),
        table,
        2,
        W * H,
      );
      let maxConv = 0;
      let maxSame = 0;
      let maxFlow = 0;
      for (let i = 0; i < gpu.length; i++) {
        maxConv = Math.max(maxConv, Math.abs(gpu[i] - converged[i]));
        maxSame = Math.max(maxSame, Math.abs(gpu[i] - sameSchedule[i]));
        maxFlow = Math.max(maxFlow, Math.abs(converged[i]));
      }
      out[`conv_${screeningLength}`] = maxConv;
      out[`same_${screeningLength}`] = maxSame;
      out[`max_${screeningLength}`] = maxFlow;
      dens.dispose();
    }
    device.destroy();
    return out;
  });
  console.log('densify vs CPU', r);
  // Same schedule on the CPU: float32 rounding only.
  expect(r.same_12).toBeLessThan(1e-3);
  expect(r.same_Infinity).toBeLessThan(1e-3);
  // Within 2% of the largest displacement (7 px) of the exact solution.
  expect(r.conv_12).toBeLessThan(0.02 * r.max_12);
  expect(r.conv_Infinity).toBeLessThan(0.02 * r.max_Infinity);
});

test('constraints hold exactly: trajectory start follows its path, anchors and static pixels are exactly zero', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const motion = (await import(/* @vite-ignore */ '/src/motion/index.ts' as string)) as typeof import('../../src/motion/index');
    const { ClassicalEngine, uploadImage } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../../src/pipeline/classical');
    const { readTensor } = (await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string)) as typeof import('../../src/gpu/tensor');
    const { device } = await acquireGpu();
    const W = 96;
    const H = 64;
    const frames = 6;
    const project = motion.emptyProject();
    project.canvas = { width: W, height: H };
    project.settings.frames = frames;
    project.settings.flowUnit = 32; // footprint radius 4
    const drag = {
      id: 'a',
      color: '#f00',
      points: [
        { x: 30, y: 30 },
        { x: 40, y: 22 },
        { x: 52, y: 31 },
      ],
      timing: { mode: 'ease-in-out' as const, startFrame: 1, endFrame: 4 },
    };
    const anchor = { id: 'b', color: '#0f0', points: [{ x: 70, y: 40 }], timing: motion.defaultTiming(frames) };
    project.trajectories = [drag, anchor];
    // Paint a wide band: pixels outside it are static.
    project.brush = [
      {
        mode: 'paint',
        radius: 18,
        points: [
          { x: 10, y: 32 },
          { x: 85, y: 32 },
        ],
      },
    ];
    const data = new Uint8ClampedArray(W * H * 4);
    for (let i = 0; i < W * H; i++) data.set([(i * 37) % 255, (i * 11) % 255, 128, 255], 4 * i);
    const image = uploadImage(device, { width: W, height: H, data });
    const engine = new ClassicalEngine(device);
    const flows = await engine.motion({ project, image });
    const f = (await readTensor(device, flows.tensor)) as Float32Array;
    const path = motion.sampleTrajectory(drag, frames);
    const movable = motion.movableMask(project.brush, project.canvas);
    const n = W * H;
    let startErr = 0;
    let anchorMax = 0;
    let staticMax = 0;
    let staticCount = 0;
    let movingMax = 0;
    for (let i = 0; i < frames - 1; i++) {
      const p = 30 * W + 30;
      const dx = f[i * 2 * n + p];
      const dy = f[i * 2 * n + n + p];
      startErr = Math.max(startErr, Math.hypot(30 + dx - path[i + 1].x, 30 + dy - path[i + 1].y));
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const q = y * W + x;
          const m = Math.max(Math.abs(f[i * 2 * n + q]), Math.abs(f[i * 2 * n + n + q]));
          if ((x - 70) ** 2 + (y - 40) ** 2 <= 16) anchorMax = Math.max(anchorMax, m);
          if (!movable[q]) {
            staticMax = Math.max(staticMax, m);
            staticCount++;
          } else movingMax = Math.max(movingMax, m);
        }
    }
    // Frame 1 is before the drag's start frame: the whole flow is zero there.
    let frame1Max = 0;
    for (let q = 0; q < 2 * n; q++) frame1Max = Math.max(frame1Max, Math.abs(f[q]));
    engine.dispose();
    device.destroy();
    return { startErr, anchorMax, staticMax, staticCount, movingMax, frame1Max, shape: flows.tensor.shape };
  });
  expect(r.shape).toEqual([5, 2, 64, 96]);
  expect(r.startErr).toBeLessThan(0.5);
  expect(r.anchorMax).toBe(0);
  expect(r.staticCount).toBeGreaterThan(1000);
  expect(r.staticMax).toBe(0);
  expect(r.frame1Max).toBe(0);
  expect(r.movingMax).toBeGreaterThan(5);
});

test('an image edge keeps a dragged region from dragging its neighbour along', async ({ harness }) => {
  const r = await harness.evaluate(async () => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../../src/gpu/device');
    const motion = (await import(/* @vite-ignore */ '/src/motion/index.ts' as string)) as typeof import('../../src/motion/index');
    const { ClassicalEngine, uploadImage } = (await import(
      /* @vite-ignore */ '/src/pipeline/classical.ts' as string
    )) as typeof import('../../src/pipeline/classical');
    const { readTensor } = (await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string)) as typeof import('../../src/gpu/tensor');
    const { device } = await acquireGpu();
    const W = 128;
    const H = 80;
    const boundary = 64; // x < 64: region A (warm), x >= 64: region B (cool)
    const data = new Uint8ClampedArray(W * H * 4);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const noise = ((x * 31 + y * 17) % 9) - 4; // mild texture inside each region
        data.set(x < boundary ? [210 + noise, 150 + noise, 60, 255] : [40 + noise, 90 + noise, 200, 255], 4 * (y * W + x));
      }
    const project = motion.emptyProject();
    project.canvas = { width: W, height: H };
    project.settings.frames = 3;
    project.settings.flowUnit = 32;
    // Drag inside A, 12 px left of the boundary, downwards by 12 px; no brush.
    project.trajectories = [
      {
        id: 'a',
        color: '#f00',
        points: [
          { x: 52, y: 40 },
          { x: 52, y: 52 },
        ],
        timing: motion.defaultTiming(3),
      },
    ];
    const engine = new ClassicalEngine(device);
    const flows = await engine.motion({ project, image: uploadImage(device, { width: W, height: H, data }) });
    const f = (await readTensor(device, flows.tensor)) as Float32Array;
    const n = W * H;
    const last = 1; // flow index of the last frame
    const dy = (x: number, y: number) => f[last * 2 * n + n + y * W + x];
    const drag = dy(52, 40);
    // Same distance (16 px) from the drag's centre: across the edge vs. inside region A.
    const across = dy(52 + 16, 40);
    const inside = dy(52 - 16, 40);
    engine.dispose();
    device.destroy();
    return { drag, across, inside };
  });
  console.log('edge test', r);
  expect(r.drag).toBeCloseTo(12, 4);
  expect(Math.abs(r.across)).toBeLessThan(0.1 * r.drag);
  expect(r.inside).toBeGreaterThan(0.3 * r.drag);
});
