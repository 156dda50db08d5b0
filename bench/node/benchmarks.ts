/**
 * The kernel benchmarks of bench/*.bench.ts, for Node on Dawn: the same kernels (src/gpu), the
 * same CPU references (e2e/reference) and the same row format (bench/report.mjs). Each benchmark
 * FIRST runs its kernel once and compares the output with the CPU reference on this adapter; a
 * wrong result gets no time (ours_ms null, the failure in the note, `gate.passed` false), so a
 * driver bug cannot pass as a speed-up. Only then is it timed: timeGpu (timestamp-query when the
 * adapter has it, else wall time around onSubmittedWorkDone), median after a warm-up.
 *
 * `quick` shapes are for the kit's own test on a software adapter; the default shapes are those
 * of the browser benchmarks, except the engine's input image, which is synthetic (the kit
 * carries no media).
 */
import type { GpuContext } from '../../src/gpu/device';
import { uploadTensor, createTensor, readTensor } from '../../src/gpu/tensor';
import { SoftmaxSplat } from '../../src/gpu/kernels/splat';
import { FlowResize } from '../../src/gpu/kernels/flowResize';
import { MotionAttention } from '../../src/gpu/kernels/motionAttention';
import { sinusoidalPositionTable } from '../../src/gpu/kernels/positionEncoding';
import { Densify, DENSIFY_DEFAULTS, MIN_COARSE } from '../../src/gpu/kernels/densify';
import { timeGpu, type GpuTiming } from '../../src/gpu/kernels/timing';
import { ClassicalEngine, uploadImage, METRIC_SCALE } from '../../src/pipeline/classical';
import { runStages } from '../../src/pipeline/engine';
import { buildConstraints, selectFrames } from '../../src/pipeline/constraints';
import * as motion from '../../src/motion/index';
import type { Project } from '../../src/motion/types';
import { splatReference, compareArrays, rng } from '../../e2e/reference/splat';
import { resizeFlowsReference } from '../../e2e/reference/flow';
import * as attentionRef from '../../e2e/reference/attention';
import { cpuEngine, cpuFlows, type CpuEngineInput } from '../../e2e/reference/engine';
import { splatScatter } from '../baselines/splatScatter';
import { stage2Step } from './stage2Step';
import { i2v } from './i2v';

export interface Row {
  case: string;
  ours_ms: number | null;
  baseline: string;
  baseline_ms: number | null;
  ratio: number | null;
  target: string;
  note: string;
}

export interface Gate {
  /** What was compared with what, and the measured error. */
  detail: string;
  passed: boolean;
}

export interface BenchResult {
  name: string;
  rows: Row[];
  gates: Gate[];
  /** Measurements beyond the rows (the I2V benchmark's per-stage times and GPU memory). */
  details?: Record<string, unknown>;
}

/** Command-line settings for the benchmarks that take them (i2v: --steps, --precision, --load-only, --components). */
export interface BenchOptions {
  steps?: number;
  precision?: string;
  /** Only create the sessions and report their GPU bytes (no run, no time). */
  loadOnly?: boolean;
  /** With loadOnly: these components only. */
  components?: string[];
}

export type Benchmark = (ctx: GpuContext, quick: boolean, options?: BenchOptions) => Promise<BenchResult>;

/**
 * The GPU output a gate judges. GPU_KIT_FAULT=<benchmark> alters one value first, as a driver
 * bug would: the kit's test uses it to see a wrong result refused.
 */
function judged<T extends Float32Array | Uint32Array>(benchmark: string, values: T): T {
  if (process.env.GPU_KIT_FAULT === benchmark && values.length) values[values.length >> 1] += 7;
  return values;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median wall time of `fn` over `repeats` runs after one warm-up (JIT), and its last result. */
function timeCpu<T>(fn: () => T, repeats: number): { ms: number; out: T } {
  let out = fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    out = fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), out };
}

/** A timed row, or a refused one when its gate failed. */
function row(
  gate: Gate,
  r: Omit<Row, 'ratio' | 'note' | 'ours_ms'> & { timing: GpuTiming | { ms: number; method: string } | null; note?: string },
): Row {
  if (!gate.passed || !r.timing) {
    return {
      case: r.case,
      ours_ms: null,
      baseline: r.baseline,
      baseline_ms: r.baseline_ms,
      ratio: null,
      target: r.target,
      note: `NOT TIMED: wrong result on this adapter (${gate.detail})`,
    };
  }
  const ratio = r.baseline_ms != null ? r.baseline_ms / r.timing.ms : null;
  return {
    case: r.case,
    ours_ms: r.timing.ms,
    baseline: r.baseline,
    baseline_ms: r.baseline_ms,
    ratio,
    target: r.target,
    note: [`GPU ${r.timing.method}`, r.note, gate.detail].filter(Boolean).join('; '),
  };
}

