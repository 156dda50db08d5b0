/**
 * In-page harness for e2e/gpu/neural-stage1.spec.ts: loads the tiny pack from the dev server,
 * builds the product's stage-1 pipeline on one device, and compares each piece with the PyTorch
 * goldens (public/models/tiny/goldens, read with the test tree's own MI2G reader).
 */
import { acquireGpu } from '../../src/gpu/device';
import { readTensor, uploadTensor, type GpuTensor } from '../../src/gpu/tensor';
import { DdimStepKernel } from '../../src/gpu/kernels/ddimStep';
import type { Manifest, Precision } from '../../src/models/manifest';
import type { ComponentSession } from '../../src/models/session';
import { fetchPackSource, loadComponent } from '../../src/models/source';
import { DdimScheduler, schedulerFromManifest } from '../../src/pipeline/scheduler';
import { ClipTokenizer, encodeText } from '../../src/pipeline/text';
import { Stage1Pipeline, type Stage1Request, type Stage1Sessions } from '../../src/pipeline/neural/stage1';
import { compare, readMi2g, type GoldenFile } from '../reference/mi2g';

export interface Check {
  name: string;
  maxAbs: number;
  scale: number;
  rel: number;
  nonFinite: number;
}

const BASE = '/models/tiny/';
const source = fetchPackSource(BASE);
const goldens = new Map<string, GoldenFile>();

async function golden(stem: string): Promise<GoldenFile> {
  let g = goldens.get(stem);
  if (!g) {
    const bytes = await source(`goldens/${stem}.bin`);
    g = readMi2g(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, stem);
    goldens.set(stem, g);
  }
  return g;
}

function tensor(g: GoldenFile, name: string) {
  const t = g.tensors.get(name);
  if (!t) throw new Error(`golden has no ${name}`);
  return t;
}

interface State {
  device: GPUDevice;
  manifest: Manifest;
  sessions: Stage1Sessions;
  tokenizer: ClipTokenizer;
  pipeline: Stage1Pipeline;
  log: string[];
}
let state: State | undefined;

export async function setup(precision: Precision): Promise<string[]> {
  const { device } = await acquireGpu();
  const manifest = JSON.parse(new TextDecoder().decode(await source('manifest.json'))) as Manifest;
  const log: string[] = [];
  const load = async (name: Parameters<typeof loadComponent>[2]): Promise<ComponentSession> => {
    const t0 = performance.now();
    const s = await loadComponent(source, manifest, name, precision, device);
    log.push(`${name} ${precision} created in ${(performance.now() - t0).toFixed(0)} ms`);
    return s;
  };
  const sessions: Stage1Sessions = {
    textEncoder: await load('text_encoder'),
    vaeEncoder: await load('vae_encoder'),
    flowVaeEncoder: await load('flow_vae_encoder'),
    flowVaeDecoder: await load('flow_vae_decoder'),
    controlnet: await load('controlnet'),
    unet: await load('stage1_unet'),
  };
  const dec = new TextDecoder();
  const tokenizer = ClipTokenizer.fromFiles(
    dec.decode(await source(manifest.tokenizer.vocab)),
    dec.decode(await source(manifest.tokenizer.merges)),
    manifest.tokenizer.max_length,
  );
  state = { device, manifest, sessions, tokenizer, pipeline: new Stage1Pipeline(device, manifest, sessions, tokenizer), log };
  return log;
}

function S(): State {
  if (!state) throw new Error('setup() first');
  return state;
}

async function read(t: GpuTensor): Promise<Float32Array> {
  return (await readTensor(S().device, t)) as Float32Array;
}

const check = (name: string, got: ArrayLike<number>, want: ArrayLike<number>): Check => ({ name, ...compare(got, want) });

/** Token ids + text encoder vs tokenizer.bin / text_encoder.bin. */
export async function textEncoder(): Promise<Check[]> {
  const { device, tokenizer, sessions } = S();
  const tok = await golden('tokenizer');
  const [negative, prompt] = tok.meta.texts as string[];
  const ids = [...tokenizer.encode(negative), ...tokenizer.encode(prompt)];
  const out = await encodeText(device, tokenizer, sessions.textEncoder, { prompt, negativePrompt: negative, guidance: true });
  const hidden = await read(out.hiddenStates);
  out.hiddenStates.dispose();
  out.inputIds.buffer.destroy();
  return [
    check('input_ids', ids, tensor(tok, 'input_ids').data),
    check('last_hidden_state', hidden, tensor(await golden('text_encoder'), 'last_hidden_state').data),
  ];
}

