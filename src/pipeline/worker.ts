/// <reference lib="webworker" />
/**
 * The engine worker: owns the app's one GPUDevice (GpuManager: recreated after a loss), builds
 * engines by kind from the registry, and runs one request at a time, newest preview first (a
 * queued preview is dropped when a newer one arrives: only the latest drag position matters).
 *
 * Errors leave here as user-facing messages (toUserError): anything internal (a kernel's
 * argument check, a WebGPU validation error, a bug) becomes a generic message and its detail
 * goes to the console. A device lost during a request fails that request with DeviceLostError;
 * the next request runs on a new device. Each request runs inside an 'out-of-memory' error
 * scope: an allocation WebGPU could not satisfy fails the request with OutOfMemoryError (its
 * answer is dropped, as its buffers may be invalid), like an OOM thrown by ORT or the browser.
 *
 * Every flow set is sanitized (FlowSanitize) before it is rendered or shown, whoever made it:
 * NaN/Inf flows become no motion, absurd ones are clamped, and the answer carries what was
 * repaired so the page can say it in words.
 */
import { AbortError, AppError, DeviceLostError, isAbort, isOutOfMemory, OutOfMemoryError, toUserError } from '../errors';
import { GpuManager, type GpuContext } from '../gpu/device';
import { OutOfMemoryWatch } from '../gpu/outOfMemoryWatch';
import { readTensor, uploadTensor, type GpuTensor } from '../gpu/tensor';
import { FlowBlend } from '../gpu/kernels/flowBlend';
import { FlowColour } from '../gpu/kernels/flowColour';
import { FlowResize } from '../gpu/kernels/flowResize';
import { FlowSanitize, type FlowRepair } from '../gpu/kernels/flowSanitize';
import { ComponentSession } from '../models/session';
import { openPack } from '../models/store';
import { smallerVariants } from '../models/variant';
import { uploadImage } from './classical';
import {
  EngineUnavailableError,
  flowCount,
  MOTION_JOB,
  RENDER_JOB,
  wholeJobProgress,
  type EngineInput,
  type Frames,
  type RunOptions,
  type Flows,
  type EngineChoice,
  type EngineConfig,
  type EngineProgress,
  type MotionEngine,
  type RenderEngine,
} from './engine';
import type { FromWorker, GpuInfo, ImagePayload, SourceFramesPayload, ToWorker } from './protocol';
import { MOTION_ENGINES, RENDER_ENGINES, type EngineFactory } from './registry';

declare const self: DedicatedWorkerGlobalScope;

const gpu = new GpuManager();
/** Devices that were lost: a request that ran on one fails with DeviceLostError. */
const lostDevices = new WeakSet<GPUDevice>();
let current: GpuContext | null = null;
/** Set by a loss until the replacement device is ready (then the client is told). */
let recovering = false;

gpu.subscribe((event) => {
  if (event.type === 'lost') {
    if (current) lostDevices.add(current.device);
    recovering = true;
    dropEngines();
    post({ type: 'device-lost', message: event.error.message });
  } else if (event.type === 'ready' && recovering) {
    recovering = false;
    post({ type: 'device-ready', info: gpuInfo(event.context) });
  }
});

/** Engines built on `current`, one per role and kind (a new config replaces the old engine). */
const engines = new Map<string, { config: string; engine: MotionEngine | RenderEngine }>();
let flowColour: FlowColour | null = null;
let flowBlend: FlowBlend | null = null;
let flowResize: FlowResize | null = null;
let flowSanitize: FlowSanitize | null = null;
/** The motion of the latest 'motion' request, kept on the GPU until it is rendered or replaced. */
let held: { id: number; flows: Flows } | null = null;
/** The running job's out-of-memory watch; each progress report checks it. */
let watch: OutOfMemoryWatch | null = null;
let cachedImage: { key: number; tensor: GpuTensor } | null = null;
let hostImage: { key: number; width: number; height: number; pixels: Uint8ClampedArray } | null = null;
/** Video-to-video source frames: the latest received (kept across device losses) and its upload. */
let hostSource: { key: string; count: number; width: number; height: number; pixels: ArrayBuffer } | null = null;
let cachedSource: { key: string; tensor: GpuTensor } | null = null;

