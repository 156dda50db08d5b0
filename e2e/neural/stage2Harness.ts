/**
 * In-page harness for e2e/gpu/neural-stage2.spec.ts: loads the tiny pack from the dev server,
 * builds the product's stage-2 runtime (plan runner + pipeline) on one device, and compares it
 * with the PyTorch goldens (public/models/tiny/goldens, read with the test tree's MI2G reader).
 */
import { acquireGpu } from '../../src/gpu/device';
import { readTensor, uploadTensor, type GpuTensor } from '../../src/gpu/tensor';
import type { Frame0Batch, Manifest, Precision } from '../../src/models/manifest';
import type { ComponentSession } from '../../src/models/session';
import { fetchPackSource, loadComponent } from '../../src/models/source';
import { schedulerFromManifest } from '../../src/pipeline/scheduler';
import { ClipTokenizer } from '../../src/pipeline/text';
import { Stage2Unet } from '../../src/pipeline/neural/plan';
import { Stage2Pipeline, type Stage2Request } from '../../src/pipeline/neural/stage2';
import { Stage1Pipeline } from '../../src/pipeline/neural/stage1';
import { Stage2LayoutKernels } from '../../src/gpu/kernels/stage2Layout';
import { compare, readMi2g, type GoldenFile } from '../reference/mi2g';
import { i2vGoldenRequests } from './i2vGolden';

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
  text: ComponentSession;
  vaeEncoder: ComponentSession;
  vaeDecoder: ComponentSession;
  unets: Map<Precision, Stage2Unet>;
  tokenizer: ClipTokenizer;
  log: string[];
}
let state: State | undefined;

function S(): State {
  if (!state) throw new Error('setup() first');
  return state;
}