/** SD VAE encode with GPU-buffer inputs, and the unpack kernel vs x / 255. */
export async function vaeEncode(): Promise<Check[]> {
  const { device, sessions, pipeline, manifest } = S();
  const g = await golden('vae_encoder');
  const img = tensor(g, 'image');
  const eps = tensor(g, 'eps');
  const image = uploadTensor(device, img.data as Float32Array, img.shape);
  const e = uploadTensor(device, eps.data as Float32Array, eps.shape);
  const out = (await sessions.vaeEncoder.run({ image, eps: e })).latent;
  const latent = await read(out);
  out.dispose();
  // unpack kernel: packed RGBA8 -> [1,3,H,W] in [0,1]
  const { width: W, height: H } = manifest.canvas;
  const px = new Uint32Array(W * H).map((_, i) => ((i * 7) & 255) | (((i * 13) & 255) << 8) | (((i * 29) & 255) << 16) | (255 << 24));
  const packed = uploadTensor(device, px, [H, W], 'uint32');
  const un = pipeline.unpackImage(packed);
  const got = await read(un);
  const want = new Float32Array(3 * H * W).map((_, i) => ((px[i % (H * W)] >> (8 * Math.floor(i / (H * W)))) & 255) / 255);
  for (const b of [image, e, packed, un]) b.buffer.destroy();
  return [check('latent', latent, tensor(g, 'latent').data), check('unpack_rgb01', got, want)];
}

/** Flow-VAE encode -> ControlNet condition vs the pipeline golden's `control`; flow-VAE decode -> flows. */
export async function flowVae(): Promise<Check[]> {
  const { pipeline } = S();
  const g = await golden('pipeline_stage1_controlnet');
  const control = await pipeline.buildControl(
    {
      sparseFlow01: tensor(g, 'sparse_flow01').data as Float32Array,
      mask: tensor(g, 'sparse_mask').data as Float32Array,
      eps: tensor(g, 'eps_control').data as Float32Array,
      scale: 1,
    },
    1,
  );
  const c = await read(control);
  control.buffer.destroy();
  const lat = tensor(g, 'stage1_latents');
  const latents = uploadTensor(S().device, lat.data as Float32Array, lat.shape);
  const flows = await pipeline.decodeFlows(latents);
  const f = await read(flows);
  flows.buffer.destroy();
  latents.buffer.destroy();
  const { width: W, height: H } = S().manifest.canvas;
  const wantFlows = tensor(g, 'flows').data.subarray(2 * W * H); // golden has the zero flow of frame 0
  return [check('control', c, tensor(g, 'control').data), check('decoded flows', f, wantFlows)];
}

/** One UNet step with ControlNet: residuals stay on the GPU; then the CFG + DDIM kernel vs the CPU scheduler. */
export async function unetStep(): Promise<Check[]> {
  const { device, sessions } = S();
  const gc = await golden('controlnet');
  const gu = await golden('stage1_unet');
  const up = (name: string) => {
    const t = tensor(gc, name);
    return uploadTensor(device, t.data as Float32Array, t.shape);
  };
  const inputs = {
    sample: up('sample'),
    timestep: up('timestep'),
    encoder_hidden_states: up('encoder_hidden_states'),
    stride: up('stride'),
  };
  const res = await sessions.controlnet!.run({ ...inputs, control: up('control'), control_scale: up('control_scale') });
  const eps = (await sessions.unet.run({ ...inputs, ...res })).noise_pred;
  const noisePred = await read(eps);
  // DDIM step on the flow half of batch entry 0 with guidance 7
  const sample = tensor(gc, 'sample').data;
  const [B, , F1, h, w] = tensor(gc, 'sample').shape;
  const n = 4 * F1 * h * w;
  const x = sample.slice(4 * F1 * h * w, 8 * F1 * h * w) as Float32Array;
  const latents = uploadTensor(device, x, [1, 4, F1, h, w]);
  const sched = new DdimScheduler();
  sched.setTimesteps(2);
  const t = tensor(gc, 'timestep').data[0];
  const coeff = sched.stepCoefficients(t);
  const kernel = new DdimStepKernel(device);
  const enc = device.createCommandEncoder();
  kernel.encode(enc, { noisePred: eps, latents, guidance: 7, alphaBar: coeff.alphaBar, alphaBarPrev: coeff.alphaBarPrev });
  device.queue.submit([enc.finish()]);
  const stepped = await read(latents);
  const np = Float64Array.from(noisePred);
  const guided = Float64Array.from({ length: n }, (_, i) => np[i] + 7 * (np[n + i] - np[i]));
  const want = sched.step(guided, t, x).prevSample;
  eps.dispose();
  for (const o of Object.values(res)) o.dispose();
  for (const tt of [...Object.values(inputs), latents]) tt.buffer.destroy();
  if (B !== 2) throw new Error('golden batch is not 2');
  return [check('noise_pred', noisePred, tensor(gu, 'noise_pred').data), check('ddim step (CFG 7)', stepped, want)];
}