function dropEngines(): void {
  for (const { engine } of engines.values()) engine.dispose();
  engines.clear();
  flowColour?.dispose();
  flowColour = null;
  flowBlend = null;
  flowResize = null;
  flowSanitize = null;
  dropHeld();
  cachedImage = null;
  cachedSource?.tensor.buffer.destroy();
  cachedSource = null;
}

async function engineFor<E extends MotionEngine | RenderEngine>(
  role: 'motion' | 'render',
  kind: E['kind'],
  config: EngineConfig | undefined,
  table: Partial<Record<E['kind'], EngineFactory<E>>>,
  device: GPUDevice,
): Promise<E> {
  const key = `${role}:${kind}`;
  const configKey = JSON.stringify(config ?? {});
  const have = engines.get(key);
  if (have && have.config === configKey) return have.engine as E;
  const factory = table[kind];
  if (!factory) throw new EngineUnavailableError(kind, role);
  // An engine shared by both roles (classical) must not be disposed while the other role holds it.
  if (have && ![...engines.values()].some((e) => e !== have && e.engine === have.engine)) have.engine.dispose();
  engines.delete(key);
  const engine = await factory(device, config ?? {}, { isFallbackAdapter: current?.isFallbackAdapter ?? false });
  engines.set(key, { config: configKey, engine });
  return engine;
}

function gpuInfo(ctx: GpuContext): GpuInfo {
  const l = ctx.device.limits;
  return {
    description: ctx.description,
    isFallbackAdapter: ctx.isFallbackAdapter,
    features: { ...ctx.features },
    limits: {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  };
}

type Job = Extract<ToWorker, { type: 'generate' | 'preview' | 'motion' | 'render-held' }>;
const queue: Job[] = [];
const controllers = new Map<number, AbortController>();
let running = false;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

/** Posts a job's progress; each report also checks the job's out-of-memory watch. */
function progressPoster(id: number): (progress: EngineProgress) => void {
  return (progress) => {
    watch?.check();
    post({ type: 'progress', id, progress });
  };
}

function postError(id: number, err: unknown): void {
  const e = toUserError(err);
  if (e.code === 'internal') console.error('engine worker:', err);
  post({ type: 'error', id, code: e.code, name: e.name, message: e.message });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  // Dev and test builds only: the mode is a compile-time constant, so production drops this.
  if (import.meta.env.MODE !== 'production' && msg.type === 'simulate-device-loss') void gpu.simulateLoss();
  else if (import.meta.env.MODE !== 'production' && msg.type === 'simulate-fault') {
    if (msg.fault === 'bad-flows') faults.badFlows = true;
    else {
      const kind = msg.fault === 'out-of-memory' ? 'thrown' : 'webgpu';
      faults.oom = { atSession: Math.max(kind === 'thrown' ? 1 : 0, Math.round(msg.atSession ?? 1)), kind };
    }
  } else if (msg.type === 'gpu-info') {
    gpu.get().then(
      (ctx) => post({ type: 'gpu-info', id: msg.id, result: gpuInfo(ctx) }),
      (err) => postError(msg.id, err),
    );
  } else if (msg.type === 'cancel') {
    controllers.get(msg.id)?.abort();
    const i = queue.findIndex((j) => j.id === msg.id);
    if (i >= 0) queue.splice(i, 1);
  } else if (msg.type === 'generate' || msg.type === 'preview' || msg.type === 'motion' || msg.type === 'render-held') enqueue(msg);
};

function enqueue(msg: Job): void {
  // Keep the pixels even if the request is later cancelled: the client believes we have them.
  if (msg.image.pixels) {
    hostImage = { key: msg.image.key, width: msg.image.width, height: msg.image.height, pixels: new Uint8ClampedArray(msg.image.pixels) };
  }
  if (msg.source?.pixels) {
    const { key, count, width, height, pixels } = msg.source;
    hostSource = { key, count, width, height, pixels };
  }
  if (msg.type === 'preview') {
    // Drop queued previews of the same kind (single frame vs. with strip): this one supersedes them.
    for (let i = queue.length - 1; i >= 0; i--) {
      const q = queue[i];
      if (q.type === 'preview' && q.strip > 0 === msg.strip > 0) {
        postError(q.id, new AbortError());
        queue.splice(i, 1);
      }
    }
  }
  controllers.set(msg.id, new AbortController());
  queue.push(msg);
  void pump();
}

async function pump(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (queue.length) {
      const job = queue.shift()!;
      const controller = controllers.get(job.id)!;
      let device: GPUDevice | null = null;
      try {
        const ctx = await ready(job.image);
        device = ctx.device;
        // A failed allocation stops the job at its next progress report, not at its end.
        watch = new OutOfMemoryWatch(device, () => controller.abort());
        armFaults(device);
        const reply =
          job.type === 'generate'
            ? await generate(job, ctx, controller.signal)
            : job.type === 'motion'
              ? await predictMotion(job, ctx, controller.signal)
              : job.type === 'render-held'
                ? await renderHeld(job, ctx, controller.signal)
                : await preview(job, ctx, controller.signal);
        const oom = await watch.finish();
        if (oom) {
          // The answer was computed with buffers WebGPU could not allocate: drop it.
          for (const t of reply.transfer) if (t instanceof ImageBitmap) t.close();
          if (held?.id === job.id) dropHeld();
          throw await outOfMemory(job.engines, oom);
        }
        post(reply.msg, reply.transfer);
      } catch (err) {
        const oom = (await watch?.finish()) ?? null;
        // A loss shows up as WebGPU's own errors (a rejected mapAsync, a validation error), not as ours.
        const lost = device !== null && (lostDevices.has(device) || (!(err instanceof AppError) && (await wasLost(device))));
        if (lost) postError(job.id, new DeviceLostError('during the job'));
        else if (err instanceof OutOfMemoryError) postError(job.id, err);
        else if (oom || isOutOfMemory(err)) postError(job.id, await outOfMemory(job.engines, oom ?? err));
        else postError(job.id, isAbort(err) ? new AbortError() : err);
      } finally {
        watch = null;
        controllers.delete(job.id);
      }
    }
  } finally {
    running = false;
  }
}

