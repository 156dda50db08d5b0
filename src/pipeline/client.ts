/**
 * EngineClient: the main thread's handle on the engine worker. The worker owns the app's one
 * GPUDevice and runs every job on it, so the editor never freezes; the main thread has no
 * device (the status banner asks the worker: gpuInfo). The project stays here, so a lost
 * device loses nothing (the worker makes a new one and the next request just works).
 *
 * Only what the UI shows comes back: frames as ImageBitmaps, flows only when asked. Errors
 * arrive as user-facing AppErrors (the worker maps internal ones to a generic message).
 */
import { AbortError, AppError, DeviceLostError, GENERIC_FAILURE, OutOfMemoryError, type ErrorCode } from '../errors';
import type { Project } from '../motion/types';
import { CLASSICAL, type EngineChoice, type EngineProgress } from './engine';
import type { FlowRepair } from './flowRepair';
import type {
  FromWorker,
  GpuInfo,
  ImagePayload,
  MotionPayload,
  PreviewPayload,
  SimulatedFault,
  SourceFramesPayload,
  ToWorker,
} from './protocol';

export type { GpuInfo, SimulatedFault } from './protocol';

/** A predicted motion, held by the worker until rendered or replaced; what the inspector shows. */
export interface MotionPicture {
  /** Pass to renderMotion. */
  motionId: number;
  engines: EngineChoice;
  width: number;
  height: number;
  count: number;
  /** Flow i+1 as the Middlebury colour wheel. The receiver closes them when done. */
  colours: ImageBitmap[];
  /** [count, gridHeight, gridWidth, 2] mean flow per grid cell, canvas pixels. */
  arrows: Float32Array;
  gridWidth: number;
  gridHeight: number;
  /** What the flow sanitizer repaired in the motion, if anything. */
  repair?: FlowRepair;
}

export interface GeneratedVideo {
  engines: EngineChoice;
  width: number;
  height: number;
  fps: number;
  /** N+1 frames; frame 0 is the image. The receiver closes them when done. */
  frames: ImageBitmap[];
  /** Only with `includeFlows`: float32 [N, 2, H, W], f(0->i) for i = 1..N, pixels. */
  flows?: Float32Array;
  /** Only with `includeFlowColours`: flow i (frame i + 1) as the colour wheel. The receiver closes them. */
  flowColours?: ImageBitmap[];
  /** What the flow sanitizer repaired in the flows before rendering, if anything. */
  repair?: FlowRepair;
}

/** The video a 'generate' or 'render-held' answer carries, at the project's fps. */
function videoOf(
  engines: EngineChoice,
  project: Project,
  payload: { width: number; height: number; frames: ImageBitmap[]; repair?: FlowRepair },
): GeneratedVideo {
  return {
    engines,
    width: payload.width,
    height: payload.height,
    fps: project.settings.fps,
    frames: payload.frames,
    repair: payload.repair,
  };
}

/** Video-to-video: the source frames on the canvas (N + 1 of them), under a key that names what they are. */
export interface SourceFrames {
  key: string;
  frames: readonly ImageData[];
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onProgress?: (progress: EngineProgress) => void;
  /** Which engines run the job; default classical motion + classical render. */
  engines?: EngineChoice;
  includeFlows?: boolean;
  /** Also return every flow drawn as the colour wheel. */
  includeFlowColours?: boolean;
  /** Video-to-video: the source frames the tracked motion engine follows. */
  source?: SourceFrames;
}

export interface PreviewOptions {
  engines?: EngineChoice;
  /** Video-to-video: the source frames the tracked motion engine follows. */
  source?: SourceFrames;
  /** Frame to render, 0..frames-1 (clamped). */
  frame: number;
  signal?: AbortSignal;
}

export interface PreviewDetailOptions extends PreviewOptions {
  /** Width of the strip thumbnails in pixels; 0 = no strip. */
  stripWidth?: number;
  /** Also return the chosen frame's flow [2, H, W]. */
  withFlow?: boolean;
}

export interface PreviewDetail {
  frame: ImageBitmap;
  strip: ImageBitmap[];
  /** The chosen frame's flow [2, H, W] (with `withFlow`; zeros for frame 0). */
  flow?: Float32Array;
  /** The same flow as the Middlebury colour wheel (with `withFlow`, frames >= 1). */
  flowColour?: ImageBitmap;
  /** Worker time for this update, ms. */
  ms: number;
}

/** What happens to the worker's device: lost (it recovers by itself), then ready again. */
export type DeviceEvent = { type: 'lost'; error: DeviceLostError } | { type: 'ready'; info: GpuInfo };

