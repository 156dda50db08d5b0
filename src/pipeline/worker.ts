/// <reference lib="webworker" />
/**
 * The engine worker: owns its own GPUDevice (GpuManager: recreated after a loss) and a
 * ClassicalEngine, runs one request at a time, newest preview first (a queued preview is
 * dropped when a newer one arrives: only the latest drag position matters).
 */
import { AbortError, AppError, isAbort } from '../errors';
import { GpuManager } from '../gpu/device';
import { readTensor, type GpuTensor } from '../gpu/tensor';
import { FlowColour } from '../gpu/kernels/flowColour';
import { ClassicalEngine, uploadImage } from './classical';
import { flowCount, type EngineProgress } from './engine';
import type { FromWorker, ImagePayload, ToWorker } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const gpu = new GpuManager();
let engine: ClassicalEngine | null = null;
let flowColour: FlowColour | null = null;
let engineDevice: GPUDevice | null = null;
let cachedImage: { key: number; tensor: GpuTensor; device: GPUDevice } | null = null;
let hostImage: { key: number; width: number; height: number; pixels: Uint8ClampedArray } | null = null;

gpu.subscribe((event) => {
  if (event.type === 'lost') {
    engine = null;
    flowColour = null;
    engineDevice = null;
    cachedImage = null;
    post({ type: 'device-lost', message: event.error.message });
  }
});

type Job = Extract<ToWorker, { type: 'generate' | 'preview' }>;
const queue: Job[] = [];
const controllers = new Map<number, AbortController>();
let running = false;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === 'simulate-device-loss') {
    void gpu.simulateLoss();
    return;
  }
  if (msg.type === 'cancel') {
    controllers.get(msg.id)?.abort();
    const i = queue.findIndex((j) => j.id === msg.id);
    if (i >= 0) queue.splice(i, 1);
    return;
  }
  // Keep the pixels even if the request is later cancelled: the client believes we have them.
  if (msg.image.pixels) {
    hostImage = { key: msg.image.key, width: msg.image.width, height: msg.image.height, pixels: new Uint8ClampedArray(msg.image.pixels) };
  }
  if (msg.type === 'preview') {
    // Drop queued previews of the same kind (single frame vs. with strip): this one supersedes them.
    for (let i = queue.length - 1; i >= 0; i--) {
      const q = queue[i];
      if (q.type === 'preview' && q.strip > 0 === msg.strip > 0) {
        post({ type: 'error', id: queue[i].id, code: 'aborted', name: 'AbortError', message: 'Superseded by a newer preview.' });
        queue.splice(i, 1);
      }
    }
  }
  controllers.set(msg.id, new AbortController());
  queue.push(msg);
  void pump();
};

async function pump(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (queue.length) {
      const job = queue.shift()!;
      const controller = controllers.get(job.id)!;
      try {
        if (job.type === 'generate') await generate(job, controller.signal);
        else await preview(job, controller.signal);
      } catch (err) {
        const e = isAbort(err) ? new AbortError() : err;
        post({
          type: 'error',
          id: job.id,
          code: e instanceof AppError ? e.code : 'unknown',
          name: e instanceof Error ? e.name : 'Error',
          message: e instanceof Error ? e.message : String(e),
        });
      } finally {
        controllers.delete(job.id);
      }
    }
  } finally {
    running = false;
  }
}

async function ready(image: ImagePayload): Promise<{ engine: ClassicalEngine; image: GpuTensor }> {
  const ctx = await gpu.get();
  if (!engine || engineDevice !== ctx.device) {
    engine?.dispose();
    flowColour?.dispose();
    engine = new ClassicalEngine(ctx.device);
    flowColour = new FlowColour(ctx.device);
    engineDevice = ctx.device;
    cachedImage = null;
  }
  if (!cachedImage || cachedImage.key !== image.key || cachedImage.device !== ctx.device) {
    if (!hostImage || hostImage.key !== image.key) {
      throw new AppError('image-empty', 'The engine did not receive the image; try again.');
    }
    cachedImage?.tensor.buffer.destroy();
    cachedImage = { key: image.key, device: ctx.device, tensor: uploadImage(ctx.device, { width: hostImage.width, height: hostImage.height, data: hostImage.pixels }) };
  }
  return { engine, image: cachedImage.tensor };
}

/** Packed RGBA8 frames [count, H, W] -> ImageBitmaps, optionally scaled to `width`. */
async function bitmaps(words: Uint32Array, count: number, w: number, h: number, width = 0): Promise<ImageBitmap[]> {
  const out: ImageBitmap[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8ClampedArray(words.buffer, words.byteOffset + i * w * h * 4, w * h * 4);
    const data = new ImageData(new Uint8ClampedArray(bytes), w, h);
    out.push(await createImageBitmap(data, width > 0 ? { resizeWidth: width, resizeHeight: Math.max(1, Math.round((h * width) / w)), resizeQuality: 'medium' } : {}));
  }
  return out;
}

