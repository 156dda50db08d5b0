/**
 * The stage-2 UNet step of the tiny pack in Node: the product's plan runner (src/pipeline/neural/
 * plan.ts: 15 ONNX segments on ORT's native WebGPU EP and the WGSL motion-augmented attention
 * between them: splat of frame 0's projected [k | v], MotionAttention)
 * on Dawn's device, one B = 2 call on the inputs of the pack's PyTorch golden
 * (goldens/stage2_unet.bin). Gate first, as in the browser test (e2e/gpu/neural-stage2.spec.ts):
 * every warped_k and attn_k the WGSL step writes and noise_pred within 1e-3 of the golden's largest magnitude
 * (fp32); a miss gets no time.
 *
 * Then the step is timed as the app runs it (one unet.run, then onSubmittedWorkDone), and once
 * more with the GPU drained after every plan step, which splits it into ORT segments (session.run
 * until the GPU is idle again), WGSL kernels (splat + attention: encode + submit until idle) and what
 * lies between them (the plan runner's bookkeeping, buffer releases, JS). WGSL kernels = the
 * splat gather + the attention of each cut (encodeGather opens the part, the drain closes it).
 *
 * `quick` (the kit's own test on a software adapter, where ORT's kernels of one whole call take
 * minutes): only the plan's tail, the last WGSL motion-augmented attention (flow resize, splat of
 * the golden's frame-0 [k | v], MotionAttention on the golden's qkv and pe) feeding the last ONNX
 * segment, gated on warped and the attention output (before ORT starts) and then on those and
 * noise_pred the same way, and that tail timed.
 *
 * The pack is read from `tiny/` beside the bundle (the kit layout) or GPU_KIT_PACK, ORT's wasm
 * from `ort-wasm-simd-threaded.asyncify.wasm.gz` beside the bundle or ORT_WASM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { gunzipSync } from 'node:zlib';
import type { GpuContext } from '../../src/gpu/device';
import { FlowResize } from '../../src/gpu/kernels/flowResize';
import { MotionAttention } from '../../src/gpu/kernels/motionAttention';
import { SoftmaxSplat } from '../../src/gpu/kernels/splat';
import { createTensor, readTensor, uploadTensor } from '../../src/gpu/tensor';
import type { Manifest, MotionAttentionPlanStep, TensorSpec } from '../../src/models/manifest';
import { ComponentSession, ort } from '../../src/models/session';
import type { PackSource } from '../../src/models/source';
import { Stage2Unet } from '../../src/pipeline/neural/plan';
import { compare, readMi2g, type GoldenFile } from '../../e2e/reference/mi2g';
import type { BenchResult, Gate, Row } from './benchmarks';

const BOUND = 1e-3;
const NAME = 'node-stage2-step';
const HERE = dirname(fileURLToPath(import.meta.url));

function findFile(what: string, candidates: (string | undefined)[]): string {
  const list = candidates.filter((p): p is string => Boolean(p));
  const found = list.find((p) => existsSync(p));
  if (!found) throw new Error(`${what} not found (looked in: ${list.join(', ')})`);
  return found;
}

/**
 * ORT in plain Node: its wasm from disk (no fetch), one thread (no workers, no proxy). Once per
 * process, before the first session.
 *
 * V8's baseline compiler only (--liftoff-only) unless GPU_KIT_WASM_TIERS=all: Node 20's V8 spends
 * minutes of CPU in its optimising compiler on one of the largest functions of ORT's asyncify
 * build (MidTierRegisterAllocator::UpdateSpillRangesForLoops; measured: the first session took
 * 150 s here instead of 3 s), and the session waits for it. Only wasm is affected: ORT's own
 * CPU side (dispatch) runs baseline code, the kernels and every JS baseline do not change.
 */