export interface EngineClientOptions {
  /** Told when the worker's GPU device was lost (it recovers by itself). */
  onDeviceLost?: (error: DeviceLostError) => void;
  /** Supply a worker (tests); default: src/pipeline/worker.ts as a module worker. */
  worker?: Worker;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onProgress?: (p: EngineProgress) => void;
  cleanup: () => void;
}

export class EngineClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly imageKeys = new WeakMap<ImageData, number>();
  /** Image keys the worker has received (it keeps only the latest one). */
  private workerImageKey = -1;
  /** Source-frames key the worker has received (it keeps only the latest). */
  private workerSourceKey: string | null = null;
  private nextId = 1;
  private nextImageKey = 1;
  private disposed = false;
  private readonly deviceListeners = new Set<(event: DeviceEvent) => void>();

  constructor(options: EngineClientOptions = {}) {
    this.worker = options.worker ?? new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    const onLost = options.onDeviceLost;
    if (onLost) this.onDevice((e) => e.type === 'lost' && onLost(e.error));
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => {
      console.error('engine worker failed:', e.message);
      const err = new AppError('internal', GENERIC_FAILURE);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  /** Subscribes to the worker's device events; returns the unsubscribe function. */
  onDevice(listener: (event: DeviceEvent) => void): () => void {
    this.deviceListeners.add(listener);
    return () => this.deviceListeners.delete(listener);
  }

  /** The worker's GPU (acquiring it if needed); rejects with WebGpuUnavailableError's message when there is none. */
  gpuInfo(): Promise<GpuInfo> {
    return this.request<GpuInfo>((id) => ({ type: 'gpu-info', id }));
  }

  /** The whole job: frames (and optionally flows) of the chosen engines. */
  async generate(project: Project, image: ImageData, options: GenerateOptions = {}): Promise<GeneratedVideo> {
    const engines = options.engines ?? CLASSICAL;
    const payload = await this.request<{
      width: number;
      height: number;
      frames: ImageBitmap[];
      flows?: ArrayBuffer;
      flowColours?: ImageBitmap[];
      repair?: FlowRepair;
    }>(
      (id) => ({
        type: 'generate',
        id,
        engines,
        project,
        image: this.imagePayload(image),
        includeFlows: !!options.includeFlows,
        includeFlowColours: !!options.includeFlowColours,
        source: options.source ? this.sourcePayload(options.source) : undefined,
      }),
      options.signal,
      options.onProgress,
    );
    return {
      ...videoOf(engines, project, payload),
      flows: payload.flows ? new Float32Array(payload.flows) : undefined,
      flowColours: payload.flowColours,
    };
  }

  /** The motion stage alone: the worker keeps the flows; pictures of them come back. */
  async predictMotion(project: Project, image: ImageData, options: GenerateOptions = {}): Promise<MotionPicture> {
    const engines = options.engines ?? CLASSICAL;
    const r = await this.request<MotionPayload>(
      (id) => ({
        type: 'motion',
        id,
        engines,
        project,
        image: this.imagePayload(image),
        source: options.source ? this.sourcePayload(options.source) : undefined,
      }),
      options.signal,
      options.onProgress,
    );
    return {
      motionId: r.motionId,
      engines,
      width: r.width,
      height: r.height,
      count: r.count,
      colours: r.colours,
      arrows: new Float32Array(r.arrows),
      gridWidth: r.gridWidth,
      gridHeight: r.gridHeight,
      repair: r.repair,
    };
  }

  /** Renders a motion predictMotion returned, blended with the classical motion by `blend` (0..1). */
  async renderMotion(
    project: Project,
    image: ImageData,
    motionId: number,
    blend: number,
    options: GenerateOptions = {},
  ): Promise<GeneratedVideo> {
    const engines = options.engines ?? CLASSICAL;
    const payload = await this.request<{ width: number; height: number; frames: ImageBitmap[]; repair?: FlowRepair }>(
      (id) => ({ type: 'render-held', id, engines, project, image: this.imagePayload(image), motionId, blend }),
      options.signal,
      options.onProgress,
    );
    return videoOf(engines, project, payload);
  }

  /** One warped frame for the live preview. */
  async preview(project: Project, image: ImageData, options: PreviewOptions): Promise<ImageBitmap> {
    const r = await this.previewDetail(project, image, options);
    return r.frame;
  }

  /** The live preview's full update: chosen frame, optional strip of all frames, optional flow. */
  async previewDetail(project: Project, image: ImageData, options: PreviewDetailOptions): Promise<PreviewDetail> {
    const r = await this.request<PreviewPayload>(
      (id) => ({
        type: 'preview',
        id,
        engines: options.engines ?? CLASSICAL,
        project,
        image: this.imagePayload(image),
        frame: options.frame,
        strip: Math.max(0, Math.round(options.stripWidth ?? 0)),
        withFlow: !!options.withFlow,
        source: options.source ? this.sourcePayload(options.source) : undefined,
      }),
      options.signal,
    );
    return { frame: r.frame, strip: r.strip, flow: r.flow ? new Float32Array(r.flow) : undefined, flowColour: r.flowColour, ms: r.ms };
  }

  /** Dev and test builds only: makes the worker lose its GPU device (it recovers by itself). */
  simulateDeviceLoss(): void {
    // The mode is a compile-time constant: production builds keep an empty method.
    if (import.meta.env.MODE !== 'production') this.worker.postMessage({ type: 'simulate-device-loss' } satisfies ToWorker);
  }

  /** Dev and test builds only: the worker's next request meets `fault` (SimulatedFault). */
  simulateFault(fault: SimulatedFault, atSession?: number): void {
    if (import.meta.env.MODE !== 'production') this.worker.postMessage({ type: 'simulate-fault', fault, atSession } satisfies ToWorker);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.pending.values()) {
      p.cleanup();
      p.reject(new AbortError());
    }
    this.pending.clear();
    this.worker.terminate();
  }

  private imagePayload(image: ImageData): ImagePayload {
    let key = this.imageKeys.get(image);
    if (key === undefined) {
      key = this.nextImageKey++;
      this.imageKeys.set(image, key);
    }
    const payload: ImagePayload = { key, width: image.width, height: image.height };
    if (key !== this.workerImageKey) {
      // A copy: the caller keeps its ImageData.
      payload.pixels = image.data.slice().buffer;
      this.workerImageKey = key;
    }
    return payload;
  }

  private sourcePayload(source: SourceFrames): SourceFramesPayload {
    const first = source.frames[0];
    const payload: SourceFramesPayload = {
      key: source.key,
      count: source.frames.length,
      width: first?.width ?? 0,
      height: first?.height ?? 0,
    };
    if (source.key !== this.workerSourceKey) {
      const frameBytes = payload.width * payload.height * 4;
      const all = new Uint8Array(frameBytes * payload.count);
      source.frames.forEach((f, i) => all.set(f.data, i * frameBytes));
      payload.pixels = all.buffer;
      this.workerSourceKey = source.key;
    }
    return payload;
  }

  private request<T>(make: (id: number) => ToWorker, signal?: AbortSignal, onProgress?: (p: EngineProgress) => void): Promise<T> {
    if (this.disposed) return Promise.reject(new AppError('aborted', 'The engine was closed.'));
    if (signal?.aborted) return Promise.reject(new AbortError());
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        // Reject at once: the worker stops at its next check, and its late answer is dropped.
        this.worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.cleanup();
        reject(new AbortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      const message = make(id);
      const transfer: Transferable[] = 'image' in message && message.image.pixels ? [message.image.pixels] : [];
      if (
        (message.type === 'generate' || message.type === 'preview' || message.type === 'motion' || message.type === 'render-held') &&
        message.source?.pixels
      )
        transfer.push(message.source.pixels);
      try {
        this.worker.postMessage(message, transfer);
      } catch (e) {
        this.pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
        this.workerImageKey = -1;
        this.workerSourceKey = null;
        reject(e);
      }
    });
  }

  private receive(msg: FromWorker): void {
    if (msg.type === 'device-lost') {
      this.workerImageKey = -1; // the new device holds no image
      this.workerSourceKey = null;
      const error = new DeviceLostError('the browser reset it');
      console.warn('engine worker: GPU device lost:', msg.message);
      for (const fn of this.deviceListeners) fn({ type: 'lost', error });
      return;
    }
    if (msg.type === 'device-ready') {
      for (const fn of this.deviceListeners) fn({ type: 'ready', info: msg.info });
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) {
      // Late answer to a cancelled request: free what it carried.
      if (msg.type === 'generated') [...msg.result.frames, ...(msg.result.flowColours ?? [])].forEach((f) => f.close());
      if (msg.type === 'motion-ready') msg.result.colours.forEach((f) => f.close());
      if (msg.type === 'previewed')
        [msg.result.frame, ...msg.result.strip, ...(msg.result.flowColour ? [msg.result.flowColour] : [])].forEach((f) => f.close());
      return;
    }
    if (msg.type === 'progress') {
      p.onProgress?.(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    p.cleanup();
    if (msg.type === 'error') p.reject(rebuildError(msg.code, msg.name, msg.message));
    else p.resolve(msg.result);
  }
}

function rebuildError(code: ErrorCode, name: string, message: string): AppError {
  if (code === 'aborted') return new AbortError();
  if (code === 'gpu-device-lost') return new DeviceLostError('during the job');
  if (code === 'gpu-out-of-memory') return new OutOfMemoryError({ message });
  const e = new AppError(code, message);
  e.name = name;
  return e;
}
