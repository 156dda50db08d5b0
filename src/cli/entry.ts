/**
 * The command line's page (cli.html, its own Vite build): the app's own code, driven without a
 * window. `render` goes through the same path as the editor: the project file enters through
 * readProjectFile (the one validator), the job model runs it in the engine worker, and the
 * export job encodes it. `flow` and `v2v` run the video-to-video tracker on a device of this
 * page when the build has one (src/motion/track); otherwise they answer 'not-available'.
 * The app's production bundle (index.html) never includes this file.
 */
import { AppError, toUserError } from '../errors';
import { acquireGpu } from '../gpu/device';
import { FlowColour } from '../gpu/kernels/flowColour';
import { readTensor, uploadTensor, type GpuTensor } from '../gpu/tensor';
import { writeFlo, planarToInterleaved } from '../motion/flo';
import { normalizeProject } from '../motion/project';
import { emptyProject, type Project } from '../motion/types';
import { ClassicalEngine, uploadImage } from '../pipeline/classical';
import type { EngineChoice } from '../pipeline/engine';
import { installPack, urlSource } from '../models/loader';
import { exportFrames, useExportStore, type ExportFormat } from '../state/export';
import { getEngineClient } from '../state/gpu';
import { blobToDataUrl } from '../state/image';
import { useJobStore, type JobInfo } from '../state/job';
import { useProjectStore } from '../state/project';
import { readProjectFile } from '../state/projectFile';
import { decodeVideo } from '../video/decode';
import { videoBaseName } from '../video/names';
import {
  CLI_API_VERSION,
  type Capabilities,
  type CliApi,
  type CliErrorCode,
  type CliFormat,
  type CliInput,
  type CliOutputFile,
  type CliResult,
  type FlowRequest,
  type FlowValue,
  type RenderRequest,
  type RenderValue,
  type V2vRequest,
  type V2vValue,
} from './api';

/** Thrown for what this page refuses itself; `code` reaches the CLI. */
class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The tracker's API as its module exports it (src/motion/track/index.ts). It is found at build
 * time (import.meta.glob yields nothing when the module is absent), so the CLI builds, and
 * says "not available yet", before the tracker exists.
 */
interface TrackerModule {
  trackFrames(
    device: GPUDevice,
    frames: GpuTensor,
    options?: { signal?: AbortSignal; onProgress?: (p: { stage: string; fraction: number }) => void },
  ): Promise<{ flows: GpuTensor; occlusion?: GpuTensor }>;
  estimateFlow(device: GPUDevice, a: GpuTensor, b: GpuTensor, options?: { signal?: AbortSignal }): Promise<GpuTensor>;
}
const trackerModules = import.meta.glob('../motion/track/index.ts');

async function tracker(): Promise<TrackerModule> {
  const load = Object.values(trackerModules)[0];
  if (!load) throw new CliError('not-available', 'The video-to-video tracker is not available in this version yet.');
  return (await load()) as TrackerModule;
}

function progress(stage: string, fraction: number): void {
  window.motionI2VCliProgress?.(stage, fraction);
}

async function fetchInput(input: CliInput): Promise<Blob> {
  const r = await fetch(input.url);
  if (!r.ok) throw new CliError('usage', `"${input.name}" could not be read.`);
  return r.blob();
}

async function base64Of(blob: Blob): Promise<string> {
  const url = await blobToDataUrl(blob);
  return url.slice(url.indexOf(',') + 1);
}

async function guard<T>(work: () => Promise<T>): Promise<CliResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (e instanceof CliError) return { ok: false, code: e.code, message: e.message };
    const err = toUserError(e);
    if (err.code === 'internal') console.error('motion-i2v cli:', e);
    return { ok: false, code: err.code, message: err.message };
  }
}

function jobFailure(job: JobInfo, what: string): CliError {
  if (job.status === 'cancelled') return new CliError('aborted', `The ${what} was cancelled.`);
  return new CliError(job.code ?? 'internal', job.error ?? `The ${what} failed.`);
}

/**
 * The engines a render asks for. Neural: the pack at --pack (a folder the CLI serves, or a URL)
 * is installed into this profile's OPFS like the page's Model packs panel does (verified file by
 * file), then both stages use it, straight to the video (no motion check: nobody is looking).
 */
async function engineChoice(request: RenderRequest): Promise<EngineChoice> {
  if (request.engine === 'classical') return { motion: 'classical', render: 'classical' };
  if (!request.packUrl) throw new CliError('usage', 'The neural engine needs a model pack: pass --pack DIR or --pack URL.');
  progress('pack', 0);
  const shaderF16 = (await getEngineClient().gpuInfo()).features.shaderF16;
  const record = await installPack(urlSource(request.packUrl), {
    shaderF16,
    onProgress: (e) => e.type === 'progress' && progress('pack', e.totalBytes ? e.loadedBytes / e.totalBytes : 0),
  });
  const jobs = useJobStore.getState();
  jobs.setInspectMotion(false);
  await jobs.chooseNeural(record.id, 'motion');
  await jobs.chooseNeural(record.id, 'render');
  return useJobStore.getState().engines;
}