/** An answer to a request, posted by pump once the request's error scope is clean. */
interface Reply {
  msg: FromWorker;
  transfer: Transferable[];
}

/**
 * Dev and test builds only: faults the next request meets, as bad input would bring them.
 * 'bad-flows' writes NaN, infinite and absurd values into the next motion before it is
 * sanitized (as a broken stage 1 would); 'out-of-memory' makes the next request's
 * `atSession`-th model session fail to allocate, as ORT does when the GPU is full (it throws);
 * 'webgpu-out-of-memory' makes a real WebGPU allocation of the device's largest buffer size
 * just before that session is created (at the job's start for `atSession` 0), which an adapter
 * that cannot back it (SwiftShader cannot) answers with a GPUOutOfMemoryError in the job's
 * error scope, as a model's buffers do when the GPU is full: nothing throws, the watch sees it.
 */
const faults: { badFlows: boolean; oom: { atSession: number; kind: 'thrown' | 'webgpu' } | null } = { badFlows: false, oom: null };
const createSession = ComponentSession.create;

function armFaults(device: GPUDevice): void {
  if (import.meta.env.MODE === 'production' || faults.oom === null) return;
  const { atSession, kind } = faults.oom;
  faults.oom = null;
  const allocateTooMuch = () =>
    device.createBuffer({ size: device.limits.maxBufferSize, usage: GPUBufferUsage.STORAGE, label: 'simulated fault' }).destroy();
  if (atSession === 0) {
    allocateTooMuch();
    return;
  }
  let left = atSession;
  ComponentSession.create = (...args: Parameters<typeof createSession>) => {
    if (--left > 0) return createSession.apply(ComponentSession, args);
    ComponentSession.create = createSession;
    if (kind === 'webgpu') {
      allocateTooMuch();
      return createSession.apply(ComponentSession, args);
    }
    return Promise.reject(new Error(`Failed to allocate GPU memory for ${args[0]}: out of memory (simulated)`));
  };
}