function closeGate(label: string, got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-5): Gate {
  const c = compareArrays(got, want, rel);
  return {
    passed: c.bad === 0,
    detail: `${label}: ${c.bad} of ${c.length} values off the CPU reference by more than ${rel} relative (max abs diff ${c.maxAbs.toExponential(2)})`,
  };
}

/** Smooth camera-like flows (rotation + zoom + translation) with 0.3 px noise, as bench/splat.bench.ts. */
function cameraFlows(N: number, H: number, W: number, rand: () => number): Float32Array {
  const HW = H * W;
  const flows = new Float32Array(N * 2 * HW);
  for (let n = 0; n < N; n++) {
    const k = (n + 1) / N;
    const angle = 0.05 * k;
    const zoom = 1 + 0.08 * k;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const cx = x - W / 2;
        const cy = y - H / 2;
        const tx = zoom * (Math.cos(angle) * cx - Math.sin(angle) * cy) + W / 2 + 0.1 * W * k;
        const ty = zoom * (Math.sin(angle) * cx + Math.cos(angle) * cy) + H / 2 - 0.05 * H * k;
        flows[n * 2 * HW + y * W + x] = tx - x + (rand() - 0.5) * 0.6;
        flows[(n * 2 + 1) * HW + y * W + x] = ty - y + (rand() - 0.5) * 0.6;
      }
    }
  }
  return flows;
}

export const splat: Benchmark = async ({ device }, quick) => {
  const shapes = quick
    ? [
        { name: '64x40 C3 1 flow (quick)', B: 1, C: 3, H: 40, W: 64, N: 1, layout: 'chw' as const, gpuRepeats: 3, cpuRepeats: 3 },
        { name: '16x10 C32 3 flows (quick)', B: 1, C: 32, H: 10, W: 16, N: 3, layout: 'hwc' as const, gpuRepeats: 3, cpuRepeats: 3 },
      ]
    : [
        { name: '512x320 C3 1 flow (classical)', B: 1, C: 3, H: 320, W: 512, N: 1, layout: 'chw' as const, gpuRepeats: 9, cpuRepeats: 5 },
        { name: '64x40 C320 15 flows (stage 2)', B: 1, C: 320, H: 40, W: 64, N: 15, layout: 'hwc' as const, gpuRepeats: 7, cpuRepeats: 3 },
      ];
  const rows: Row[] = [];
  const gates: Gate[] = [];
  const kernel = new SoftmaxSplat(device);
  for (const s of shapes) {
    const { B, C, H, W, N } = s;
    const rand = rng(5);
    const input = new Float32Array(B * C * H * W).map(() => rand() * 2 - 1);
    const flows = cameraFlows(N, H, W, rand);
    const inputT = uploadTensor(device, input, s.layout === 'chw' ? [B, C, H, W] : [B, H, W, C]);
    const flowsT = uploadTensor(device, flows, [N, 2, H, W]);
    const output = createTensor(device, s.layout === 'chw' ? [B, N, C, H, W] : [B, N, H, W, C]);
    const args = { input: inputT, flows: flowsT, mode: 'avg' as const, layout: s.layout, output };
    const oracle = timeCpu(() => splatReference({ input, B, C, H, W, layout: s.layout, flows, N, mode: 'avg' }), s.cpuRepeats);
    const fast = timeCpu(() => splatScatter({ input, B, C, H, W, layout: s.layout, flows, N, mode: 'avg' }), s.cpuRepeats);
    const timed: Record<string, { gate: Gate; timing: GpuTiming | null }> = {};
    for (const strategy of ['gather', 'atomic'] as const) {
      kernel.run({ ...args, strategy });
      const gate = closeGate(`${strategy} splat`, judged('splat', (await readTensor(device, output)) as Float32Array), oracle.out);
      gates.push(gate);
      timed[strategy] = {
        gate,
        timing: gate.passed
          ? await timeGpu(device, (enc) => kernel.encode(enc, { ...args, strategy }), { repeats: s.gpuRepeats, warmup: 1 })
          : null,
      };
    }
    const oracleName = 'CPU scatter, test oracle (e2e/reference)';
    const g = timed.gather;
    rows.push(
      row(g.gate, { case: `${s.name}, gather (default)`, timing: g.timing, baseline: oracleName, baseline_ms: oracle.ms, target: '>= 5x' }),
    );
    rows.push(
      row(g.gate, {
        case: `${s.name}, gather (default)`,
        timing: g.timing,
        baseline: 'CPU scatter, plain fast loop (bench/baselines)',
        baseline_ms: fast.ms,
        target: '>= 5x',
      }),
    );
    rows.push(
      row(timed.atomic.gate, {
        case: `${s.name}, atomic (CAS)`,
        timing: timed.atomic.timing,
        baseline: oracleName,
        baseline_ms: oracle.ms,
        target: '>= 5x',
      }),
    );
    for (const t of [inputT, flowsT, output]) t.buffer.destroy();
  }
  kernel.dispose();
  return { name: 'node-splat', rows, gates };
};

