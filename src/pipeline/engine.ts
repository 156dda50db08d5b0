/**
 * The engine contract. A job is two stages over GPU tensors on ONE device (the worker's):
 *   1. motion: Project (+ reference image) -> Flows, N dense forward flows f(0->i), i = 1..N,
 *      where N = flowCount(project);
 *   2. render: Flows (+ reference image) -> Frames, N+1 frames, frame 0 being the image itself.
 * The two stages are separate interfaces, so a job may pair any motion engine with any render
 * engine (classical motion + neural render, tracked motion from a video + either render).
 * UI, player and export only see Flows/Frames, so they never know which engines ran.
 *
 * Long operations take `(input, { signal, onProgress })`. Engines report STAGE-LOCAL progress
 * (0..1 of their own stage); jobProgress() below maps it into the whole-job fraction, in this
 * one place. Aborting rejects with AbortError (src/errors.ts), which the UI never shows as a
 * failure.
 */
import { AppError } from '../errors';
import type { GpuTensor } from '../gpu/tensor';
import type { Project } from '../motion/types';

/** Engines that predict motion: weight-free, Motion-I2V stage 1, or tracked from a video. */
export type MotionKind = 'classical' | 'neural' | 'tracked';
/** Engines that render frames from flows: softmax splatting, or Motion-I2V stage 2. */
export type RenderKind = 'classical' | 'neural';
export type EngineKind = MotionKind | RenderKind;

/**
 * Per-job settings of one engine (e.g. which model pack), passed to its factory in the worker.
 * Structured-clone data; engines built with equal configs are reused between jobs.
 */
export type EngineConfig = Readonly<Record<string, string | number | boolean>>;

/** What a job runs: its motion engine and its render engine, each with an optional config. */
export interface EngineChoice {
  motion: MotionKind;
  render: RenderKind;
  motionConfig?: EngineConfig;
  renderConfig?: EngineConfig;
}

export const CLASSICAL: EngineChoice = { motion: 'classical', render: 'classical' };

export type EngineStage =
  /** Uploading the image, building constraints. */
  | 'prepare'
  /** Stage 1: dense motion fields. */
  | 'motion'
  /** Stage 2: frames. */
  | 'render'
  /** Copying what the UI shows back from the GPU. */
  | 'readback';

export interface EngineProgress {
  stage: EngineStage;
  /** Whole-job fraction, 0..1, monotone (from jobProgress). */
  fraction: number;
  /** Denoising step just finished and how many there are (neural motion), for "step k of n". */
  step?: number;
  steps?: number;
  /** What the stage is doing now, in words for the page (e.g. which model part is loading). */
  detail?: string;
}

/** What an engine reports: how far its own stage is, 0..1. */
export interface StageProgress {
  stage: EngineStage;
  /** Fraction of this stage, 0..1. */
  fraction: number;
  step?: number;
  steps?: number;
  detail?: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: StageProgress) => void;
  /**
   * Motion only: compute just these frames (1..N) instead of all N, in this order (the live
   * preview asks for the one frame it shows). The result's flow j is f(0 -> frames[j]) and
   * carries `frames`, so render knows it is a subset.
   */
  frames?: readonly number[];
}

/**
 * Dense forward flows f(0->i) in canvas pixels (dx right, dy down): `tensor` is float32
 * [count, 2, height, width]. A zero flow for frame 0 is implied, not stored. Flow j belongs to
 * frame frames[j] when `frames` is set (a subset), else to frame j + 1 (the whole clip).
 */
export interface Flows {
  readonly tensor: GpuTensor;
  readonly width: number;
  readonly height: number;
  readonly count: number;
  readonly frames?: readonly number[];
}

/**
 * Frames as packed RGBA8: `tensor` is uint32 [count, height, width], red in the lowest byte
 * (the byte order of ImageData and of copyBufferToTexture into an 'rgba8unorm' texture).
 * For a whole clip count = N + 1 and frame 0 is the reference image; for a subset of flows
 * (`frames` set) frame j is the frame of flow j.
 */
export interface Frames {
  readonly tensor: GpuTensor;
  readonly width: number;
  readonly height: number;
  readonly count: number;
  readonly frames?: readonly number[];
}

/**
 * What both stages read. `image` is the reference image on the canvas, uint32 [height, width]
 * packed RGBA8 (upload an ImageData's bytes as they are; see uploadImage in classical.ts).
 */