/** Dev and test builds only: NaN, +-Inf and 1e30 in a few rows of the first flow. */
function poisonFlows(device: GPUDevice, flows: Flows): void {
  const { width: w, height: h } = flows;
  const row = new Float32Array(w);
  row.fill(Number.NaN);
  device.queue.writeBuffer(flows.tensor.buffer, 0, row);
  row.fill(Number.POSITIVE_INFINITY);
  device.queue.writeBuffer(flows.tensor.buffer, w * 4, row);
  row.fill(1e30);
  device.queue.writeBuffer(flows.tensor.buffer, (h * w + 2 * w) * 4, row); // dy of row 2
  row.fill(-1e30);
  device.queue.writeBuffer(flows.tensor.buffer, 3 * w * 4, row);
}

/** Sanitizes `flows` in place (see the file header); what was repaired, or null when nothing was. */
async function sanitize(device: GPUDevice, flows: Flows): Promise<FlowRepair | null> {
  if (import.meta.env.MODE !== 'production' && faults.badFlows) {
    faults.badFlows = false;
    poisonFlows(device, flows);
  }
  flowSanitize ??= new FlowSanitize(device);
  const repair = await flowSanitize.run(flows.tensor);
  return repair.nonFinite || repair.clamped ? repair : null;
}

/** Both stages, the flows sanitized between them. The caller destroys both tensors. */
async function motionThenRender(
  device: GPUDevice,
  motion: MotionEngine,
  render: RenderEngine,
  input: EngineInput,
  options: RunOptions,
): Promise<{ flows: Flows; frames: Frames; repair: FlowRepair | null }> {
  const flows = await motion.motion(input, options);
  try {
    const repair = await sanitize(device, flows);
    const frames = await render.render(input, flows, options);
    return { flows, frames, repair };
  } catch (e) {
    flows.tensor.buffer.destroy();
    throw e;
  }
}

/** The OutOfMemoryError for a job of `choice`: naming the pack's variant and its smaller ones when a neural stage ran. */
async function outOfMemory(choice: EngineChoice, cause: unknown): Promise<OutOfMemoryError> {
  const config = choice.motion === 'neural' ? choice.motionConfig : choice.render === 'neural' ? choice.renderConfig : undefined;
  if (typeof config?.pack !== 'string') return new OutOfMemoryError({ cause });
  try {
    const pack = await openPack(config.pack);
    const shaderF16 = current?.features.shaderF16 ?? false;
    return new OutOfMemoryError({
      cause,
      pack: { variant: pack.variant, smaller: smallerVariants(pack.manifest.precisions, pack.variant, shaderF16) },
    });
  } catch {
    return new OutOfMemoryError({ cause });
  }
}

/** Whether `device` was lost; waits briefly, as the loss may be reported after the error it caused. */
async function wasLost(device: GPUDevice): Promise<boolean> {
  if (!lostDevices.has(device)) await Promise.race([device.lost, new Promise((r) => setTimeout(r, 100))]);
  return lostDevices.has(device);
}

interface Ready {
  device: GPUDevice;
  image: GpuTensor;
}

async function ready(image: ImagePayload): Promise<Ready> {
  const ctx = await gpu.get();
  if (current?.device !== ctx.device) {
    dropEngines();
    current = ctx;
  }
  if (!cachedImage || cachedImage.key !== image.key) {
    if (!hostImage || hostImage.key !== image.key) {
      throw new AppError('image-empty', 'The engine did not receive the image; try again.');
    }
    cachedImage?.tensor.buffer.destroy();
    cachedImage = {
      key: image.key,
      tensor: uploadImage(ctx.device, { width: hostImage.width, height: hostImage.height, data: hostImage.pixels }),
    };
  }
  return { device: ctx.device, image: cachedImage.tensor };
}

/** The job's source frames on the device, uploaded once per key. */
function sourceOn(device: GPUDevice, source: SourceFramesPayload): GpuTensor {
  if (cachedSource?.key === source.key) return cachedSource.tensor;
  if (!hostSource || hostSource.key !== source.key) {
    throw new AppError('video-decode', "The engine did not receive the source video's frames; try again.");
  }
  const { count, width, height, pixels } = hostSource;
  cachedSource?.tensor.buffer.destroy();
  cachedSource = {
    key: source.key,
    tensor: uploadTensor(device, new Uint32Array(pixels), [count, height, width], 'uint32', 'source frames'),
  };
  return cachedSource.tensor;
}