export const flowResize: Benchmark = async ({ device }, quick) => {
  const s = quick ? { N: 2, H: 40, W: 64, h: 10, w: 16, repeats: 3 } : { N: 15, H: 320, W: 512, h: 40, w: 64, repeats: 9 };
  const flows = cameraFlows(s.N, s.H, s.W, rng(11));
  const kernel = new FlowResize(device);
  const flowsT = uploadTensor(device, flows, [s.N, 2, s.H, s.W]);
  const output = createTensor(device, [s.N, 2, s.h, s.w]);
  const ref = timeCpu(() => resizeFlowsReference(flows, s.N, s.H, s.W, s.h, s.w), 5);
  kernel.run({ flows: flowsT, height: s.h, width: s.w, output });
  const gate = closeGate('flow resize', judged('flow-resize', (await readTensor(device, output)) as Float32Array), ref.out);
  const timing = gate.passed
    ? await timeGpu(device, (enc) => kernel.encode(enc, { flows: flowsT, height: s.h, width: s.w, output }), {
        repeats: s.repeats,
        warmup: 1,
      })
    : null;
  for (const t of [flowsT, output]) t.buffer.destroy();
  kernel.dispose();
  const name = `${s.N} flows ${s.W}x${s.H} -> ${s.w}x${s.h}${quick ? ' (quick)' : ''}`;
  return {
    name: 'node-flow-resize',
    gates: [gate],
    rows: [
      row(gate, { case: name, timing, baseline: 'CPU bilinear resize, test oracle (e2e/reference)', baseline_ms: ref.ms, target: '' }),
    ],
  };
};

export const attention: Benchmark = async ({ device }, quick) => {
  const cases = quick
    ? [{ name: 'B1 F4 C32 3 tokens (quick)', B: 1, F: 4, P: 3, C: 32, heads: 8, repeats: 3 }]
    : [
        { name: 'B2 F16 C320 8x5 (scaled)', B: 2, F: 16, P: 40, C: 320, heads: 8, repeats: 5 },
        { name: 'B2 F16 C1280 8x5 (real)', B: 2, F: 16, P: 40, C: 1280, heads: 8, repeats: 3 },
      ];
  const kernel = new MotionAttention(device);
  const rows: Row[] = [];
  const gates: Gate[] = [];
  for (const c of cases) {
    const { B, F, P, C, heads } = c;
    const rand = attentionRef.rng(1);
    const ws = 1 / Math.sqrt(C);
    const inp = {
      B,
      F,
      P,
      C,
      heads,
      tokens: attentionRef.randomArray(B * F * P * C, rand),
      warped: attentionRef.randomArray(B * (F - 1) * P * C, rand),
      wq: attentionRef.randomArray(C * C, rand, ws),
      wk: attentionRef.randomArray(C * C, rand, ws),
      wv: attentionRef.randomArray(C * C, rand, ws),
    };
    const ref = timeCpu(() => attentionRef.motionAttentionReference(inp), quick ? 3 : 1);
    const split = attentionRef.projectForKernel(inp, sinusoidalPositionTable(2 * F - 1, C));
    const args = {
      qkv: uploadTensor(device, split.qkv, [B, F, P, 3 * C]),
      warped: uploadTensor(device, split.warpedKV, [B, F - 1, P, 2 * C]),
      pe: uploadTensor(device, split.peQKV, [2 * F - 1, 3 * C]),
      heads,
      out: createTensor(device, [B, F, P, C]),
    };
    kernel.run(args);
    const got = judged('attention', (await readTensor(device, args.out)) as Float32Array);
    const rel = attentionRef.relError(got, ref.out.out);
    // fp32 logits carry ~1e-7 * |logit| absolute error, which the softmax passes on (as e2e/gpu/motion-attention.spec.ts).
    const tol = 1e-5 + 2e-7 * ref.out.maxLogit;
    const gate = {
      passed: got.every(Number.isFinite) && rel < tol,
      detail: `attention: normwise relative error ${rel.toExponential(2)} against the CPU reference (tolerance ${tol.toExponential(2)})`,
    };
    gates.push(gate);
    const timing = gate.passed ? await timeGpu(device, (enc) => kernel.encode(enc, args), { repeats: c.repeats, warmup: 1 }) : null;
    rows.push(
      row(gate, {
        case: c.name,
        timing,
        baseline: 'CPU reference, float64 (e2e/reference, projections included)',
        baseline_ms: ref.ms,
        target: '',
      }),
    );
    for (const t of [args.qkv, args.warped, args.pe, args.out]) t.buffer.destroy();
  }
  kernel.dispose();
  return { name: 'node-attention', rows, gates };
};