export interface EngineInput {
  readonly project: Project;
  readonly image: GpuTensor;
  /**
   * Video-to-video only: the source video's frames on the canvas, uint32 [N + 1, H, W] packed
   * RGBA8 (frame 0 is the one the image restyles). The tracked motion engine reads them.
   */
  readonly sourceFrames?: GpuTensor;
}

/** Stage 1. */
export interface MotionEngine {
  readonly kind: MotionKind;
  /** The caller owns the returned tensor and destroys it (or passes it to render). */
  motion(input: EngineInput, options?: RunOptions): Promise<Flows>;
  /** Frees pipelines and cached buffers; safe to call twice. */
  dispose(): void;
}

/** Stage 2. */
export interface RenderEngine {
  readonly kind: RenderKind;
  /** The caller owns the returned tensor. `options.frames` is ignored (flows say which). */
  render(input: EngineInput, flows: Flows, options?: RunOptions): Promise<Frames>;
  dispose(): void;
}

/** Number of flows a project asks for, N (its frames include the reference frame). */
export function flowCount(project: Project): number {
  return Math.max(2, Math.round(project.settings.frames)) - 1;
}

/** Number of frames of a whole clip, N + 1 (frame 0 is the image). */
export function frameCount(project: Project): number {
  return flowCount(project) + 1;
}

/** Share of the job each stage takes: [start, end) of the job fraction. */
export type StageSpans = Record<EngineStage, readonly [number, number]>;

/** Both stages in one job. */
export const WHOLE_JOB: StageSpans = {
  prepare: [0, 0.02],
  motion: [0.02, 0.3],
  render: [0.3, 0.9],
  readback: [0.9, 1],
};

/** A job that predicts motion only (kept for inspection before rendering). */
export const MOTION_JOB: StageSpans = { prepare: [0, 0.03], motion: [0.03, 0.95], render: [0.95, 0.95], readback: [0.95, 1] };

/** A job that renders motion predicted earlier. */
export const RENDER_JOB: StageSpans = { prepare: [0, 0.03], motion: [0.03, 0.08], render: [0.08, 0.92], readback: [0.92, 1] };

/** Maps a stage-local fraction into the job fraction (the one mapping in the app). */
export function jobProgress(stage: EngineStage, local: number, spans: StageSpans = WHOLE_JOB): number {
  const [start, end] = spans[stage];
  return start + Math.min(1, Math.max(0, local)) * (end - start);
}

/** Turns stage-local reports into job progress that never goes backwards. */
export function wholeJobProgress(
  onProgress: ((p: EngineProgress) => void) | undefined,
  spans: StageSpans = WHOLE_JOB,
): (p: StageProgress) => void {
  let last = -1;
  let lastStage: EngineStage | null = null;
  let lastDetail: string | undefined;
  return (p) => {
    const fraction = jobProgress(p.stage, p.fraction, spans);
    // A new stage (or a new detail) is always told: its words are news even before the fraction grows.
    if (fraction < last || (fraction === last && p.stage === lastStage && p.detail === lastDetail)) return;
    last = fraction;
    lastStage = p.stage;
    lastDetail = p.detail;
    const out: EngineProgress = { stage: p.stage, fraction };
    if (p.step !== undefined) Object.assign(out, { step: p.step, steps: p.steps });
    if (p.detail !== undefined) out.detail = p.detail;
    onProgress?.(out);
  };
}

/** Both stages, one engine each. The caller destroys both tensors. */
export async function runStages(
  motion: MotionEngine,
  render: RenderEngine,
  input: EngineInput,
  options: RunOptions = {},
): Promise<{ flows: Flows; frames: Frames }> {
  const flows = await motion.motion(input, options);
  try {
    const frames = await render.render(input, flows, options);
    return { flows, frames };
  } catch (e) {
    flows.tensor.buffer.destroy();
    throw e;
  }
}

/** A job asked for an engine this build cannot run yet. */
export class EngineUnavailableError extends AppError {
  readonly kind: EngineKind;
  constructor(kind: EngineKind, role: 'motion' | 'render') {
    super('engine-unavailable', ENGINE_MISSING[kind] ?? `The ${kind} ${role} engine is not available in this version.`);
    this.name = 'EngineUnavailableError';
    this.kind = kind;
  }
}

const ENGINE_MISSING: Partial<Record<EngineKind, string>> = {
  neural: 'Install a model pack to use the neural engine, or choose the Classical engine.',
  tracked: 'Tracked motion needs a source video: load one under Video to video, or choose the Classical engine.',
};
