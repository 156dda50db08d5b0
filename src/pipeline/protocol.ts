/**
 * Messages between EngineClient (main thread) and the engine worker. Plain structured-clone
 * data plus transferred ImageBitmaps/ArrayBuffers; one `id` per request.
 */
import type { ErrorCode } from '../errors';
import type { FlowRepair } from '../gpu/kernels/flowSanitize';
import type { Project } from '../motion/types';
import type { EngineChoice, EngineProgress } from './engine';

export interface ImagePayload {
  /** Stable key of this image on the client; the worker caches the upload under it. */
  key: number;
  width: number;
  height: number;
  /** RGBA8 bytes (ImageData.data); omitted when the worker already holds `key`. */
  pixels?: ArrayBuffer;
}

/** Video-to-video: the source frames on the canvas, cached by the worker under `key` like images. */
export interface SourceFramesPayload {
  /** Which video, range and canvas the frames are (e.g. content id + start + stride + count + size). */
  key: string;
  count: number;
  width: number;
  height: number;
  /** count frames of RGBA8 bytes one after another; omitted when the worker already holds `key`. */
  pixels?: ArrayBuffer;
}

/** The worker's GPU, for the status banner (the main thread has no device of its own). */
export interface GpuInfo {
  /** Adapter vendor, architecture and description in one line. */
  description: string;
  /** SwiftShader and other software adapters: correct but slow. */
  isFallbackAdapter: boolean;
  features: { shaderF16: boolean; timestampQuery: boolean; subgroups: boolean };
  /** The device's limits that matter for the engines' tensors. */
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeWorkgroupsPerDimension: number };
}

export type ToWorker =
  | {
      type: 'generate';
      id: number;
      engines: EngineChoice;
      project: Project;
      image: ImagePayload;
      includeFlows: boolean;
      /** Video-to-video: the source frames the tracked motion engine reads. */
      source?: SourceFramesPayload;
      /** Also return every flow as the Middlebury colour wheel (FlowColour). */
      includeFlowColours?: boolean;
    }
  | {
      type: 'preview';
      id: number;
      engines: EngineChoice;
      project: Project;
      image: ImagePayload;
      frame: number;
      strip: number;
      withFlow: boolean;
      /** Video-to-video: the source frames the tracked motion engine follows. */
      source?: SourceFramesPayload;
    }
  /** The motion stage only: the worker keeps the flows (for 'render-held') and returns pictures of them. */
  | { type: 'motion'; id: number; engines: EngineChoice; project: Project; image: ImagePayload; source?: SourceFramesPayload }
  /**
   * Renders the motion the worker holds from 'motion' request `motionId`, optionally blended with
   * the classical motion of the same project: (1 - blend) * held + blend * classical.
   */
  | {
      type: 'render-held';
      id: number;
      engines: EngineChoice;
      project: Project;
      image: ImagePayload;
      motionId: number;
      blend: number;
      source?: SourceFramesPayload;
    }
  | { type: 'gpu-info'; id: number }
  | { type: 'cancel'; id: number }
  /** Dev and test builds only: destroy the worker's device as if the GPU had been lost. */
  | { type: 'simulate-device-loss' }
  /** Dev and test builds only: the next request meets a fault (SimulatedFault). */
  | { type: 'simulate-fault'; fault: SimulatedFault; atSession?: number };

/**
 * Dev and test builds only: what the next request meets. 'bad-flows': NaN/Inf/absurd flows out
 * of its motion stage. 'out-of-memory': its `atSession`-th model session (default 1) fails to
 * allocate, thrown as ORT throws it. 'webgpu-out-of-memory': a real WebGPU allocation the GPU
 * cannot back, made just before that session (at the job's start for 0): nothing throws, the
 * job's error scope reports it.
 */
export type SimulatedFault = 'bad-flows' | 'out-of-memory' | 'webgpu-out-of-memory';

export interface PreviewPayload {
  frame: ImageBitmap;
  /** Every frame 0..N, scaled to the strip width (only when asked). */
  strip: ImageBitmap[];
  /** The chosen frame's flow, float32 [2, H, W] (only when asked). */
  flow?: ArrayBuffer;
  /** The chosen frame's flow as the Middlebury colour wheel (FlowColour; only when asked). */
  flowColour?: ImageBitmap;
  /** Worker-side milliseconds from request to bitmaps ready. */
  ms: number;
}

/** Pictures of a predicted motion, for inspection before rendering. */
export interface MotionPayload {
  /** The 'motion' request's id: pass it to 'render-held'. */
  motionId: number;
  width: number;
  height: number;
  /** Flows f(0->i), i = 1..count. */
  count: number;
  /** Each flow as the Middlebury colour wheel (normalised per flow). */
  colours: ImageBitmap[];
  /** float32 [count, gridHeight, gridWidth, 2]: the flows averaged over a coarse grid, canvas pixels. */
  arrows: ArrayBuffer;
  gridWidth: number;
  gridHeight: number;
  /** What the flow sanitizer repaired in the motion (absent when nothing). */
  repair?: FlowRepair;
  ms: number;
}

export interface GeneratePayload {
  width: number;
  height: number;
  frames: ImageBitmap[];
  flows?: ArrayBuffer;
  /** Flow f(0->i) of every frame i = 1..N as the colour wheel (with includeFlowColours). */
  flowColours?: ImageBitmap[];
  /** What the flow sanitizer repaired in the flows before rendering (absent when nothing). */
  repair?: FlowRepair;
  ms: number;
}

export type FromWorker =
  | { type: 'progress'; id: number; progress: EngineProgress }
  | { type: 'generated'; id: number; result: GeneratePayload }
  | { type: 'previewed'; id: number; result: PreviewPayload }
  | { type: 'motion-ready'; id: number; result: MotionPayload }
  | { type: 'gpu-info'; id: number; result: GpuInfo }
  /** `message` is user-facing (the worker maps internal errors to a generic one). */
  | { type: 'error'; id: number; code: ErrorCode; name: string; message: string }
  | { type: 'device-lost'; message: string }
  /** A device is ready again after a loss. */
  | { type: 'device-ready'; info: GpuInfo };