export async function setup(): Promise<string[]> {
  const { device } = await acquireGpu();
  const manifest = JSON.parse(new TextDecoder().decode(await source('manifest.json'))) as Manifest;
  const log: string[] = [];
  const t0 = performance.now();
  const load = (name: Parameters<typeof loadComponent>[2]) => loadComponent(source, manifest, name, 'fp32', device);
  const text = await load('text_encoder');
  const vaeEncoder = await load('vae_encoder');
  const vaeDecoder = await load('vae_decoder');
  const unet = await Stage2Unet.load(source, manifest, 'fp32', device);
  log.push(
    `stage-2 sessions (fp32, ${manifest.components.stage2_unet!.segments.length} segments) created in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  const dec = new TextDecoder();
  const tokenizer = ClipTokenizer.fromFiles(
    dec.decode(await source(manifest.tokenizer.vocab)),
    dec.decode(await source(manifest.tokenizer.merges)),
    manifest.tokenizer.max_length,
  );
  state = { device, manifest, text, vaeEncoder, vaeDecoder, unets: new Map([['fp32', unet]]), tokenizer, log };
  return log;
}

async function read(t: GpuTensor): Promise<Float32Array> {
  return (await readTensor(S().device, t)) as Float32Array;
}

const check = (name: string, got: ArrayLike<number>, want: ArrayLike<number>): Check => ({ name, ...compare(got, want) });

/**
 * The fp32 plan with every motion attention's frame0_batch set to `mode` (what a pack exported with
 * --frame0-batch says), on the fp32 unet's sessions: the segments are the same in both modes. Not
 * disposed on its own (it would close the shared sessions).
 */
function unetWith(mode: Frame0Batch): Stage2Unet {
  const st = S();
  const base = st.unets.get('fp32')!;
  if (mode === 'same') return base;
  let unet = quirkUnet;
  if (!unet) {
    const spec = structuredClone(st.manifest.components.stage2_unet!);
    for (const step of spec.plan) if (step.kind === 'motion_attention') step.frame0_batch = mode;
    const sessions = (base as unknown as { sessions: ReadonlyMap<number, ComponentSession> }).sessions;
    unet = quirkUnet = new Stage2Unet(st.device, spec, sessions);
  }
  return unet;
}
let quirkUnet: Stage2Unet | undefined;

/** A precision's plan, or the fp32 segments with the plan's frame0_batch set (against the quirk golden). */
export type UnetCallTarget = Precision | { plan: Frame0Batch };

/**
 * One B = 2 UNet call through the plan on the golden's sample/timestep/context/flow: every
 * tensor the plan produces (segment outputs, each cut's warped_k and attn_k) and the resized flows against stage2_unet.bin
 * (q4 / q4c8: only noise_pred, against stage2_unet.<precision>.bin's noise_pred_chained: the whole call in PyTorch
 * with the 4-bit dequantised Linear weights (q4c8: and int8 Conv weights), each segment fed the previous ones' outputs).
 * `{ plan }`: the produced tensors against stage2_unet.quirk.bin (the reference with frame0_batch "reference_quirk");
 * with plan 'same' that is the negative control, which must miss.
 */
export async function unetCall(target: UnetCallTarget = 'fp32'): Promise<Check[]> {
  const st = S();
  const precision = typeof target === 'string' ? target : 'fp32';
  let unet = typeof target === 'string' ? st.unets.get(precision) : unetWith(target.plan);
  if (!unet) {
    unet = await Stage2Unet.load(source, st.manifest, precision, st.device);
    st.unets.set(precision, unet);
  }
  const g = await golden('stage2_unet');
  // the golden of every produced tensor (none for q4 / q4c8), and the one of noise_pred
  const each = typeof target !== 'string' ? await golden('stage2_unet.quirk') : precision === 'fp32' ? g : undefined;
  const want = each ?? (await golden(`stage2_unet.${precision}`));
  const up = (name: string) => {
    const t = tensor(g, name);
    return uploadTensor(st.device, t.data as Float32Array, t.shape);
  };
  const inputs = { sample: up('sample'), timestep: up('timestep'), encoder_hidden_states: up('encoder_hidden_states') };
  const flow = up('flow');
  const flows = unet.prepareFlows(flow);
  const checks: Check[] = [];
  for (const [key, r] of flows.resized) checks.push(check(`flow_${key}`, await read(r), tensor(g, `flow_${key}`).data));
  const np = await unet.run(inputs, flows, {
    inspect: async (name, t) => {
      if (!each || name === 'noise_pred' || !each.tensors.has(name)) return;
      checks.push(check(name, await read(t), tensor(each, name).data));
    },
  });
  checks.push(check('noise_pred', await read(np), tensor(want, each ? 'noise_pred' : 'noise_pred_chained').data));
  np.dispose();
  flows.dispose();
  for (const t of [...Object.values(inputs), flow]) t.buffer.destroy();
  return checks;
}

function pipeline(frame0Batch: Frame0Batch = 'same'): Stage2Pipeline {
  const st = S();
  return new Stage2Pipeline(
    st.device,
    st.manifest,
    { textEncoder: st.text, vaeEncoder: st.vaeEncoder, vaeDecoder: st.vaeDecoder, unet: unetWith(frame0Batch) },
    st.tokenizer,
  );
}

export interface Stage2Variant {
  golden: 'pipeline_stage2' | 'pipeline_v2v_stage2' | 'pipeline_stage2.quirk';
  /** The plan's frame0_batch for this run (default 'same', as the tiny pack's manifest). */
  frame0Batch?: Frame0Batch;
  /** Negative controls: deliberately broken runs that must NOT match. */
  dropBrush?: boolean;
  negateFlows?: boolean;
  /** Pass [F-1, 2, H, W] flows (stage 1's output form): the pipeline prepends the zero flow. */
  withoutFrame0?: boolean;
  /** Negative control: the frame-0 replacement before each step (selective noising) made a no-op for this run. */
  skipSelectiveNoising?: boolean;
}

/**
 * The whole stage 2 vs pipeline_stage2.bin (flows + brush), pipeline_v2v_stage2.bin (source flows) or
 * pipeline_stage2.quirk.bin (flows + brush, the reference with frame0_batch "reference_quirk").
 */
export async function wholeStage2(v: Stage2Variant): Promise<Check[]> {
  const { device, manifest } = S();
  const g = await golden(v.golden);
  const meta = g.meta as { prompt: string; negative_prompt: string; steps: number; guidance: number; timesteps: number[] };
  const img = tensor(g, 'image01');
  const image01 = uploadTensor(device, img.data as Float32Array, img.shape);
  const fl = tensor(g, 'flows');
  let flowData = fl.data as Float32Array;
  if (v.negateFlows) flowData = flowData.map((x) => -x);
  const plane = 2 * fl.shape[2] * fl.shape[3];
  const flows = v.withoutFrame0
    ? uploadTensor(device, flowData.subarray(plane), [fl.shape[0] - 1, ...fl.shape.slice(1)])
    : uploadTensor(device, flowData, fl.shape);
  const req: Stage2Request = {
    image01,
    prompt: meta.prompt,
    negativePrompt: meta.negative_prompt,
    steps: meta.steps,
    guidance: meta.guidance,
    flows,
    noise: tensor(g, 'noise_stage2').data as Float32Array,
    imageEps: tensor(g, 'eps_image_stage2').data as Float32Array,
    staticMask: g.tensors.has('brush') && !v.dropBrush ? (tensor(g, 'brush').data as Float32Array) : undefined,
  };
  const steps: string[] = [];
  const scheduler = schedulerFromManifest(manifest.scheduler);
  const proto = Stage2LayoutKernels.prototype;
  const setFrame0 = proto.setFrame0;
  // only the replacements before each step are skipped; the final one (after the last step) still runs
  let calls = 0;
  if (v.skipSelectiveNoising)
    proto.setFrame0 = function (this: Stage2LayoutKernels, ...args) {
      if (++calls > meta.steps) setFrame0.apply(this, args);
    };
  let out: Awaited<ReturnType<Stage2Pipeline['run']>>;
  try {
    out = await pipeline(v.frame0Batch).run(req, scheduler, { onStep: (k, n) => steps.push(`${k}/${n}`) });
  } finally {
    proto.setFrame0 = setFrame0;
  }
  if (scheduler.timesteps.join() !== meta.timesteps.join()) throw new Error(`timesteps ${scheduler.timesteps} != golden ${meta.timesteps}`);
  if (steps.join() !== '1/2,2/2') throw new Error(`progress ${steps}`);
  const video = await read(out.video);
  const latents = await read(out.latents);
  for (const t of [out.video, out.latents, image01, flows]) t.buffer.destroy();
  const checks = [check('video', video, tensor(g, 'video').data)];
  if (g.tensors.has('stage2_latents')) checks.push(check('stage2_latents', latents, tensor(g, 'stage2_latents').data));
  return checks;
}

/** Full I2V: the product's stage 1 (ControlNet + brush) chained into stage 2 on the GPU vs pipeline_i2v.bin. */
export async function i2v(): Promise<Check[]> {
  const st = S();
  const { device, manifest } = st;
  const g = await golden('pipeline_i2v');
  const load = (name: Parameters<typeof loadComponent>[2]) => loadComponent(source, manifest, name, 'fp32', device);
  const s1 = {
    textEncoder: st.text,
    vaeEncoder: st.vaeEncoder,
    flowVaeEncoder: await load('flow_vae_encoder'),
    flowVaeDecoder: await load('flow_vae_decoder'),
    controlnet: await load('controlnet'),
    unet: await load('stage1_unet'),
  };
  const img = tensor(g, 'image01');
  const image01 = uploadTensor(device, img.data as Float32Array, img.shape);
  const req = i2vGoldenRequests(g, manifest, image01);
  const one = await new Stage1Pipeline(device, manifest, s1, st.tokenizer).run(req.stage1, schedulerFromManifest(manifest.scheduler));
  // stage 1's [F-1, 2, H, W] flows go to stage 2 as they are (it prepends the zero flow)
  const two = await pipeline().run({ ...req.stage2, flows: one.flows }, schedulerFromManifest(manifest.scheduler));
  const flows = await read(one.flows);
  const video = await read(two.video);
  for (const t of [one.flows, one.latents, two.video, two.latents, image01]) t.buffer.destroy();
  for (const s of [s1.flowVaeEncoder, s1.flowVaeDecoder, s1.controlnet, s1.unet]) await s.dispose();
  const { width: W, height: H } = manifest.canvas;
  return [check('flows', flows, tensor(g, 'flows').data.subarray(2 * W * H)), check('video', video, tensor(g, 'video').data)];
}

/** Cancel between steps: aborting after step 1 rejects with AbortError. */
export async function cancelAfterFirstStep(): Promise<string> {
  const { device, manifest } = S();
  const g = await golden('pipeline_v2v_stage2');
  const img = tensor(g, 'image01');
  const image01 = uploadTensor(device, img.data as Float32Array, img.shape);
  const fl = tensor(g, 'flows');
  const flows = uploadTensor(device, fl.data as Float32Array, fl.shape);
  const ac = new AbortController();
  try {
    await pipeline().run(
      {
        image01,
        flows,
        prompt: 'a',
        negativePrompt: '',
        steps: 2,
        guidance: 7,
        noise: tensor(g, 'noise_stage2').data as Float32Array,
        imageEps: tensor(g, 'eps_image_stage2').data as Float32Array,
      },
      schedulerFromManifest(manifest.scheduler),
      { signal: ac.signal, onStep: (k) => k === 1 && ac.abort() },
    );
    return 'finished';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    image01.buffer.destroy();
    flows.buffer.destroy();
  }
}

export interface RendererReport {
  fusionRefusal: string;
  framesRefusal: string;
  shape: number[];
  count: number;
  /** frame 0 must be the reference image, bit for bit */
  frame0Diff: number;
  /** at the pack's canvas: max |RGBA8 - round(255 * video)| over frames 1..N, video from Stage2Pipeline with the same seeded noise */
  packDiff: number;
  /** a 128 x 96 project (2x the pack): frames differ from the upsampled pack-size frames by at most this (8-bit levels) */
  resizedDiff: number;
  progress: { stage: string; fraction: number }[];
  cancel: string;
}

/**
 * NeuralRenderer / renderNeural: refusals, frame 0, packing against the pipeline run with the same seeded noise (so
 * the seed reaches the noise), a resized canvas, progress, cancel. (Seed streams: unit test of stage2Noise.)
 */
export async function rendererChecks(): Promise<RendererReport> {
  const st = S();
  const { device, manifest } = st;
  const { NeuralRenderer, renderNeural, defaultRenderSettings } = await import('../../src/pipeline/neural/render');
  const { stage2Noise } = await import('../../src/pipeline/neural/stage2');
  const g = await golden('pipeline_stage2');
  const { width: W, height: H } = manifest.canvas;
  const N = manifest.frames - 1;
  const fl = tensor(g, 'flows');
  const flowData = (fl.data as Float32Array).subarray(2 * W * H);
  const flowsT = uploadTensor(device, flowData, [N, 2, H, W]);
  const img = tensor(g, 'image01').data as Float32Array;
  const px = new Uint32Array(W * H).map((_, i) => {
    let v = 255 << 24;
    for (let c = 0; c < 3; c++) v |= Math.round(img[c * W * H + i] * 255) << (8 * c);
    return v >>> 0;
  });
  const image = uploadTensor(device, px, [H, W], 'uint32');
  const brush = tensor(g, 'brush').data as Float32Array;
  const pack = { device, manifest, source, features: { shaderF16: false }, precision: 'fp32' as const };
  const settings = { ...defaultRenderSettings(manifest), prompt: 'a photo of the cat runs', steps: 2, seed: 5 };
  const renderer = new NeuralRenderer(pack);
  const report: Partial<RendererReport> = {};
  const readU32 = async (t: GpuTensor) => (await readTensor(device, t)) as Uint32Array;
  const flows = { tensor: flowsT, width: W, height: H, count: N };
  try {
    report.fusionRefusal = await renderNeural(pack, { image, flows }, { ...settings, fusion: 'additive' }).then(
      () => 'rendered',
      (e: Error) => e.message,
    );
    report.framesRefusal = await renderer.render({ image, flows: { ...flows, count: N - 1 } }, settings).then(
      () => 'rendered',
      (e: Error) => e.message,
    );
    const progress: { stage: string; fraction: number }[] = [];
    const frames = await renderer.render({ image, flows, staticMask: brush }, settings, { onProgress: (p) => progress.push(p) });
    report.progress = progress;
    report.shape = [...frames.tensor.shape];
    report.count = frames.count;
    const a = await readU32(frames.tensor);
    report.frame0Diff = px.reduce((m, v, i) => Math.max(m, v === a[i] ? 0 : 1), 0);
    // the pipeline itself with the renderer's seeded noise: CPU packing of its video
    const noise = stage2Noise(settings.seed, { frames: manifest.frames, height: manifest.latent.height, width: manifest.latent.width });
    const image01 = uploadTensor(
      device,
      Float32Array.from({ length: 3 * W * H }, (_, i) => ((px[i % (W * H)] >> (8 * Math.floor(i / (W * H)))) & 255) / 255),
      [1, 3, H, W],
    );
    const out = await pipeline().run(
      {
        image01,
        prompt: settings.prompt,
        negativePrompt: settings.negativePrompt,
        steps: 2,
        guidance: settings.guidance,
        flows: flowsT,
        noise: noise.noise,
        imageEps: noise.imageEps,
        staticMask: brush,
      },
      schedulerFromManifest(manifest.scheduler),
    );
    const video = await read(out.video);
    for (const t of [out.video, out.latents, image01]) t.buffer.destroy();
    let packDiff = 0;
    for (let f = 1; f <= N; f++) {
      for (let i = 0; i < W * H; i++) {
        for (let c = 0; c < 3; c++)
          packDiff = Math.max(packDiff, Math.abs(((a[f * W * H + i] >> (8 * c)) & 255) - Math.round(255 * video[(f * 3 + c) * W * H + i])));
      }
    }
    report.packDiff = packDiff;
    // a project at twice the pack's canvas: nearest-doubled image, flows doubled in size and displacement
    const W2 = 2 * W;
    const H2 = 2 * H;
    const px2 = new Uint32Array(W2 * H2).map((_, i) => px[Math.floor(Math.floor(i / W2) / 2) * W + Math.floor((i % W2) / 2)]);
    const flow2 = new Float32Array(N * 2 * W2 * H2).map((_, i) => {
      const plane = Math.floor(i / (W2 * H2));
      const p = i % (W2 * H2);
      return 2 * flowData[plane * W * H + Math.floor(Math.floor(p / W2) / 2) * W + Math.floor((p % W2) / 2)];
    });
    const brush2 = new Float32Array(W2 * H2).map((_, i) => brush[Math.floor(Math.floor(i / W2) / 2) * W + Math.floor((i % W2) / 2)]);
    const image2 = uploadTensor(device, px2, [H2, W2], 'uint32');
    const flows2 = uploadTensor(device, flow2, [N, 2, H2, W2]);
    const big = await renderer.render(
      { image: image2, flows: { tensor: flows2, width: W2, height: H2, count: N }, staticMask: brush2 },
      settings,
    );
    const b = await readU32(big.tensor);
    // compare frames 1..N with the pack-size frames at the pixel each 2x2 block came from (bilinear upsampling moves values by less than a neighbour's difference)
    let resizedDiff = 0;
    for (let f = 1; f <= N; f++) {
      for (let y = 1; y < H2 - 1; y += 2) {
        for (let x = 1; x < W2 - 1; x += 2) {
          const sy = (y - 1) / 2;
          const sx = (x - 1) / 2;
          // pixel (2k + 1) samples source k + 0.25 in x and y: bilinear between its four neighbours
          const nb = [
            [sy, sx],
            [sy, sx + 1],
            [sy + 1, sx],
            [sy + 1, sx + 1],
          ].map(([yy, xx]) => a[f * W * H + Math.min(H - 1, yy) * W + Math.min(W - 1, xx)]);
          const v = b[f * W2 * H2 + y * W2 + x];
          for (let c = 0; c < 3; c++) {
            const vals = nb.map((n) => (n >> (8 * c)) & 255);
            const got = (v >> (8 * c)) & 255;
            resizedDiff = Math.max(resizedDiff, Math.max(0, got - Math.max(...vals)) + Math.max(0, Math.min(...vals) - got));
          }
        }
      }
    }
    report.resizedDiff = resizedDiff;
    for (const t of [frames.tensor, big.tensor, image2, flows2]) t.buffer.destroy();
    const ac = new AbortController();
    report.cancel = await renderer
      .render({ image, flows }, settings, { signal: ac.signal, onProgress: (p) => p.stage === 'render' && ac.abort() })
      .then(
        () => 'finished',
        (e: { code?: string }) => e.code ?? String(e),
      );
  } finally {
    renderer.dispose();
    image.buffer.destroy();
    flowsT.buffer.destroy();
  }
  return report as RendererReport;
}
