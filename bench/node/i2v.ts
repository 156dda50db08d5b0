/**
 * The whole image-to-video in Node on Dawn, as the app runs it: the product's Stage1Pipeline
 * (text encoder, VAE encoder, ControlNet + motion UNet, classifier-free guidance, DDIM, flow-VAE
 * decoder) and Stage2Pipeline (the stage-2 UNet's plan: ONNX segments on ORT's WebGPU EP with the
 * WGSL splat + motion attention between them, guidance, DDIM, VAE decoder) on one device, every
 * session of both stages loaded and kept, as the app's worker keeps both engines (each engine loads
 * its own text encoder and VAE encoder, so those two are resident twice, as in the app).
 *
 * Measured: session creation per stage (load), a first run that compiles every pipeline and is the
 * gate, then the timed run of `steps` DDIM steps per stage (default 25): seconds per step of each
 * stage (between the pipeline's onStep callbacks, which follow onSubmittedWorkDone), what lies
 * before the first step and after the last (text/VAE encoding, decoding), the total; GPU memory
 * measured (GpuMemoryMeter: live GPUBuffer bytes on this device, peak and at the end) beside
 * memory.ts's computed stage-1 peak and the manifest's weight bytes.
 *
 * Gate, before any time is reported:
 *  - a pack with goldens/pipeline_i2v.bin (the tiny pack; fp32): the first run takes the golden's
 *    inputs and settings (its noise, ControlNet condition, brush, steps, guidance) and its flows
 *    and video must be within the browser spec's bounds (e2e/neural/parityBounds.ts: BOUND, the
 *    flows FLOW_BOUND) of the PyTorch golden, else no time;
 *  - a pack without it (a random-weight full-size export): synthetic inputs (seeded noise as the
 *    app draws it, a drag and a brush), and the gate is only finite outputs of the right shapes;
 *    the JSON says so (details.gate.kind).
 * The timed run is checked for finite outputs of the right shapes too.
 *
 * The pack: GPU_KIT_PACK when set, else `tiny/` beside the bundle (the kit layout). Precision:
 * `--precision`, else fp32 where the golden is (it is fp32), else q4f16 when the pack has it,
 * else the app's choice for this adapter.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuContext } from '../../src/gpu/device';
import { readTensor, uploadTensor } from '../../src/gpu/tensor';
import type { ComponentName, Manifest, Precision } from '../../src/models/manifest';
import type { ComponentSession } from '../../src/models/session';
import { chooseVariant } from '../../src/models/signature';
import { loadComponent, type PackSource } from '../../src/models/source';
import { stage1PeakMemory, STAGE1_COMPONENTS } from '../../src/pipeline/neural/memory';
import { stage1Noise } from '../../src/pipeline/neural/noise';
import { Stage2Unet } from '../../src/pipeline/neural/plan';
import { loadStage1Sessions, Stage1Pipeline, type Stage1Request } from '../../src/pipeline/neural/stage1';
import { Stage2Pipeline, stage2Noise } from '../../src/pipeline/neural/stage2';
import { schedulerFromManifest } from '../../src/pipeline/scheduler';
import { ClipTokenizer, DEFAULT_NEGATIVE_PROMPT } from '../../src/pipeline/text';
import { BOUND, FLOW_BOUND } from '../../e2e/neural/bounds';
import { i2vGoldenRequests, i2vGoldenTensor, type I2vGoldenMeta } from '../../e2e/neural/i2vGolden';
import { compare, readMi2g, type GoldenFile } from '../../e2e/reference/mi2g';
import type { BenchOptions, BenchResult, Gate, Row } from './benchmarks';
import { GpuMemoryMeter, type MemorySnapshot } from './gpuMemory';
import { refusedRow, setUpOrt } from './stage2Step';

const NAME = 'node-i2v';
const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_STEPS = 25;
const TARGET_MS = 60_000;
const TARGET_BYTES = 6e9;
const TARGET = 'whole 25-step I2V < 60 s, peak GPU memory <= 6 GB (4090-class GPU, full-size q4f16)';
const BASELINE = 'the target: 60 s';

const STAGE2_SESSIONS: readonly ComponentName[] = ['text_encoder', 'vae_encoder', 'vae_decoder'];

/** Where the pack is: GPU_KIT_PACK first (the benchmark's reason to exist), else the kit's tiny pack. */
function packDir(): string {
  const list = [process.env.GPU_KIT_PACK, join(HERE, 'tiny')].filter((p): p is string => Boolean(p));
  const found = list.find((d) => existsSync(join(d, 'manifest.json')));
  if (!found) throw new Error(`no model pack found (looked in: ${list.join(', ')}); set GPU_KIT_PACK to a pack folder`);
  return resolve(found);
}