async function enginesFor(choice: EngineChoice, device: GPUDevice): Promise<{ motion: MotionEngine; render: RenderEngine }> {
  return {
    motion: await engineFor<MotionEngine>('motion', choice.motion, choice.motionConfig, MOTION_ENGINES, device),
    render: await engineFor<RenderEngine>('render', choice.render, choice.renderConfig, RENDER_ENGINES, device),
  };
}

/** Throws DeviceLostError if the device went away while the request ran (its results are void). */
function checkDevice(device: GPUDevice): void {
  if (lostDevices.has(device)) throw new DeviceLostError('during the job');
}

/** Packed RGBA8 frames [count, H, W] -> ImageBitmaps, optionally scaled to `width`. */
async function bitmaps(words: Uint32Array, count: number, w: number, h: number, width = 0): Promise<ImageBitmap[]> {
  const out: ImageBitmap[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8ClampedArray(words.buffer, words.byteOffset + i * w * h * 4, w * h * 4);
    const data = new ImageData(new Uint8ClampedArray(bytes), w, h);
    out.push(
      await createImageBitmap(
        data,
        width > 0 ? { resizeWidth: width, resizeHeight: Math.max(1, Math.round((h * width) / w)), resizeQuality: 'medium' } : {},
      ),
    );
  }
  return out;
}

/** The rendered frames read back once, as the bitmaps the page shows (frame 0 = the still). */
async function frameBitmaps(device: GPUDevice, frames: Frames, signal: AbortSignal): Promise<ImageBitmap[]> {
  const words = (await readTensor(device, frames.tensor)) as Uint32Array;
  checkDevice(device);
  if (signal.aborted) throw new AbortError();
  return bitmaps(words, frames.count, frames.width, frames.height);
}

/** A job cancelled (or its device lost) while its bitmaps were made: they are closed, and the job ends as cancelled or lost. */
function closeIfStopped(device: GPUDevice, signal: AbortSignal, ...made: ImageBitmap[][]): void {
  if (!signal.aborted && !lostDevices.has(device)) return;
  for (const list of made) for (const b of list) b.close();
  checkDevice(device);
  throw new AbortError();
}

async function generate(job: Extract<ToWorker, { type: 'generate' }>, ctx: Ready, signal: AbortSignal): Promise<Reply> {
  const t0 = performance.now();
  const { device, image } = ctx;
  const report = wholeJobProgress(progressPoster(job.id));
  const { motion, render } = await enginesFor(job.engines, device);
  const input = { project: job.project, image, sourceFrames: job.source ? sourceOn(device, job.source) : undefined };
  const { flows, frames, repair } = await motionThenRender(device, motion, render, input, { signal, onProgress: report });
  const colours: ImageBitmap[] = [];
  try {
    const bms = await frameBitmaps(device, frames, signal);
    report({ stage: 'readback', fraction: 0.5 });
    const flowData = job.includeFlows ? (((await readTensor(device, flows.tensor)) as Float32Array).buffer as ArrayBuffer) : undefined;
    if (job.includeFlowColours)
      for (let i = 0; i < flows.count && !signal.aborted; i++) colours.push(await colourBitmap(device, flows.tensor, i));
    closeIfStopped(device, signal, bms, colours);
    report({ stage: 'readback', fraction: 1 });
    return {
      msg: {
        type: 'generated',
        id: job.id,
        result: {
          width: frames.width,
          height: frames.height,
          frames: bms,
          flows: flowData,
          flowColours: job.includeFlowColours ? colours : undefined,
          repair: repair ?? undefined,
          ms: performance.now() - t0,
        },
      },
      transfer: [...bms, ...colours, ...(flowData ? [flowData] : [])],
    };
  } finally {
    flows.tensor.buffer.destroy();
    frames.tensor.buffer.destroy();
  }
}

function dropHeld(): void {
  held?.flows.tensor.buffer.destroy();
  held = null;
}

/** Cells of the arrow grid of a motion picture: about this many canvas pixels each. */
const ARROW_CELL = 16;