export interface Stage1Variant {
  controlnet: boolean;
  brush?: boolean;
  /** Negative controls: deliberately broken runs that must NOT match. */
  dropStride?: boolean;
  skipGuidance?: boolean;
  /** CFG halves in one batch of 2 or batch 1 twice (default: the pipeline's choice, batched here). */
  guidanceBatching?: 'batched' | 'sequential';
}

/** The whole stage 1 vs pipeline_stage1_controlnet.bin / pipeline_stage1.bin / pipeline_i2v.bin (brush). */
export async function wholeStage1(v: Stage1Variant): Promise<Check[]> {
  const { pipeline, manifest } = S();
  const stem = v.brush ? 'pipeline_i2v' : v.controlnet ? 'pipeline_stage1_controlnet' : 'pipeline_stage1';
  const g = await golden(stem);
  const meta = g.meta as { prompt: string; negative_prompt: string; steps: number; guidance: number; timesteps: number[] };
  const { device } = S();
  const img = tensor(g, 'image01');
  const image01 = uploadTensor(device, img.data as Float32Array, img.shape);
  const req: Stage1Request = {
    image01,
    prompt: meta.prompt,
    negativePrompt: meta.negative_prompt,
    steps: meta.steps,
    guidance: v.skipGuidance ? 1 : meta.guidance,
    strides: v.dropStride ? manifest.strides.map(() => 0) : manifest.strides,
    noise: tensor(g, 'noise_stage1').data as Float32Array,
    imageEps: tensor(g, 'eps_image_stage1').data as Float32Array,
    control: v.controlnet
      ? {
          sparseFlow01: tensor(g, 'sparse_flow01').data as Float32Array,
          mask: tensor(g, 'sparse_mask').data as Float32Array,
          eps: tensor(g, 'eps_control').data as Float32Array,
          scale: 1,
        }
      : undefined,
    staticMask: v.brush ? (tensor(g, 'brush').data as Float32Array) : undefined,
  };
  const steps: string[] = [];
  const scheduler = schedulerFromManifest(manifest.scheduler);
  const out = await pipeline.run(req, scheduler, {
    onStep: (k, n) => steps.push(`${k}/${n}`),
    guidanceBatching: v.guidanceBatching,
  });
  if (scheduler.timesteps.join() !== meta.timesteps.join()) throw new Error(`timesteps ${scheduler.timesteps} != golden ${meta.timesteps}`);
  if (steps.join() !== '1/2,2/2') throw new Error(`progress ${steps}`);
  const flows = await read(out.flows);
  const latents = await read(out.latents);
  out.flows.buffer.destroy();
  out.latents.buffer.destroy();
  image01.buffer.destroy();
  const checks = [check('flows', flows, tensor(g, 'flows').data.subarray(2 * manifest.canvas.width * manifest.canvas.height))];
  if (g.tensors.has('stage1_latents')) checks.push(check('stage1_latents', latents, tensor(g, 'stage1_latents').data));
  return checks;
}

/** Cancel between steps: aborting after step 1 rejects with AbortError. */
export async function cancelAfterFirstStep(): Promise<string> {
  const { pipeline, manifest, device } = S();
  const g = await golden('pipeline_stage1');
  const img = tensor(g, 'image01');
  const image01 = uploadTensor(device, img.data as Float32Array, img.shape);
  const ac = new AbortController();
  try {
    await pipeline.run(
      {
        image01,
        prompt: 'a',
        negativePrompt: '',
        steps: 2,
        guidance: 7,
        strides: manifest.strides,
        noise: tensor(g, 'noise_stage1').data as Float32Array,
        imageEps: tensor(g, 'eps_image_stage1').data as Float32Array,
      },
      schedulerFromManifest(manifest.scheduler),
      { signal: ac.signal, onStep: (k) => k === 1 && ac.abort() },
    );
    return 'finished';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    image01.buffer.destroy();
  }
}