interface Inputs {
  stage1: Stage1Request;
  /** Stage 2's request less the flows (stage 1's output) and the image (shared). */
  stage2: { noise: Float32Array; imageEps: Float32Array; staticMask?: Float32Array };
  prompt: string;
  negativePrompt: string;
  guidance: number;
  /** Steps of the golden's run (the gate), or of the warm-up run. */
  gateSteps: number;
  dispose(): void;
}

/** The golden's inputs and settings, as the browser harness runs them (e2e/neural/i2vGolden.ts). */
function goldenInputs(device: GPUDevice, manifest: Manifest, g: GoldenFile): Inputs {
  const meta = g.meta as unknown as I2vGoldenMeta;
  const img = i2vGoldenTensor(g, 'image01');
  const image01 = uploadTensor(device, img.data as Float32Array, img.shape);
  const req = i2vGoldenRequests(g, manifest, image01);
  // GPU_KIT_FAULT=i2v: stage 2 starts from other noise (its sign flipped), as a wrong input upload would; the gate must refuse.
  const noise = process.env.GPU_KIT_FAULT === 'i2v' ? req.stage2.noise.map((v) => -v) : req.stage2.noise;
  return {
    stage1: req.stage1,
    stage2: { noise, imageEps: req.stage2.imageEps, staticMask: req.stage2.staticMask },
    prompt: meta.prompt,
    negativePrompt: meta.negative_prompt,
    guidance: meta.guidance,
    gateSteps: meta.steps,
    dispose: () => image01.buffer.destroy(),
  };
}

/**
 * Inputs for a pack without goldens: a smooth synthetic picture, one drag (a 9 x 9 patch of known
 * flow moving right by 1/16 of the canvas per frame), the bottom eighth brushed static, seeded noise
 * as the app draws it (stage1Noise / stage2Noise, seed 42), the manifest's guidance.
 */
function syntheticInputs(device: GPUDevice, manifest: Manifest): Inputs {
  const { width: W, height: H } = manifest.canvas;
  const { width: w, height: h } = manifest.latent;
  const F1 = manifest.stage1_frames;
  const plane = W * H;
  const image = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) image[c * plane + y * W + x] = 0.5 + 0.4 * Math.sin((x * (c + 1)) / 17 + y / 23);
  const image01 = uploadTensor(device, image, [1, 3, H, W]);
  const sparse = new Float32Array(F1 * 2 * plane).fill(0.5);
  const mask = new Float32Array(plane);
  const cy = H >> 1;
  const cx = W >> 2;
  for (let y = cy - 4; y <= cy + 4; y++)
    for (let x = cx - 4; x <= cx + 4; x++) {
      mask[y * W + x] = 1;
      // the flow VAE's [0, 1] units: 0.5 is no motion; x displacement of frame f
      for (let f = 0; f < F1; f++) sparse[2 * f * plane + y * W + x] = 0.5 + (0.5 * (f + 1)) / (16 * F1);
    }
  const brush = new Float32Array(plane);
  brush.fill(1, Math.floor((7 * H) / 8) * W);
  const n1 = stage1Noise(42, { frames: F1, height: h, width: w });
  const n2 = stage2Noise(42, { frames: manifest.frames, height: h, width: w });
  const prompt = 'a lake, the waves moving';
  return {
    stage1: {
      image01,
      prompt,
      negativePrompt: DEFAULT_NEGATIVE_PROMPT,
      steps: 2,
      guidance: manifest.scheduler.guidance_scale,
      strides: manifest.strides,
      noise: n1.noise,
      imageEps: n1.imageEps,
      control: { sparseFlow01: sparse, mask, eps: n1.controlEps, scale: 1 },
      staticMask: brush,
    },
    stage2: { noise: n2.noise, imageEps: n2.imageEps, staticMask: brush },
    prompt,
    negativePrompt: DEFAULT_NEGATIVE_PROMPT,
    guidance: manifest.scheduler.guidance_scale,
    gateSteps: 2,
    dispose: () => image01.buffer.destroy(),
  };
}