export function setUpOrt(): void {
  if (process.env.GPU_KIT_WASM_TIERS !== 'all') setFlagsFromString('--liftoff-only');
  const path = findFile("ORT's wasm", [join(HERE, 'ort-wasm-simd-threaded.asyncify.wasm.gz'), process.env.ORT_WASM]);
  const bytes = readFileSync(path);
  ort.env.wasm.wasmBinary = path.endsWith('.gz') ? gunzipSync(bytes) : bytes;
  // The page serves ORT's glue under /ort/ (src/models/session.ts); here the copy bundled into bench.mjs serves.
  ort.env.wasm.wasmPaths = undefined;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The synchronised run's parts, milliseconds. */
interface Split {
  total: number;
  ort: number;
  /** Of `ort`: until session.run() resolved (ORT's CPU side: dispatch, binding, its own submits). */
  ortCall: number;
  wgsl: number;
  between: number;
  segments: number;
  kernels: number;
}

/**
 * One UNet call with the GPU drained after every plan step. Times ComponentSession.run and
 * SoftmaxSplat.encodeGather from outside (their prototypes, for this run only) and the drain in the
 * plan's inspect hook, which the runner awaits after each tensor it produces.
 */
async function splitRun(
  device: GPUDevice,
  unet: Stage2Unet,
  inputs: Parameters<Stage2Unet['run']>[0],
  flows: Parameters<Stage2Unet['run']>[1],
): Promise<Split> {
  const s: Split = { total: 0, ort: 0, ortCall: 0, wgsl: 0, between: 0, segments: 0, kernels: 0 };
  const sessionRun = ComponentSession.prototype.run;
  const gather = SoftmaxSplat.prototype.encodeGather;
  let open: { kind: 'ort' | 'wgsl'; t0: number } | null = null;
  ComponentSession.prototype.run = async function (this: ComponentSession, feeds) {
    const t0 = performance.now();
    const out = await sessionRun.call(this, feeds);
    s.ortCall += performance.now() - t0;
    s.segments++;
    open = { kind: 'ort', t0 };
    return out;
  };
  SoftmaxSplat.prototype.encodeGather = function (this: SoftmaxSplat, ...args: Parameters<SoftmaxSplat['encodeGather']>) {
    open = { kind: 'wgsl', t0: performance.now() };
    s.kernels++;
    return gather.apply(this, args);
  };
  const t0 = performance.now();
  try {
    const np = await unet.run(inputs, flows, {
      inspect: async () => {
        if (!open) return; // a later output of the same segment: already drained
        const step = open;
        open = null;
        await device.queue.onSubmittedWorkDone();
        const ms = performance.now() - step.t0;
        if (step.kind === 'ort') s.ort += ms;
        else s.wgsl += ms;
      },
    });
    await device.queue.onSubmittedWorkDone();
    s.total = performance.now() - t0;
    np.dispose();
  } finally {
    ComponentSession.prototype.run = sessionRun;
    SoftmaxSplat.prototype.encodeGather = gather;
  }
  s.between = s.total - s.ort - s.wgsl;
  return s;
}

const BASELINE = 'same step, GPU drained after every segment and kernel';
const TARGET = 'whole 25-step I2V < 60 s on a 4090 (full size)';

/** A row whose result missed its gate: no time, the failure in the note. */
export function refusedRow(caseName: string, gate: Gate, baseline = BASELINE, target = TARGET): Row {
  return {
    case: caseName,
    ours_ms: null,
    baseline,
    baseline_ms: null,
    ratio: null,
    target,
    note: `NOT TIMED: wrong result on this adapter (${gate.detail})`,
  };
}

interface Judged {
  name: string;
  rel: number;
  nonFinite: number;
}

function gateOf(what: string, checked: Judged[]): Gate {
  const worst = checked.reduce((a, c) => (c.rel > a.rel || c.nonFinite ? c : a));
  return {
    passed: checked.length > 0 && checked.every((c) => c.nonFinite === 0 && c.rel < BOUND),
    detail:
      `${what} vs PyTorch golden stage2_unet.bin: ${checked.length} tensors (${checked.map((c) => c.name).join(', ')}), worst ${worst.name} ` +
      `max abs diff ${worst.rel.toExponential(2)} of the golden's largest magnitude (bound ${BOUND})` +
      (worst.nonFinite ? `, ${worst.nonFinite} non-finite values` : ''),
  };
}

export async function stage2Step(ctx: GpuContext, quick: boolean): Promise<BenchResult> {
  const { device } = ctx;
  const packDir = findFile(
    'the tiny pack',
    [join(HERE, 'tiny'), process.env.GPU_KIT_PACK].map((d) => d && join(d, 'manifest.json')),
  );
  const root = dirname(packDir);
  const source: PackSource = async (path) => new Uint8Array(readFileSync(join(root, path)));
  setUpOrt();
  const manifest = JSON.parse(readFileSync(packDir, 'utf8')) as Manifest;
  const bytes = readFileSync(join(root, 'goldens', 'stage2_unet.bin'));
  const g: GoldenFile = readMi2g(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, 'stage2_unet');
  const tensor = (name: string) => {
    const t = g.tensors.get(name);
    if (!t) throw new Error(`stage2_unet.bin has no ${name}`);
    return t;
  };

  const checked: Judged[] = [];
  const judge = async (name: string, t: Parameters<typeof readTensor>[1]) => {
    const got = (await readTensor(device, t)) as Float32Array;
    // GPU_KIT_FAULT=stage2-step: the first tensor judged is altered, as a driver bug would.
    if (process.env.GPU_KIT_FAULT === 'stage2-step' && checked.length === 0) got[got.length >> 1] += 7;
    const c = compare(got, tensor(name).data);
    checked.push({ name, rel: c.scale > 0 ? c.rel : Number.POSITIVE_INFINITY, nonFinite: c.nonFinite });
  };
  if (quick) return planTail(device, manifest, source, tensor, judge, checked);

  const tLoad = performance.now();
  const unet = await Stage2Unet.load(source, manifest, 'fp32', device);
  const loadMs = performance.now() - tLoad;
  const up = (name: string) => {
    const t = tensor(name);
    return uploadTensor(device, t.data as Float32Array, t.shape);
  };
  const inputs = { sample: up('sample'), timestep: up('timestep'), encoder_hidden_states: up('encoder_hidden_states') };
  const flow = up('flow');
  const flows = unet.prepareFlows(flow);
  try {
    // Gate: the first call (it also compiles every ORT and WGSL pipeline on this device).
    const tFirst = performance.now();
    const np = await unet.run(inputs, flows, {
      inspect: async (name, t) => {
        if (name.startsWith('warped_') || name.startsWith('attn_')) await judge(name, t);
      },
    });
    await judge('noise_pred', np);
    np.dispose();
    const firstMs = performance.now() - tFirst;
    const kvCount = checked.filter((c) => c.name.startsWith('attn_')).length;
    const gate = gateOf(
      `stage-2 UNet call (tiny pack, fp32, ${manifest.components.stage2_unet!.segments.length} ORT segments, ${kvCount} WGSL motion attentions)`,
      checked,
    );
    const caseName = `one UNet step, tiny pack fp32 B2 F${manifest.frames} ${manifest.latent.height}x${manifest.latent.width} latent`;
    if (!gate.passed || kvCount === 0) return { name: NAME, rows: [refusedRow(caseName, gate)], gates: [gate] };

    // The app's path: one run, then wait for the GPU.
    const repeats = 7;
    const samples: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      const out = await unet.run(inputs, flows);
      await device.queue.onSubmittedWorkDone();
      samples.push(performance.now() - t0);
      out.dispose();
    }
    const stepMs = median(samples);
    const splits: Split[] = [];
    for (let i = 0; i < 3; i++) splits.push(await splitRun(device, unet, inputs, flows));
    const sp = splits.sort((a, b) => a.total - b.total)[splits.length >> 1];
    const pct = (x: number) => `${((100 * x) / sp.total).toFixed(0)} %`;
    const row: Row = {
      case: caseName,
      ours_ms: stepMs,
      baseline: BASELINE,
      baseline_ms: sp.total,
      ratio: sp.total / stepMs,
      target: TARGET,
      note:
        `wall, median of ${repeats} after the gated first call (${firstMs.toFixed(0)} ms, pipelines compiled; sessions created in ${loadMs.toFixed(0)} ms); ` +
        `drained run split: ORT segments ${sp.ort.toFixed(1)} ms (${pct(sp.ort)}; ${sp.segments} session runs, ${sp.ortCall.toFixed(1)} ms until run() resolved), ` +
        `WGSL splat + attention ${sp.wgsl.toFixed(1)} ms (${pct(sp.wgsl)}; ${sp.kernels} steps), between them ${sp.between.toFixed(1)} ms (${pct(sp.between)}); ` +
        gate.detail,
    };
    return { name: NAME, rows: [row], gates: [gate] };
  } finally {
    await device.queue.onSubmittedWorkDone();
    flows.dispose();
    for (const t of [...Object.values(inputs), flow]) t.buffer.destroy();
    await unet.dispose();
  }
}