export function log(): string[] {
  return S().log;
}

export interface EngineReport {
  framesRefusal: string;
  renderRefusal: string;
  shape: number[];
  count: number;
  nonFinite: number;
  /** max |flow| over pixels the brush marks static (must be 0). */
  staticMax: number;
  /** max |flow| over pixels allowed to move. */
  movingMax: number;
  otherSeedMaxDiff: number;
  progress: { stage: string; fraction: number }[];
  cancel: string;
}

/** NeuralMotionEngine on a project whose canvas (128 x 96) differs from the pack's (64 x 48); 1 DDIM step per run (SwiftShader time). */
export async function engineChecks(): Promise<EngineReport> {
  const { device, manifest } = S();
  const { NeuralMotionEngine } = await import('../../src/pipeline/neural/engine');
  const { emptyProject } = await import('../../src/motion/types');
  const W = 128;
  const H = 96;
  const project = emptyProject();
  project.canvas = { width: W, height: H };
  project.settings = { ...project.settings, frames: manifest.frames, steps: 1, prompt: 'a photo of the cat runs', seed: 3, flowUnit: 16 };
  project.trajectories = [
    {
      id: 't1',
      color: '#f00',
      points: [
        { x: 40, y: 40 },
        { x: 70, y: 50 },
      ],
      timing: { mode: 'reference', startFrame: 0, endFrame: manifest.frames - 1 },
    },
  ];
  // paint the left half: the right half is static
  project.brush = [
    {
      mode: 'paint',
      radius: 40,
      points: [
        { x: 20, y: 10 },
        { x: 20, y: 90 },
      ],
    },
  ];
  const px = new Uint32Array(W * H).map((_, i) => ((i * 3) & 255) | (((i >> 7) & 255) << 8) | (90 << 16) | (255 << 24));
  const image = uploadTensor(device, px, [H, W], 'uint32', 'engine image');
  const engine = new NeuralMotionEngine({ device, manifest, source, features: { shaderF16: false }, precision: 'fp32' });
  const report: Partial<EngineReport> = {};
  try {
    const wrongFrames = { ...project, settings: { ...project.settings, frames: 16 } };
    report.framesRefusal = await engine.motion({ project: wrongFrames, image }).then(
      () => 'accepted',
      (e: Error) => e.message,
    );
    report.renderRefusal = await engine.render({ project, image }, { tensor: image, width: W, height: H, count: 1 }).then(
      () => 'rendered',
      (e: Error) => e.message,
    );
    const progress: { stage: string; fraction: number }[] = [];
    const flows = await engine.motion({ project, image }, { onProgress: (p) => progress.push(p) });
    report.progress = progress;
    report.shape = [...flows.tensor.shape];
    report.count = flows.count;
    const a = (await readTensor(device, flows.tensor)) as Float32Array;
    const { staticMask } = await import('../../src/motion/brush');
    const st = staticMask(project.brush, project.canvas);
    let staticMax = 0;
    let movingMax = 0;
    let nonFinite = 0;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) nonFinite++;
      const p = i % (W * H);
      if (st[p]) staticMax = Math.max(staticMax, Math.abs(a[i]));
      else movingMax = Math.max(movingMax, Math.abs(a[i]));
    }
    Object.assign(report, { staticMax, movingMax, nonFinite });
    const other = await engine.motion({ project: { ...project, settings: { ...project.settings, seed: 4 } }, image });
    const c = (await readTensor(device, other.tensor)) as Float32Array;
    report.otherSeedMaxDiff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - c[i])), 0);
    for (const f of [flows, other]) f.tensor.buffer.destroy();
    const ac = new AbortController();
    report.cancel = await engine
      .motion({ project, image }, { signal: ac.signal, onProgress: (p) => p.stage === 'motion' && ac.abort() })
      .then(
        () => 'finished',
        (e: { code?: string }) => e.code ?? String(e),
      );
  } finally {
    engine.dispose();
    image.buffer.destroy();
  }
  return report as EngineReport;
}
