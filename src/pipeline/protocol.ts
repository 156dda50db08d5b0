/**
 * Messages between EngineClient (main thread) and the engine worker. Plain structured-clone
 * data plus transferred ImageBitmaps/ArrayBuffers; one `id` per request.
 */
import type { ErrorCode } from '../errors';
import type { Project } from '../motion/types';
import type { EngineProgress } from './engine';

export interface ImagePayload {
  /** Stable key of this image on the client; the worker caches the upload under it. */
  key: number;
  width: number;
  height: number;
  /** RGBA8 bytes (ImageData.data); omitted when the worker already holds `key`. */
  pixels?: ArrayBuffer;
}

export type ToWorker =
  | { type: 'generate'; id: number; project: Project; image: ImagePayload; includeFlows: boolean }
  | { type: 'preview'; id: number; project: Project; image: ImagePayload; frame: number; strip: number; withFlow: boolean }
  | { type: 'cancel'; id: number }
  /** Tests only: destroy the worker's device as if the GPU had been lost. */
  | { type: 'simulate-device-loss' };

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

export interface GeneratePayload {
  width: number;
  height: number;
  frames: ImageBitmap[];
  flows?: ArrayBuffer;
  ms: number;
}

export type FromWorker =
  | { type: 'progress'; id: number; progress: EngineProgress }
  | { type: 'generated'; id: number; result: GeneratePayload }
  | { type: 'previewed'; id: number; result: PreviewPayload }
  | { type: 'error'; id: number; code: ErrorCode | 'unknown'; name: string; message: string }
  | { type: 'device-lost'; message: string };