const EXPORT_FORMAT: Record<CliFormat, ExportFormat> = { mp4: 'mp4', webm: 'webm', gif: 'gif', png: 'png-files', 'png-zip': 'png-zip' };

async function render(request: RenderRequest): Promise<RenderValue> {
  const started = performance.now();
  const engines = await engineChoice(request);
  progress('read', 0);
  const file = await fetchInput(request.project);
  const read = await readProjectFile(file, request.project.name);
  const o = request.overrides;
  const settings = { ...read.project.settings };
  if (o.fps !== undefined) settings.fps = o.fps;
  if (o.frames !== undefined) settings.frames = o.frames;
  if (o.seed !== undefined) settings.seed = o.seed;
  if (o.steps !== undefined) settings.steps = o.steps;
  // The overrides go through the validator too: memory never holds what the editor would refuse.
  const { project, repairs } = normalizeProject({ ...read.project, settings });

  useProjectStore.getState().loadProject(project);
  useJobStore.getState().setEngines(engines);
  const unsubscribe = useJobStore.subscribe((s) => {
    const g = s.jobs.generate;
    if (g.status === 'running') progress(g.stage ?? 'prepare', g.progress * 0.9);
    const x = s.jobs.export;
    if (x.status === 'running') progress('encode', 0.9 + x.progress * 0.1);
  });
  try {
    await useJobStore.getState().generate();
    const jobs = useJobStore.getState().jobs;
    const result = useJobStore.getState().result;
    if (jobs.generate.status !== 'done' || !result) throw jobFailure(jobs.generate, 'generation');

    const saved: { blob: Blob; fileName: string }[] = [];
    const baseName = videoBaseName({
      imageName: project.image?.name,
      width: result.width,
      height: result.height,
      frames: result.frames.length,
      fps: project.settings.fps,
    });
    await exportFrames({
      frames: result.frames,
      format: EXPORT_FORMAT[request.format],
      quality: request.quality ?? 'very-high',
      fps: project.settings.fps,
      baseName,
      save: (blob, fileName) => saved.push({ blob, fileName }),
    });
    const exported = useJobStore.getState().jobs.export;
    if (exported.status !== 'done') throw jobFailure(exported, 'export');
    const files: CliOutputFile[] = [];
    for (const s of saved) files.push({ fileName: s.fileName, base64: await base64Of(s.blob) });
    progress('done', 1);
    return {
      files,
      width: result.width,
      height: result.height,
      frames: result.frames.length,
      fps: project.settings.fps,
      codec: useExportStore.getState().saved?.codec,
      repairs: [...read.repairs, ...repairs],
      engines: { motion: engines.motion, render: engines.render },
      ms: performance.now() - started,
    };
  } finally {
    unsubscribe();
    useJobStore.getState().clearResult();
  }
}