/** The motion stage alone; its flows stay here for 'render-held', and pictures of them go back. */
async function predictMotion(job: Extract<ToWorker, { type: 'motion' }>, ctx: Ready, signal: AbortSignal): Promise<Reply> {
  const t0 = performance.now();
  const { device, image } = ctx;
  const report = wholeJobProgress(progressPoster(job.id), MOTION_JOB);
  const { motion } = await enginesFor(job.engines, device);
  const input = { project: job.project, image, sourceFrames: job.source ? sourceOn(device, job.source) : undefined };
  const flows = await motion.motion(input, { signal, onProgress: report });
  let keep = false;
  const colours: ImageBitmap[] = [];
  try {
    checkDevice(device);
    const repair = await sanitize(device, flows);
    const { width: w, height: h, count } = flows;
    const gw = Math.max(1, Math.round(w / ARROW_CELL));
    const gh = Math.max(1, Math.round(h / ARROW_CELL));
    flowResize ??= new FlowResize(device);
    const small = flowResize.run({ flows: flows.tensor, height: gh, width: gw });
    let grid: Float32Array;
    try {
      grid = (await readTensor(device, small)) as Float32Array;
    } finally {
      small.buffer.destroy();
    }
    // FlowResize rescales displacements to the grid's units; the arrows are in canvas pixels.
    const arrows = new Float32Array(count * gh * gw * 2);
    for (let n = 0; n < count; n++) {
      for (let i = 0; i < gh * gw; i++) {
        arrows[(n * gh * gw + i) * 2] = grid[n * 2 * gh * gw + i] * (w / gw);
        arrows[(n * gh * gw + i) * 2 + 1] = grid[(n * 2 + 1) * gh * gw + i] * (h / gh);
      }
    }
    for (let n = 0; n < count; n++) {
      if (signal.aborted) throw new AbortError();
      colours.push(await colourBitmap(device, flows.tensor, n));
      report({ stage: 'readback', fraction: (n + 1) / count });
    }
    checkDevice(device);
    if (signal.aborted) throw new AbortError();
    dropHeld();
    held = { id: job.id, flows };
    keep = true;
    return {
      msg: {
        type: 'motion-ready',
        id: job.id,
        result: {
          motionId: job.id,
          width: w,
          height: h,
          count,
          colours,
          arrows: arrows.buffer,
          gridWidth: gw,
          gridHeight: gh,
          repair: repair ?? undefined,
          ms: performance.now() - t0,
        },
      },
      transfer: [...colours, arrows.buffer],
    };
  } catch (e) {
    colours.forEach((b) => b.close());
    throw e;
  } finally {
    if (!keep) flows.tensor.buffer.destroy();
  }
}

/** Renders the held motion (optionally blended with the classical motion) like a whole job's render stage. */
async function renderHeld(job: Extract<ToWorker, { type: 'render-held' }>, ctx: Ready, signal: AbortSignal): Promise<Reply> {
  const t0 = performance.now();
  const { device, image } = ctx;
  if (!held || held.id !== job.motionId) {
    throw new AppError(
      'engine-unavailable',
      'The predicted motion is no longer in the GPU (it was reset, or a newer prediction replaced it). Predict the motion again.',
    );
  }
  const report = wholeJobProgress(progressPoster(job.id), RENDER_JOB);
  const { render } = await enginesFor(job.engines, device);
  const input = { project: job.project, image };
  const blend = Math.min(1, Math.max(0, Number.isFinite(job.blend) ? job.blend : 0));
  let flows: Flows = held.flows;
  let mixed: Flows | null = null;
  try {
    if (blend > 0) {
      const classical = await engineFor<MotionEngine>('motion', 'classical', undefined, MOTION_ENGINES, device);
      const other = await classical.motion(input, { signal, onProgress: (p) => report({ ...p, stage: 'motion' }) });
      try {
        flowBlend ??= new FlowBlend(device);
        mixed = { ...flows, tensor: flowBlend.run({ a: flows.tensor, b: other.tensor, weight: blend }) };
        flows = mixed;
      } finally {
        other.tensor.buffer.destroy();
      }
    }
    const repair = await sanitize(device, flows);
    const frames = await render.render(input, flows, { signal, onProgress: report });
    try {
      const bms = await frameBitmaps(device, frames, signal);
      closeIfStopped(device, signal, bms);
      report({ stage: 'readback', fraction: 1 });
      return {
        msg: {
          type: 'generated',
          id: job.id,
          result: { width: frames.width, height: frames.height, frames: bms, repair: repair ?? undefined, ms: performance.now() - t0 },
        },
        transfer: bms,
      };
    } finally {
      frames.tensor.buffer.destroy();
    }
  } finally {
    if (mixed) mixed.tensor.buffer.destroy();
  }
}