interface StageTiming {
  steps: number;
  /** Wall from the stage's start to its end (GPU drained). */
  total_ms: number;
  /** Wall between consecutive onStep callbacks: steps 2..n (step 1 shares its interval with the encoders). */
  step_ms: number[];
  mean_step_ms: number | null;
  /** From the start to the end of step 1: prompt and image encoding (stage 1: the ControlNet's condition) and step 1. */
  until_first_step_ms: number;
  /** After the last step: stage 1 the flow-VAE decoder, stage 2 the VAE decoder (every frame). */
  after_last_step_ms: number;
}

function timing(t0: number, stamps: number[], t1: number): StageTiming {
  const step = stamps.slice(1).map((s, i) => s - stamps[i]);
  return {
    steps: stamps.length,
    total_ms: t1 - t0,
    step_ms: step,
    mean_step_ms: step.length ? step.reduce((a, b) => a + b, 0) / step.length : null,
    until_first_step_ms: (stamps[0] ?? t1) - t0,
    after_last_step_ms: t1 - (stamps.at(-1) ?? t0),
  };
}

interface Check {
  name: string;
  rel: number;
  bound: number;
  nonFinite: number;
  scale: number;
}

interface RunOutput {
  flows: Float32Array;
  video: Float32Array;
  flowsShape: number[];
  videoShape: number[];
  stage1: StageTiming;
  stage2: StageTiming;
  memory: { stage1: MemorySnapshot; stage2: MemorySnapshot };
}