/** An image file -> RGBA pixels at its own size (the app's decoder: createImageBitmap). */
async function decodeImage(input: CliInput): Promise<ImageData> {
  const blob = await fetchInput(input);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new AppError('image-decode', `"${input.name}" could not be decoded: the file is damaged or not a supported image.`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

async function flow(request: FlowRequest): Promise<FlowValue> {
  const started = performance.now();
  const track = await tracker();
  const [a, b] = await Promise.all([decodeImage(request.a), decodeImage(request.b)]);
  if (a.width !== b.width || a.height !== b.height) {
    throw new CliError(
      'usage',
      `"${request.a.name}" is ${a.width}x${a.height} but "${request.b.name}" is ${b.width}x${b.height}: both images must have the same size.`,
    );
  }
  const gpu = await acquireGpu();
  const device = gpu.device;
  try {
    const pixels = (img: ImageData) => new Uint32Array(img.data.buffer, img.data.byteOffset, img.width * img.height);
    const ta = uploadTensor(device, pixels(a), [a.height, a.width], 'uint32', 'cli flow a');
    const tb = uploadTensor(device, pixels(b), [b.height, b.width], 'uint32', 'cli flow b');
    progress('flow', 0);
    const f = await track.estimateFlow(device, ta, tb);
    const planar = (await readTensor(device, f)) as Float32Array;
    const value: FlowValue = {
      width: a.width,
      height: a.height,
      flo: bytesToBase64(
        new Uint8Array(writeFlo({ width: a.width, height: a.height, data: planarToInterleaved(planar, a.width, a.height) })),
      ),
      ms: 0,
    };
    if (request.visualise) {
      const colour = new FlowColour(device);
      const texture = colour.run({ flows: f });
      value.visualisation = await base64Of(await textureToPng(device, texture, a.width, a.height));
      texture.destroy();
      colour.dispose();
    }
    value.ms = performance.now() - started;
    return value;
  } finally {
    device.destroy();
  }
}

async function v2v(request: V2vRequest): Promise<V2vValue> {
  const started = performance.now();
  const track = await tracker();
  const video = await decodeVideo(await fetchInput(request.source), {
    maxFrames: request.maxFrames,
    onProgress: (p) => progress('decode', p.fraction * 0.2),
  });
  if (video.frames.length < 2)
    throw new CliError('video-decode', `"${request.source.name}" has fewer than two frames: there is no motion to follow.`);
  const first = await decodeImage(request.first);
  if (first.width !== video.width || first.height !== video.height) {
    throw new CliError(
      'usage',
      `"${request.first.name}" is ${first.width}x${first.height} but the video is ${video.width}x${video.height}: the styled first frame must have the video's size.`,
    );
  }
  const { width, height } = video;
  const gpu = await acquireGpu();
  const device = gpu.device;
  const engine = new ClassicalEngine(device);
  try {
    const n = video.frames.length;
    const stack = new Uint32Array(n * width * height);
    video.frames.forEach((f, i) => stack.set(new Uint32Array(f.data.buffer, f.data.byteOffset, width * height), i * width * height));
    const framesTensor = uploadTensor(device, stack, [n, height, width], 'uint32', 'cli v2v frames');
    const tracked = await track.trackFrames(device, framesTensor, { onProgress: (p) => progress('track', 0.2 + p.fraction * 0.5) });
    framesTensor.buffer.destroy();
    const project: Project = { ...emptyProject(), canvas: { width, height }, settings: { ...emptyProject().settings, frames: n } };
    const image = uploadImage(device, first);
    const rendered = await engine.render(
      { project, image },
      { tensor: tracked.flows, width, height, count: n - 1 },
      { onProgress: (p) => progress('render', 0.7 + p.fraction * 0.2) },
    );
    const out = (await readTensor(device, rendered.tensor)) as Uint32Array;
    const frames = Array.from(
      { length: rendered.count },
      (_, i) => new ImageData(new Uint8ClampedArray(out.buffer, i * width * height * 4, width * height * 4).slice(), width, height),
    );
    rendered.tensor.buffer.destroy();
    tracked.flows.buffer.destroy();
    tracked.occlusion?.buffer.destroy();
    image.buffer.destroy();
    const fps = request.fps ?? (video.fps > 0 ? Math.min(120, Math.max(1, Math.round(video.fps))) : 8);
    const saved: { blob: Blob; fileName: string }[] = [];
    const bitmaps = await Promise.all(frames.map((f) => createImageBitmap(f)));
    await exportFrames({
      frames: bitmaps,
      format: EXPORT_FORMAT[request.format],
      quality: 'very-high',
      fps,
      baseName: 'motion-i2v_v2v',
      save: (blob, fileName) => saved.push({ blob, fileName }),
    });
    bitmaps.forEach((b) => b.close());
    const exported = useJobStore.getState().jobs.export;
    if (exported.status !== 'done') throw jobFailure(exported, 'export');
    const files: CliOutputFile[] = [];
    for (const s of saved) files.push({ fileName: s.fileName, base64: await base64Of(s.blob) });
    return { files, width, height, frames: frames.length, fps, ms: performance.now() - started };
  } finally {
    engine.dispose();
    device.destroy();
  }
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** An rgba8unorm texture -> PNG (rows padded to 256 bytes for the copy, unpadded for the canvas). */
async function textureToPng(device: GPUDevice, texture: GPUTexture, width: number, height: number): Promise<Blob> {
  const row = Math.ceil((width * 4) / 256) * 256;
  const staging = device.createBuffer({ size: row * height, usage: 0x01 /* MAP_READ */ | 0x08 /* COPY_DST */ });
  const enc = device.createCommandEncoder();
  enc.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow: row }, [width, height]);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x01);
  const padded = new Uint8Array(staging.getMappedRange());
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) pixels.set(padded.subarray(y * row, y * row + width * 4), y * width * 4);
  staging.unmap();
  staging.destroy();
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext('2d')!.putImageData(new ImageData(pixels, width, height), 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

async function capabilities(): Promise<Capabilities> {
  let gpu: string | null = null;
  try {
    gpu = (await getEngineClient().gpuInfo()).description;
  } catch {
    gpu = null;
  }
  return {
    apiVersion: CLI_API_VERSION,
    motion: ['classical', 'neural'],
    render: ['classical', 'neural'],
    tracker: Object.keys(trackerModules).length > 0,
    gpu,
  };
}

const api: CliApi = {
  capabilities,
  render: (r) => guard(() => render(r)),
  flow: (r) => guard(() => flow(r)),
  v2v: (r) => guard(() => v2v(r)),
};
window.motionI2VCli = api;
document.documentElement.dataset.cliReady = 'true';