/** A deterministic textured image with a few flat regions (edges for the solver's weights). */
function syntheticImage(W: number, H: number): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inDisc = (x - 0.6 * W) ** 2 + (y - 0.45 * H) ** 2 < (0.15 * H) ** 2;
      const band = y > 0.75 * H;
      const t = ((x * 7 + y * 13) % 23) - 11;
      const rgb = inDisc ? [40 + t, 60, 90] : band ? [90, 140 + t, 70] : [200 + t, 180 - t, 150];
      data.set([...rgb, 255], 4 * (y * W + x));
    }
  }
  return { width: W, height: H, data };
}

/** Two drags, one anchor and a painted brush, scaled to the canvas (the engine benchmark's set-up). */
function engineProject(W: number, H: number, frames: number): Project {
  const p = motion.emptyProject();
  const sx = W / 512;
  const sy = H / 320;
  const pt = (x: number, y: number) => ({ x: x * sx, y: y * sy });
  p.canvas = { width: W, height: H };
  p.settings.frames = frames;
  if (W < 200) p.settings.flowUnit = 32;
  p.trajectories = [
    { id: 'a', color: '#f00', points: [pt(200, 160), pt(240, 130), pt(280, 150)], timing: motion.defaultTiming(frames) },
    { id: 'b', color: '#0f0', points: [pt(380, 220), pt(350, 240)], timing: motion.defaultTiming(frames) },
    { id: 'c', color: '#00f', points: [pt(300, 200)], timing: motion.defaultTiming(frames) },
  ];
  p.brush = [{ mode: 'paint', radius: 90 * sx, points: [pt(180, 160), pt(400, 200)] }];
  return p;
}

function cpuInput(project: Project, img: { width: number; height: number; data: Uint8ClampedArray }): CpuEngineInput {
  const c = buildConstraints(project);
  return {
    width: img.width,
    height: img.height,
    rgba: img.data,
    ids: c.ids,
    k: c.k,
    table: c.table,
    frames: c.flows,
    screeningLength: c.screeningLength,
    edgeSigma: DENSIFY_DEFAULTS.edgeSigma,
    floorWeight: DENSIFY_DEFAULTS.floorWeight,
    schedule: { ...DENSIFY_DEFAULTS, minCoarse: MIN_COARSE },
    metricScale: METRIC_SCALE,
  };
}

export const densify: Benchmark = async ({ device }, quick) => {
  const [W, H, frames] = quick ? [72, 56, 4] : [512, 320, 16];
  const img = syntheticImage(W, H);
  const project = engineProject(W, H, frames);
  const c = buildConstraints(project);
  const cpu = timeCpu(() => cpuFlows(cpuInput(project, img)), 1);
  const dens = new Densify(device);
  const image = uploadImage(device, img);
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
  const enc = device.createCommandEncoder();
  dens.encode(enc, args, { screeningLength: c.screeningLength });
  device.queue.submit([enc.finish()]);
  const got = judged('densify', (await readTensor(device, args.out)) as Float32Array);
  let maxDiff = 0;
  for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - cpu.out[i]));
  // Same schedule on the CPU: float32 rounding only (as e2e/gpu/densify.spec.ts).
  const gate = {
    passed: Number.isFinite(maxDiff) && maxDiff < 1e-3,
    detail: `densify: max |GPU - CPU| ${maxDiff.toExponential(2)} px over ${got.length} values (tolerance 1e-3, same multigrid schedule)`,
  };
  const timing = gate.passed
    ? await timeGpu(device, (e) => dens.encode(e, args, { screeningLength: c.screeningLength }), { repeats: 3, warmup: 1 })
    : null;
  for (const t of [image, args.ids, args.table, args.out]) t.buffer.destroy();
  dens.dispose();
  const name = `densify solve, ${c.flows} flows ${W}x${H}, ${c.k} moving trajectories + 1 anchor, synthetic image${quick ? ' (quick)' : ''}`;
  return {
    name: 'node-densify',
    gates: [gate],
    rows: [
      row(gate, {
        case: name,
        timing,
        baseline: 'same multigrid schedule on the CPU (e2e/reference)',
        baseline_ms: cpu.ms,
        target: 'a few ms on a real GPU',
        note: '4 V-cycles of red-black Gauss-Seidel',
      }),
    ],
  };
};