async function generate(job: Extract<ToWorker, { type: 'generate' }>, signal: AbortSignal): Promise<void> {
  const t0 = performance.now();
  const onProgress = (p: EngineProgress) =>
    post({ type: 'progress', id: job.id, progress: { stage: p.stage, fraction: p.fraction * 0.9 } });
  const { engine: eng, image } = await ready(job.image);
  const input = { project: job.project, image };
  const { flows, frames } = await eng.run(input, { signal, onProgress });
  try {
    const device = eng.device;
    const words = (await readTensor(device, frames.tensor)) as Uint32Array;
    post({ type: 'progress', id: job.id, progress: { stage: 'readback', fraction: 0.95 } });
    if (signal.aborted) throw new AbortError();
    const bms = await bitmaps(words, frames.count, frames.width, frames.height);
    const flowData = job.includeFlows ? ((await readTensor(device, flows.tensor)) as Float32Array).buffer as ArrayBuffer : undefined;
    if (signal.aborted) {
      bms.forEach((b) => b.close());
      throw new AbortError();
    }
    post({ type: 'progress', id: job.id, progress: { stage: 'readback', fraction: 1 } });
    post(
      { type: 'generated', id: job.id, result: { width: frames.width, height: frames.height, frames: bms, flows: flowData, ms: performance.now() - t0 } },
      [...bms, ...(flowData ? [flowData] : [])],
    );
  } finally {
    flows.tensor.buffer.destroy();
    frames.tensor.buffer.destroy();
  }
}

/** Flow `index` of a [N, 2, H, W] stack as the colour wheel, read back as an ImageBitmap. */
async function colourBitmap(device: GPUDevice, flows: GpuTensor, index: number): Promise<ImageBitmap> {
  const [, , h, w] = flows.shape;
  const encoder = device.createCommandEncoder({ label: 'preview flow colour' });
  const texture = flowColour!.encode(encoder, { flows, frame: index });
  const bytesPerRow = Math.ceil((w * 4) / 256) * 256;
  const staging = device.createBuffer({ size: bytesPerRow * h, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'flow colour readback' });
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

async function preview(job: Extract<ToWorker, { type: 'preview' }>, signal: AbortSignal): Promise<void> {
  const t0 = performance.now();
  const { engine: eng, image } = await ready(job.image);
  const input = { project: job.project, image };
  const n = flowCount(job.project);
  const frame = Math.min(n, Math.max(0, Math.round(job.frame)));
  const device = eng.device;
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
  if (job.strip > 0 || (job.project.settings.loop && frame > 0)) {
    // The whole clip (for the strip, or because a looped frame depends on the last flow); the
    // chosen frame is taken from it.
    const { flows, frames } = await eng.run(input, { signal });
    try {
      const words = (await readTensor(device, frames.tensor)) as Uint32Array;
      [frameBitmap] = await bitmaps(words.subarray(frame * w * h, (frame + 1) * w * h), 1, w, h);
      strip = await bitmaps(words, frames.count, w, h, job.strip);
      if (frame > 0) await takeFlow(flows.tensor, frame - 1);
    } finally {
      flows.tensor.buffer.destroy();
      frames.tensor.buffer.destroy();
    }
  } else if (frame === 0) {
    const words = (await readTensor(device, image)) as Uint32Array;
    [frameBitmap] = await bitmaps(words, 1, w, h);
  } else {
    const flows = await eng.motionFrames(input, [frame], { signal });
    try {
      const frames = await eng.renderFrames(input, flows, { signal });
      try {
        const words = (await readTensor(device, frames.tensor)) as Uint32Array;
        [frameBitmap] = await bitmaps(words, 1, w, h);
      } finally {
        frames.tensor.buffer.destroy();
      }
      await takeFlow(flows.tensor, 0);
    } finally {
      flows.tensor.buffer.destroy();
    }
  }
  const all = [frameBitmap!, ...strip, ...(colour ? [colour] : [])];
  if (signal.aborted) {
    all.forEach((b) => b.close());
    throw new AbortError();
  }
  if (job.withFlow && !flowData) flowData = new Float32Array(2 * w * h).buffer; // frame 0: no motion
  post(
    { type: 'previewed', id: job.id, result: { frame: frameBitmap!, strip, flow: flowData, flowColour: colour, ms: performance.now() - t0 } },
    [...all, ...(flowData ? [flowData] : [])],
  );
}