export async function i2v(ctx: GpuContext, _quick: boolean, options: BenchOptions = {}): Promise<BenchResult> {
  const { device } = ctx;
  const dir = packDir();
  const source: PackSource = async (path) => new Uint8Array(readFileSync(join(dir, path)));
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const goldenPath = join(dir, 'goldens', 'pipeline_i2v.bin');
  const hasGolden = existsSync(goldenPath);
  const precision: Precision =
    (options.precision as Precision | undefined) ??
    (hasGolden && manifest.precisions.includes('fp32')
      ? 'fp32'
      : manifest.precisions.includes('q4f16') && ctx.features.shaderF16
        ? 'q4f16'
        : chooseVariant(manifest.precisions, { shaderF16: ctx.features.shaderF16 }));
  if (!manifest.precisions.includes(precision))
    throw new Error(`the pack has no ${precision} variant (it has ${manifest.precisions.join(', ')})`);
  // the golden is fp32: another precision is gated on finite outputs only
  const golden = hasGolden && precision === 'fp32' ? readGolden(goldenPath) : undefined;
  const steps = options.steps ?? DEFAULT_STEPS;
  setUpOrt();

  const meter = new GpuMemoryMeter(device);
  meter.install();
  if (options.loadOnly) return loadOnly(device, manifest, source, precision, meter, dir, options.components);
  const sessions: ComponentSession[] = [];
  let unet: Stage2Unet | undefined;
  let inputs: Inputs | undefined;
  try {
    // Load as the two engines do (NeuralMotionEngine, NeuralRenderer), each its own sessions.
    const tLoad1 = performance.now();
    const get = async (name: ComponentName) => {
      const s = await loadComponent(source, manifest, name, precision, device);
      sessions.push(s);
      return s;
    };
    const s1 = await loadStage1Sessions(get);
    const load1Ms = performance.now() - tLoad1;
    const afterLoad1 = meter.snapshot();
    const tLoad2 = performance.now();
    const textEncoder2 = await get('text_encoder');
    const vaeEncoder2 = await get('vae_encoder');
    const vaeDecoder = await get('vae_decoder');
    unet = await Stage2Unet.load(source, manifest, precision, device);
    const load2Ms = performance.now() - tLoad2;
    const afterLoad = meter.snapshot();
    const dec = new TextDecoder();
    const tokenizer = ClipTokenizer.fromFiles(
      dec.decode(await source(manifest.tokenizer.vocab)),
      dec.decode(await source(manifest.tokenizer.merges)),
      manifest.tokenizer.max_length,
    );
    const one = new Stage1Pipeline(device, manifest, s1, tokenizer);
    const two = new Stage2Pipeline(device, manifest, { textEncoder: textEncoder2, vaeEncoder: vaeEncoder2, vaeDecoder, unet }, tokenizer);
    inputs = golden ? goldenInputs(device, manifest, golden) : syntheticInputs(device, manifest);
    const inp = inputs;

    const run = async (n: number): Promise<RunOutput> => {
      const stamps1: number[] = [];
      const stamps2: number[] = [];
      meter.resetPhase();
      const t0 = performance.now();
      const r1 = await one.run({ ...inp.stage1, steps: n }, schedulerFromManifest(manifest.scheduler), {
        onStep: () => stamps1.push(performance.now()),
      });
      await device.queue.onSubmittedWorkDone();
      const t1 = performance.now();
      const mem1 = meter.snapshot();
      meter.resetPhase();
      let r2: Awaited<ReturnType<Stage2Pipeline['run']>> | undefined;
      try {
        r2 = await two.run(
          {
            image01: inp.stage1.image01,
            prompt: inp.prompt,
            negativePrompt: inp.negativePrompt,
            steps: n,
            guidance: inp.guidance,
            flows: r1.flows,
            ...inp.stage2,
          },
          schedulerFromManifest(manifest.scheduler),
          { onStep: () => stamps2.push(performance.now()) },
        );
        await device.queue.onSubmittedWorkDone();
      } finally {
        r1.latents.buffer.destroy();
      }
      const t2 = performance.now();
      const mem2 = meter.snapshot();
      try {
        return {
          flows: (await readTensor(device, r1.flows)) as Float32Array,
          video: (await readTensor(device, r2.video)) as Float32Array,
          flowsShape: [...r1.flows.shape],
          videoShape: [...r2.video.shape],
          stage1: timing(t0, stamps1, t1),
          stage2: timing(t1, stamps2, t2),
          memory: { stage1: mem1, stage2: mem2 },
        };
      } finally {
        for (const t of [r1.flows, r2.video, r2.latents]) t.buffer.destroy();
      }
    };

    const { width: W, height: H } = manifest.canvas;
    const F = manifest.frames;
    const shapeChecks = (r: RunOutput): string[] => {
      const problems: string[] = [];
      const want = { flows: [F - 1, 2, H, W], video: [F, 3, H, W] };
      if (r.flowsShape.join() !== want.flows.join()) problems.push(`flows are [${r.flowsShape}], expected [${want.flows}]`);
      if (r.videoShape.join() !== want.video.join()) problems.push(`the video is [${r.videoShape}], expected [${want.video}]`);
      const nf = (a: Float32Array) => a.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
      const bad = { flows: nf(r.flows), video: nf(r.video) };
      for (const [k, v] of Object.entries(bad)) if (v) problems.push(`${v} non-finite values in the ${k}`);
      return problems;
    };

    // The gate (and the run that compiles every pipeline on this device).
    const tFirst = performance.now();
    const first = await run(inp.gateSteps);
    const firstMs = performance.now() - tFirst;
    const checks: Check[] = [];
    let gate: Gate;
    const gateKind = golden
      ? 'PyTorch golden pipeline_i2v.bin (fp32): flows and video'
      : hasGolden
        ? `finite outputs of the right shapes only: the pack's golden is fp32, this run is ${precision}`
        : 'finite outputs of the right shapes only: this pack has no golden (random weights)';
    const problems = shapeChecks(first);
    if (golden) {
      for (const [name, got, want, bound] of [
        ['flows', first.flows, i2vGoldenTensor(golden, 'flows').data.subarray(2 * W * H), Math.max(BOUND, FLOW_BOUND)],
        ['video', first.video, i2vGoldenTensor(golden, 'video').data, BOUND],
      ] as const) {
        const c = compare(got, want);
        checks.push({ name, rel: c.scale > 0 ? c.rel : Number.POSITIVE_INFINITY, bound, nonFinite: c.nonFinite, scale: c.scale });
      }
      const passed = problems.length === 0 && checks.every((c) => c.nonFinite === 0 && c.rel < c.bound);
      gate = {
        passed,
        detail:
          `full I2V (${inp.gateSteps} steps, guidance ${inp.guidance}, ControlNet, brush) vs ${gateKind}: ` +
          checks
            .map((c) => `${c.name} max abs diff ${c.rel.toExponential(2)} of the golden's largest magnitude (bound ${c.bound})`)
            .join(', ') +
          (problems.length ? `; ${problems.join('; ')}` : ''),
      };
    } else {
      gate = {
        passed: problems.length === 0,
        detail: `full I2V (${inp.gateSteps} steps, guidance ${inp.guidance}) gated on ${gateKind}${problems.length ? `: ${problems.join('; ')}` : ''}`,
      };
    }

    const caseName = `whole I2V, ${steps} DDIM steps per stage, guidance ${inp.guidance}, ${manifest.name} ${precision} ${W}x${H} x ${F} frames`;
    const computed = computedMemory(manifest, precision);
    const pack = { dir, name: manifest.name, canvas: manifest.canvas, latent: manifest.latent, frames: F, precision, golden: hasGolden };
    const load = { stage1_ms: load1Ms, stage2_ms: load2Ms, total_ms: load1Ms + load2Ms };
    const memoryBase = {
      after_load_stage1: afterLoad1,
      after_load: afterLoad,
      // ORT allocates on the kit's device: its sessions' buffers appear here, at least their weights
      ort_on_kit_device: afterLoad.live_bytes >= 0.5 * computed.weights_loaded_bytes,
    };
    if (!gate.passed) {
      return {
        name: NAME,
        rows: [refusedRow(caseName, gate, BASELINE, TARGET)],
        gates: [gate],
        details: { pack, gate: { kind: gateKind, passed: false, checks }, load, memory: { measured: memoryBase, computed } },
      };
    }

    // The timed run.
    const timed = await run(steps);
    const atEnd = meter.snapshot();
    const timedProblems = shapeChecks(timed);
    const totalMs = timed.stage1.total_ms + timed.stage2.total_ms;
    const peak = atEnd.peak_bytes;
    const gb = (b: number) => `${(b / 1e9).toFixed(3)} GB`;
    const s = (ms: number | null) => (ms == null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
    const row: Row = {
      case: caseName,
      ours_ms: timedProblems.length ? null : totalMs,
      baseline: BASELINE,
      baseline_ms: timedProblems.length ? null : TARGET_MS,
      ratio: timedProblems.length ? null : TARGET_MS / totalMs,
      target: TARGET,
      note: timedProblems.length
        ? `NOT TIMED: the timed run's output is wrong (${timedProblems.join('; ')})`
        : `wall, stage 1 ${s(timed.stage1.total_ms)} (${s(timed.stage1.mean_step_ms)} per step), stage 2 ${s(timed.stage2.total_ms)} ` +
          `(${s(timed.stage2.mean_step_ms)} per step, decode ${s(timed.stage2.after_last_step_ms)}); sessions created in ${s(load1Ms + load2Ms)}, ` +
          `first (gate) run ${s(firstMs)}; GPU buffers measured: peak ${gb(peak)} (target ${gb(TARGET_BYTES)}), ` +
          `${gb(afterLoad.live_bytes)} after loading; memory.ts computes ${gb(computed.stage1.peak)} for stage 1; ${gate.detail}`,
    };
    return {
      name: NAME,
      rows: [row],
      gates: [gate, ...(timedProblems.length ? [{ passed: false, detail: `timed run: ${timedProblems.join('; ')}` }] : [])],
      details: {
        pack,
        settings: { steps, guidance: inp.guidance, prompt: inp.prompt, gate_steps: inp.gateSteps },
        gate: { kind: gateKind, passed: true, checks },
        load,
        first_run_ms: firstMs,
        stage1: timed.stage1,
        stage2: timed.stage2,
        total_ms: totalMs,
        within_time_target: totalMs < TARGET_MS,
        memory: {
          measured: {
            ...memoryBase,
            peak_bytes: peak,
            peak_stage1_run_bytes: timed.memory.stage1.phase_peak_bytes,
            peak_stage2_run_bytes: timed.memory.stage2.phase_peak_bytes,
            at_end: atEnd,
            within_target: peak <= TARGET_BYTES,
          },
          computed,
          target_bytes: TARGET_BYTES,
        },
      },
    };
  } finally {
    await device.queue.onSubmittedWorkDone();
    inputs?.dispose();
    for (const s of sessions) await s.dispose();
    await unet?.dispose();
    meter.uninstall();
  }
}

/**
 * `--load-only [--components a,b]`: creates the sessions (all of both stages, or those named;
 * stage2_unet is the plan's segments) and reports their creation time and the GPU bytes live
 * after each, then releases them. No run, no gate, no step time: a first look at a pack on a new
 * adapter (or at a full-size pack on a software one, where a step would take hours).
 */
async function loadOnly(
  device: GPUDevice,
  manifest: Manifest,
  source: PackSource,
  precision: Precision,
  meter: GpuMemoryMeter,
  dir: string,
  only?: string[],
): Promise<BenchResult> {
  const all = [...new Set<string>([...STAGE1_COMPONENTS, ...STAGE2_SESSIONS, 'stage2_unet'])];
  const names = only ?? all;
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`--components: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  const loaded: { name: string; ms: number; live_bytes_after: number; file_bytes: number }[] = [];
  const release: (() => Promise<void>)[] = [];
  const computed = computedMemory(manifest, precision);
  try {
    for (const name of names) {
      const t0 = performance.now();
      if (name === 'stage2_unet') {
        const unet = await Stage2Unet.load(source, manifest, precision, device);
        release.push(() => unet.dispose());
      } else {
        const s = await loadComponent(source, manifest, name as ComponentName, precision, device);
        release.push(() => s.dispose());
      }
      await device.queue.onSubmittedWorkDone();
      const files =
        name === 'stage2_unet'
          ? (manifest.components.stage2_unet?.segments ?? []).flatMap((g) => g.files[precision] ?? [])
          : (manifest.components[name as ComponentName]?.files[precision] ?? []);
      loaded.push({
        name,
        ms: performance.now() - t0,
        live_bytes_after: meter.snapshot().live_bytes,
        file_bytes: files.reduce((a, f) => a + f.bytes, 0),
      });
    }
    const mem = meter.snapshot();
    const fileBytes = loaded.reduce((a, l) => a + l.file_bytes, 0);
    const loadMs = loaded.reduce((a, l) => a + l.ms, 0);
    const row: Row = {
      case: `load only: ${names.length} components of ${manifest.name} ${precision}`,
      ours_ms: loadMs,
      baseline: 'none (no run: sessions created only)',
      baseline_ms: null,
      ratio: null,
      target: TARGET,
      note: `sessions created in ${(loadMs / 1000).toFixed(2)} s; GPU buffers live after loading ${(mem.live_bytes / 1e9).toFixed(3)} GB (peak ${(mem.peak_bytes / 1e9).toFixed(3)} GB) for ${(fileBytes / 1e9).toFixed(3)} GB of files; not a run: no step time, no gate`,
    };
    return {
      name: NAME,
      rows: [row],
      gates: [],
      details: {
        pack: { dir, name: manifest.name, canvas: manifest.canvas, latent: manifest.latent, frames: manifest.frames, precision },
        load_only: true,
        components: loaded,
        memory: { measured: { after_load: mem, ort_on_kit_device: mem.live_bytes >= 0.5 * fileBytes }, computed },
      },
    };
  } finally {
    for (const r of release) await r();
    meter.uninstall();
  }
}

function readGolden(path: string): GoldenFile {
  const bytes = readFileSync(path);
  return readMi2g(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, 'pipeline_i2v');
}

/** What the manifest and memory.ts say for this pack and precision. */
function computedMemory(manifest: Manifest, precision: Precision) {
  const sum = (files: { bytes: number }[] | undefined) => (files ?? []).reduce((a, f) => a + f.bytes, 0);
  const bytesOf = (name: ComponentName) => sum(manifest.components[name]?.files[precision]);
  const unetBytes = (manifest.components.stage2_unet?.segments ?? []).reduce((a, s) => a + sum(s.files[precision]), 0);
  const stage1Weights = STAGE1_COMPONENTS.reduce((a, n) => a + bytesOf(n), 0);
  const stage2Weights = STAGE2_SESSIONS.reduce((a, n) => a + bytesOf(n), 0) + unetBytes;
  return {
    /** memory.ts (stage1PeakMemory): stage 1's weights, run tensors and the UNet's largest working set, batch 2. */
    stage1: stage1PeakMemory(manifest, precision),
    /** The manifest's file bytes of stage 2's sessions (memory.ts has no stage-2 model). */
    stage2_weight_bytes: stage2Weights,
    /** Every session the benchmark loads, as the app: stage 1's and stage 2's (text and VAE encoders twice). */
    weights_loaded_bytes: stage1Weights + stage2Weights,
  };
}