export const engine: Benchmark = async ({ device }, quick) => {
  const [W, H, frames] = quick ? [72, 56, 4] : [512, 320, 16];
  const img = syntheticImage(W, H);
  const project = engineProject(W, H, frames);
  // The CPU reference (e2e/reference/engine.ts) fills holes by pull-push: compare like with like.
  const eng = new ClassicalEngine(device, { holeFill: 'pull-push' });
  const image = uploadImage(device, img);
  const input = { project, image };
  const cpu = timeCpu(() => cpuEngine(cpuInput(project, img)), quick ? 2 : 1);
  const first = await runStages(eng, eng, input);
  const gpuFrames = judged('engine', (await readTensor(device, first.frames.tensor)) as Uint32Array);
  const gpuFlows = (await readTensor(device, first.flows.tensor)) as Float32Array;
  first.flows.tensor.buffer.destroy();
  first.frames.tensor.buffer.destroy();
  // The thresholds of e2e/gpu/engine.spec.ts: flows to 1e-3 px, bytes within 2, at most 0.1 % over 1.
  let flowDiff = 0;
  for (let i = 0; i < gpuFlows.length; i++) flowDiff = Math.max(flowDiff, Math.abs(gpuFlows[i] - cpu.out.flows[i]));
  let maxByte = 0;
  let over1 = 0;
  for (let i = 0; i < gpuFrames.length; i++) {
    let worst = 0;
    for (let s = 0; s < 32; s += 8) worst = Math.max(worst, Math.abs(((gpuFrames[i] >>> s) & 255) - ((cpu.out.frames[i] >>> s) & 255)));
    maxByte = Math.max(maxByte, worst);
    if (worst > 1) over1++;
  }
  const sizeOk = gpuFrames.length === cpu.out.frames.length && gpuFlows.length === cpu.out.flows.length;
  const gate = {
    passed: sizeOk && flowDiff < 1e-3 && maxByte <= 2 && over1 <= 0.001 * gpuFrames.length,
    detail: `engine: flows max diff ${flowDiff.toExponential(2)} px (tol 1e-3), frames max byte diff ${maxByte} (tol 2), ${over1} of ${gpuFrames.length} pixels off by more than 1 (tol 0.1 %)`,
  };
  let jobTiming: { ms: number; method: string } | null = null;
  if (gate.passed) {
    const samples: number[] = [];
    for (let i = 0; i < (quick ? 2 : 3); i++) {
      const t0 = performance.now();
      const r = await runStages(eng, eng, input);
      samples.push(performance.now() - t0);
      r.flows.tensor.buffer.destroy();
      r.frames.tensor.buffer.destroy();
    }
    jobTiming = { ms: median(samples), method: 'wall time to the last onSubmittedWorkDone' };
  }
  image.buffer.destroy();
  eng.dispose();
  const name = `whole job, ${frames} frames ${W}x${H} (densify ${frames - 1} flows + render), synthetic image${quick ? ' (quick)' : ''}`;
  return {
    name: 'node-engine',
    gates: [gate],
    rows: [
      row(gate, {
        case: name,
        timing: jobTiming,
        baseline: 'same steps on the CPU (JS, e2e/reference)',
        baseline_ms: cpu.ms,
        target: 'interactive on a real GPU',
      }),
    ],
  };
};

export const BENCHMARKS: Record<string, Benchmark> = {
  splat,
  'flow-resize': flowResize,
  attention,
  densify,
  engine,
  'stage2-step': stage2Step,
  i2v,
};

/**
 * Run only when named in --only: the whole I2V takes minutes on a software adapter even for the
 * tiny pack (two UNet calls of two guidance halves per step), so the kit's default run and its
 * test leave it out.
 */
export const ONLY_WHEN_NAMED: ReadonlySet<string> = new Set(['i2v']);