/**
 * The quick case: the plan's last motion_attention step (WGSL: the golden's flow resized to its
 * size and binned, the golden's frame-0 [k | v] splatted, MotionAttention on the golden's qkv and
 * pe) and the ONNX segment that reads it, on the golden's other inputs; warped, the attention
 * output and noise_pred gated, then the pair timed (wall, GPU
 * drained after each part).
 */
async function planTail(
  device: GPUDevice,
  manifest: Manifest,
  source: PackSource,
  tensor: (name: string) => { data: Float32Array | Int32Array; shape: number[] },
  judge: (name: string, t: Parameters<typeof readTensor>[1]) => Promise<void>,
  checked: Judged[],
): Promise<BenchResult> {
  const spec = manifest.components.stage2_unet!;
  const last = spec.plan.at(-1)!;
  const attn = [...spec.plan].reverse().find((s): s is MotionAttentionPlanStep => s.kind === 'motion_attention')!;
  if (last.kind !== 'onnx' || !last.inputs.includes(attn.output))
    throw new Error('the plan does not end with an attention feeding the last segment');
  const seg = spec.segments.find((g) => g.index === last.segment)!;
  const asSpec = (x: string | TensorSpec): TensorSpec => (typeof x === 'string' ? { name: x, dtype: 'float32', shape: [] } : x);
  const name = `stage2_unet.seg${String(seg.index).padStart(2, '0')}`;
  const up = (n: string) => {
    const t = tensor(n);
    return uploadTensor(device, t.data as Float32Array, t.shape);
  };
  const flow = up('flow');
  const qkv = up(attn.qkv);
  const kv0 = up(attn.frame0_kv);
  const pe = up(attn.pe);
  const B = kv0.shape[0];
  const P = attn.height * attn.width;
  const C = attn.channels;
  const rest = Object.fromEntries(last.inputs.filter((n) => n !== attn.output).map((n) => [n, up(n)]));
  const resize = new FlowResize(device);
  const splat = new SoftmaxSplat(device);
  const attention = new MotionAttention(device);
  const warped = createTensor(device, [B, attn.frames - 1, attn.height, attn.width, 2 * C], 'float32', 'tail warped');
  // the WGSL part of one cut: splat frame 0's [k | v], then the attention (as plan.ts records it)
  const wgslStep = (encoder: GPUCommandEncoder) => {
    splat.encodeGather(encoder, bins, { input: kv0, mode: 'avg', layout: 'hwc', output: warped });
    const o = attention.encode(encoder, {
      qkv: { buffer: qkv.buffer, dtype: 'float32', shape: [B, attn.frames, P, 3 * C] },
      warped: { buffer: warped.buffer, dtype: 'float32', shape: [B, attn.frames - 1, P, 2 * C] },
      pe,
      heads: attn.heads,
    });
    return { buffer: o.buffer, dtype: o.dtype, shape: [B * attn.frames, attn.height, attn.width, C] } as const;
  };
  let enc = device.createCommandEncoder({ label: 'stage-2 tail flows' });
  const resized = resize.encode(enc, { flows: flow, height: attn.height, width: attn.width });
  const bins = splat.prepareBins(enc, resized, { first: 1 });
  device.queue.submit([enc.finish()]);
  const tail = async (check: boolean) => {
    const t0 = performance.now();
    enc = device.createCommandEncoder({ label: 'stage-2 tail attention' });
    const kv = wgslStep(enc);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const t1 = performance.now();
    if (check) await judge(attn.warped, warped);
    if (check) await judge(attn.output, kv);
    const out = await session!.run({ ...rest, [attn.output]: kv });
    await device.queue.onSubmittedWorkDone();
    const t2 = performance.now();
    if (check) await judge('noise_pred', out.noise_pred);
    for (const o of Object.values(out)) o.dispose();
    kv.buffer.destroy();
    return { wgsl: t1 - t0, ort: t2 - t1 };
  };
  const caseName = `plan tail (quick): last motion attention (splat + WGSL attention) + ${name}, tiny pack fp32 B2 F${manifest.frames}`;
  let session: ComponentSession | undefined;
  let loadMs = 0;
  try {
    // The WGSL step first: when its output is already wrong, ORT (minutes on a software adapter) is not started.
    enc = device.createCommandEncoder({ label: 'stage-2 tail attention' });
    const kv = wgslStep(enc);
    device.queue.submit([enc.finish()]);
    await judge(attn.warped, warped);
    await judge(attn.output, kv);
    kv.buffer.destroy();
    const kvGate = gateOf(`stage-2 plan tail (WGSL ${attn.output}, tiny pack fp32)`, checked);
    if (!kvGate.passed) return { name: NAME, rows: [refusedRow(caseName, kvGate)], gates: [kvGate] };
    const tLoad = performance.now();
    session = await ComponentSession.create(
      name,
      'fp32',
      { inputs: seg.inputs.map(asSpec), outputs: seg.outputs.map(asSpec) },
      await source(seg.files.fp32![0].path),
      device,
    );
    loadMs = performance.now() - tLoad;
    checked.length = 0;
    await tail(true);
    const gate = gateOf(`stage-2 plan tail (WGSL ${attn.output} -> ORT ${name}, tiny pack fp32)`, checked);
    if (!gate.passed) return { name: NAME, rows: [refusedRow(caseName, gate)], gates: [gate] };
    const runs = [await tail(false), await tail(false)];
    const ort = median(runs.map((r) => r.ort));
    const wgsl = median(runs.map((r) => r.wgsl));
    const row: Row = {
      case: caseName,
      ours_ms: ort + wgsl,
      baseline: 'its ORT segment alone',
      baseline_ms: ort,
      ratio: ort / (ort + wgsl),
      target: 'the whole step without --quick',
      note: `wall, GPU drained after each part, median of ${runs.length} after the gated first run (session created in ${loadMs.toFixed(0)} ms): ORT ${ort.toFixed(1)} ms, WGSL splat + attention ${wgsl.toFixed(1)} ms; ${gate.detail}`,
    };
    return { name: NAME, rows: [row], gates: [gate] };
  } finally {
    await device.queue.onSubmittedWorkDone();
    bins.dispose();
    splat.dispose();
    attention.dispose();
    for (const t of [flow, qkv, kv0, pe, warped, resized, ...Object.values(rest)]) t.buffer.destroy();
    await session?.dispose();
  }
}