/** Flow `index` of a [N, 2, H, W] stack as the colour wheel, read back as an ImageBitmap. */
async function colourBitmap(device: GPUDevice, flows: GpuTensor, index: number): Promise<ImageBitmap> {
  const [, , h, w] = flows.shape;
  flowColour ??= new FlowColour(device);
  const encoder = device.createCommandEncoder({ label: 'preview flow colour' });
  const texture = flowColour.encode(encoder, { flows, frame: index });
  const bytesPerRow = Math.ceil((w * 4) / 256) * 256;
  const staging = device.createBuffer({
    size: bytesPerRow * h,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    label: 'flow colour readback',
  });
  encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow }, [w, h]);
  device.queue.submit([encoder.finish()]);
  try {
    await staging.mapAsync(GPUMapMode.READ);
    const rows = new Uint8Array(staging.getMappedRange());
    const pixels = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) pixels.set(rows.subarray(y * bytesPerRow, y * bytesPerRow + w * 4), y * w * 4);
    staging.unmap();
    return await createImageBitmap(new ImageData(pixels, w, h));
  } finally {
    staging.destroy();
    texture.destroy();
  }
}

async function preview(job: Extract<ToWorker, { type: 'preview' }>, ctx: Ready, signal: AbortSignal): Promise<Reply> {
  const t0 = performance.now();
  const { device, image } = ctx;
  const { motion, render } = await enginesFor(job.engines, device);
  const input = { project: job.project, image, sourceFrames: job.source ? sourceOn(device, job.source) : undefined };
  const frame = Math.min(flowCount(job.project), Math.max(0, Math.round(job.frame)));
  const [h, w] = image.shape;
  let frameBitmap: ImageBitmap | undefined;
  let strip: ImageBitmap[] = [];
  let flowData: ArrayBuffer | undefined;
  let colour: ImageBitmap | undefined;
  /** Reads back the chosen frame's flow (index `i` of `flows`) as data and colours. */
  const takeFlow = async (flows: GpuTensor, i: number) => {
    if (!job.withFlow) return;
    const all = (await readTensor(device, flows)) as Float32Array;
    flowData = all.slice(i * 2 * w * h, (i + 1) * 2 * w * h).buffer;
    colour = await colourBitmap(device, flows, i);
  };
  // A looped frame depends on the last flow, so it needs the whole clip, as the strip does.
  const wholeClip = job.strip > 0 || (job.project.settings.loop && frame > 0);
  if (frame === 0 && !wholeClip) {
    const words = (await readTensor(device, image)) as Uint32Array;
    [frameBitmap] = await bitmaps(words, 1, w, h);
  } else {
    const { flows, frames } = await motionThenRender(device, motion, render, input, { signal, frames: wholeClip ? undefined : [frame] });
    try {
      const words = (await readTensor(device, frames.tensor)) as Uint32Array;
      const shown = wholeClip ? frame : 0;
      [frameBitmap] = await bitmaps(words.subarray(shown * w * h, (shown + 1) * w * h), 1, w, h);
      if (wholeClip) strip = job.strip > 0 ? await bitmaps(words, frames.count, w, h, job.strip) : [];
      if (frame > 0) await takeFlow(flows.tensor, wholeClip ? frame - 1 : 0);
    } finally {
      flows.tensor.buffer.destroy();
      frames.tensor.buffer.destroy();
    }
  }
  const all = [frameBitmap!, ...strip, ...(colour ? [colour] : [])];
  if (signal.aborted || lostDevices.has(device)) {
    all.forEach((b) => b.close());
    checkDevice(device);
    throw new AbortError();
  }
  if (job.withFlow && !flowData) flowData = new Float32Array(2 * w * h).buffer; // frame 0: no motion
  return {
    msg: {
      type: 'previewed',
      id: job.id,
      result: { frame: frameBitmap!, strip, flow: flowData, flowColour: colour, ms: performance.now() - t0 },
    },
    transfer: [...all, ...(flowData ? [flowData] : [])],
  };
}
