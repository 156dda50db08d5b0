/**
 * The engine contract: one interface, two implementations (classical now, neural later).
 *
 * A job is two stages over GPU tensors on ONE device:
 *   1. motion: Project (+ reference image) -> Flows, N dense forward flows f(0->i), i = 1..N,
 *      where N = project.settings.frames - 1;
 *   2. render: Flows (+ reference image) -> Frames, N+1 frames, frame 0 being the image itself.
 * UI, player and export only see Flows/Frames, so they never know which engine ran.
 *
 * Long operations take `(input, { signal, onProgress })`. `fraction` is the fraction of the
 * WHOLE job (0..1, monotone, reaches 1 exactly once at the end); `stage` says what is running.
 * Aborting rejects with AbortError (src/errors.ts), which the UI never shows as a failure.
 */
import type { GpuTensor } from '../gpu/tensor';
import type { Project } from '../motion/types';

export type EngineKind = 'classical' | 'neural';

export type EngineStage =
  /** Uploading the image, building constraints. */
  | 'prepare'
  /** Stage 1: dense motion fields. */
  | 'motion'
  /** Stage 2: frames. */
  | 'render'
  /** Copying what the UI shows back from the GPU (client side only). */
  | 'readback';

export interface EngineProgress {
  stage: EngineStage;
  /** Whole-job fraction, 0..1, monotone. */
  fraction: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: EngineProgress) => void;
}

/**
 * Dense forward flows f(0->i) for i = 1..count, in canvas pixels (dx right, dy down):
 * `tensor` is float32 [count, 2, height, width]. A zero flow for frame 0 is implied, not stored.
 */
export interface Flows {
  readonly tensor: GpuTensor;
  readonly width: number;
  readonly height: number;
  readonly count: number;
}

/**
 * `count` frames (= flows.count + 1), frame 0 = the reference image: `tensor` is uint32
 * [count, height, width], one packed RGBA8 pixel per element, red in the lowest byte (the
 * byte order of ImageData and of copyBufferToTexture into an 'rgba8unorm' texture).
 */
export interface Frames {
  readonly tensor: GpuTensor;
  readonly width: number;
  readonly height: number;
  readonly count: number;
}

/**
 * What both stages read. `image` is the reference image on the canvas, uint32 [height, width]
 * packed RGBA8 (upload an ImageData's bytes as they are; see uploadImage in classical.ts).
 */
export interface EngineInput {
  readonly project: Project;
  readonly image: GpuTensor;
}

export interface MotionEngine {
  readonly kind: EngineKind;
  /** Stage 1. The caller owns the returned tensor and destroys it (or passes it to render). */
  motion(input: EngineInput, options?: RunOptions): Promise<Flows>;
  /** Stage 2. The caller owns the returned tensor. */
  render(input: EngineInput, flows: Flows, options?: RunOptions): Promise<Frames>;
  /** Frees pipelines and cached buffers; safe to call twice. */
  dispose(): void;
}

/** Number of flows a project asks for (frames include the reference frame). */
export function flowCount(project: Project): number {
  return Math.max(1, Math.round(project.settings.frames) - 1);
}

/** Maps a stage-local fraction into the whole-job fraction, never going backwards. */
export class ProgressReporter {
  private last = -1;
  constructor(private readonly onProgress: ((p: EngineProgress) => void) | undefined) {}

  /** Reports `start + local * (end - start)`; silent when the value did not grow. */
  report(stage: EngineStage, start: number, end: number, local: number): void {
    const f = Math.min(1, Math.max(0, start + Math.min(1, Math.max(0, local)) * (end - start)));
    if (f <= this.last) return;
    this.last = f;
    this.onProgress?.({ stage, fraction: f });
  }
}
