/**
 * The job model: every long operation of the app (generate, the live preview's frame and
 * strip, export) runs through runJob and shows its state here, one JobInfo per kind: status,
 * stage (with words), progress 0..1, an ETA, and a user-facing error. Components only render
 * it and call the actions.
 *
 * Lifecycle per kind: 'idle' -> 'running' -> 'done' | 'error' | 'cancelled'. Superseding: a
 * new 'abort' job of a kind cancels the running one (generate, export); a new 'latest' job
 * waits for the running one and replaces any job already waiting (the live preview: the
 * newest edit is drawn next, intermediate ones are dropped, never queued). Cancel is not a
 * failure: it ends in 'cancelled', without error.
 *
 * The generation job lives here too. It reads a snapshot of the project and never writes to
 * it, so a failure, a cancel or a lost GPU leaves the user's work exactly as it was; the
 * previous result stays until a new one replaces it. The result's frames are ImageBitmaps
 * (N+1, frame 0 = the image) owned by this store: they are closed when a newer result
 * replaces them or on `clearResult`.
 */
import { create } from 'zustand';
import { AppError, isAbort, toUserError, type ErrorCode } from '../errors';
import type { GeneratedVideo, MotionPicture } from '../pipeline/client';
import { CLASSICAL, type EngineChoice, type MotionKind } from '../pipeline/engine';
import { getEngineClient } from './gpu';
import { getCanvasImageData } from './image';
import { EtaEstimator } from './eta';
import { useAutosaveStore } from './persist';
import { getSourceFrames } from './video';
import { isAnchor } from '../motion/trajectory';
import { useProjectStore } from './project';
import type { Project } from '../motion/types';
import { openPack } from '../models/store';
import { flowRepairNotice } from '../pipeline/flowRepair';

/** The authors' negative prompt, used when the project's is empty (the panel shows it as the placeholder). */
export { DEFAULT_NEGATIVE_PROMPT } from '../pipeline/text';
export { CLASSICAL } from '../pipeline/engine';
import { keepResult, loadKeptResult } from './savedResult';

export type JobKind = 'generate' | 'preview' | 'preview-strip' | 'export';
export type JobStatus = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

export interface JobInfo {
  status: JobStatus;
  /** Running stage (an EngineStage, or 'encode' for export); null when not running. */
  stage: string | null;
  /** Fraction 0..1 of the running (or last) job. */
  progress: number;
  /** Estimated milliseconds left, once enough progress was seen; null otherwise. */
  etaMs: number | null;
  /** User-facing message of the last failure, null otherwise. */
  error: string | null;
  /** Something the user should know about a job that succeeded (e.g. the motion was repaired), null otherwise. */
  notice: string | null;
  code: ErrorCode | null;
  /** Wall time of the last finished job, ms. */
  ms: number | null;
  /** Denoising step k of n while the neural motion stage runs; null otherwise. */
  step: { k: number; n: number } | null;
  /** What the running stage is doing, in words (e.g. which part of the model is loading); null otherwise. */
  detail: string | null;
}

/** Words for the progress bars. */
export const STAGE_LABELS: Record<string, string> = {
  prepare: 'Preparing',
  motion: 'Predicting motion',
  render: 'Rendering frames',
  readback: 'Copying frames',
  encode: 'Encoding',
};

export function stageLabel(stage: string | null): string {
  return stage ? (STAGE_LABELS[stage] ?? stage) : 'Starting';
}

/** A job that has not run (or was reset): every store slot starts here. */
export const IDLE: JobInfo = {
  status: 'idle',
  stage: null,
  progress: 0,
  etaMs: null,
  error: null,
  notice: null,
  code: null,
  ms: null,
  step: null,
  detail: null,
};

export interface JobResult extends GeneratedVideo {
  /** Name of the image the video was made from (for export file names). */
  imageName: string;
  /** Project image id the video was made from: the result view says when the editor now shows another photo. */
  imageId?: string;
  /** Wall time of the job, ms. */
  ms: number;
  /** Increments with every new result (lets views reset their playhead). */
  serial: number;
  /** Made as a seamless loop (frame N equals frame 0). */
  loop: boolean;
  /** Shown again from this browser's storage after a reload. */
  restored?: boolean;
}

export interface JobState {
  jobs: Record<JobKind, JobInfo>;
  /** Engines (and their configs, e.g. a model pack) the next Generate runs. */
  engines: EngineChoice;
  result: JobResult | null;
  /**
   * Check the motion before rendering: with neural motion, Generate stops after stage 1 and
   * shows the predicted motion (`motion`); the user renders it, blends it with the classical
   * motion, or predicts again with another seed.
   */
  inspectMotion: boolean;
  /** The predicted motion waiting to be rendered (held on the GPU by the worker), and the project it was predicted for. */
  motion: (MotionPicture & { project: Project; serial: number }) | null;

  setInspectMotion(on: boolean): void;
  /** Renders `motion` (the held flows), blended with the classical motion by `blend` (0..1). */
  renderMotion(blend: number): Promise<void>;
  /** Forgets the predicted motion (its pictures are closed). */
  discardMotion(): void;

  /** Chooses the motion engine; the render engine and configs stay as they are. */
  setEngine(motion: MotionKind): void;
  setEngines(engines: EngineChoice): void;
  /**
   * Runs `role` (motion or render) with the installed pack `packId` (the other role keeps its
   * engine; a neural other role moves to the same pack). Reads the pack's manifest for its frame
   * count; fails with the store's message if it is not installed, or if it has no stage-2 UNet
   * and render is asked.
   */
  chooseNeural(packId: string, role?: 'motion' | 'render'): Promise<void>;
  /** Runs `role` with the classical engine (the other role keeps its engine). */
  chooseClassical(role: 'motion' | 'render'): void;
  /** Starts a run on the current project; resolves when it ends (whatever the outcome). */
  generate(): Promise<void>;
  /** Cancels the running job of `kind` (default: generate). */
  cancel(kind?: JobKind): void;
  /** Closes the result's frames and returns generate to 'idle' (not while running). */
  clearResult(): void;
  /** Shows the result kept in this browser for `projectId`, if any and nothing newer is shown. */
  restoreResult(projectId: string): Promise<void>;
}

export const useJobStore = create<JobState>()((set, get) => ({
  jobs: { generate: IDLE, preview: IDLE, 'preview-strip': IDLE, export: IDLE },
  engines: CLASSICAL,
  result: null,
  inspectMotion: true,
  motion: null,

  setInspectMotion: (on) => set({ inspectMotion: on }),
  discardMotion: () => {
    closeMotion(get().motion);
    set({ motion: null });
  },
  renderMotion: async (blend) => {
    const held = get().motion;
    if (!held || get().jobs.generate.status === 'running') return;
    const engines = get().engines;
    const imageName = held.project.image?.name ?? 'video';
    const video = await runJob(
      'generate',
      async ({ signal, progress }) => {
        progress('prepare', 0);
        const image = await getCanvasImageData(held.project);
        signal.throwIfAborted();
        return getEngineClient().renderMotion(held.project, image, held.motionId, blend, {
          signal,
          engines,
          onProgress: (p) =>
            progress(p.stage, p.fraction, p.step !== undefined && p.steps !== undefined ? { k: p.step, n: p.steps } : null, p.detail),
        });
      },
      { dispose: (v) => v.frames.forEach((f) => f.close()) },
    );
    if (!video) return;
    patch('generate', { notice: flowRepairNotice(video.repair) });
    const result: JobResult = {
      ...video,
      imageName,
      imageId: held.project.image?.id,
      ms: get().jobs.generate.ms ?? 0,
      serial: ++serial,
      loop: held.project.settings.loop,
    };
    closeFrames(get().result);
    set({ result });
    const projectId = useAutosaveStore.getState().projectId;
    if (projectId) void keepResult(projectId, result);
  },

  setEngine: (motion) => set((s) => ({ engines: { ...s.engines, motion } })),
  setEngines: (engines) => set({ engines }),
  chooseNeural: async (packId, role = 'motion') => {
    const pack = await openPack(packId);
    const config = { pack: packId, frames: pack.manifest.frames };
    const e = get().engines;
    const motionNeural = role === 'motion' || e.motion === 'neural';
    const renderNeural = role === 'render' || e.render === 'neural';
    if (renderNeural && !pack.manifest.components.stage2_unet) {
      throw new AppError(
        'model-pack',
        `The model pack "${pack.manifest.name}" has no stage-2 model, so it cannot render. Render with the classical engine, or install a full pack.`,
      );
    }
    set({
      engines: {
        ...e,
        motion: motionNeural ? 'neural' : e.motion,
        motionConfig: motionNeural ? config : e.motionConfig,
        render: renderNeural ? 'neural' : e.render,
        renderConfig: renderNeural ? config : e.renderConfig,
      },
    });
  },
  chooseClassical: (role) =>
    set(({ engines: e }) => ({
      engines:
        role === 'motion' ? { ...e, motion: 'classical', motionConfig: undefined } : { ...e, render: 'classical', renderConfig: undefined },
    })),

  generate: async () => {
    if (get().jobs.generate.status === 'running') return;
    const project = useProjectStore.getState().project;
    if (!project.image) {
      const text = project.video
        ? "Load the restyled first frame (or use the source's first frame): it is the picture the video's motion animates."
        : 'Load a picture first: there is nothing to animate yet.';
      fail('generate', new AppError('image-empty', text));
      return;
    }
    const imageName = project.image.name;
    const loop = project.settings.loop;
    // Video-to-video: the motion is tracked in the source video; the render engine stays the chosen one.
    const v2v = !!project.video;
    const engines: EngineChoice = v2v ? { ...get().engines, motion: 'tracked', motionConfig: undefined } : get().engines;
    const job = jobProject(project, engines);
    if (engines.motion === 'neural' && get().inspectMotion) {
      // Stage 1 only: the motion is shown for inspection; renderMotion renders it.
      const picture = await runJob(
        'generate',
        async ({ signal, progress }) => {
          progress('prepare', 0);
          const image = await getCanvasImageData(job);
          signal.throwIfAborted();
          return getEngineClient().predictMotion(job, image, {
            signal,
            engines,
            onProgress: (p) =>
              progress(p.stage, p.fraction, p.step !== undefined && p.steps !== undefined ? { k: p.step, n: p.steps } : null, p.detail),
          });
        },
        { dispose: (m) => m.colours.forEach((b) => b.close()) },
      );
      if (!picture) return;
      patch('generate', { notice: flowRepairNotice(picture.repair) });
      closeMotion(get().motion);
      set({ motion: { ...picture, project: job, serial: ++serial } });
      return;
    }
    const video = await runJob(
      'generate',
      async ({ signal, progress }) => {
        progress('prepare', 0);
        const image = await getCanvasImageData(job);
        const source = v2v ? await getSourceFrames(job, { signal }) : undefined;
        signal.throwIfAborted();
        return getEngineClient().generate(job, image, {
          signal,
          engines,
          source,
          includeFlowColours: v2v,
          onProgress: (p) =>
            progress(p.stage, p.fraction, p.step !== undefined && p.steps !== undefined ? { k: p.step, n: p.steps } : null, p.detail),
        });
      },
      { dispose: (v) => [...v.frames, ...(v.flowColours ?? [])].forEach((f) => f.close()) },
    );
    if (!video) return;
    // Broken flows were repaired before rendering: the video is made, and the page says so in words.
    patch('generate', { notice: flowRepairNotice(video.repair) });
    const result: JobResult = { ...video, imageName, imageId: project.image.id, ms: get().jobs.generate.ms ?? 0, serial: ++serial, loop };
    closeFrames(get().result);
    // A whole job replaces what a motion check showed: that prediction is no longer the result's.
    closeMotion(get().motion);
    set({ result, motion: null });
    // Kept for the next visit (quota checked; a full storage is said in words, never thrown).
    const projectId = useAutosaveStore.getState().projectId;
    if (projectId) void keepResult(projectId, result);
  },

  restoreResult: async (projectId) => {
    const kept = await loadKeptResult(projectId);
    if (!kept) return;
    if (get().result || get().jobs.generate.status === 'running') {
      kept.frames.forEach((f) => f.close());
      return;
    }
    set({ result: { ...kept, flows: undefined, serial: ++serial, restored: true } });
  },

  cancel: (kind = 'generate') => cancelJob(kind),

  clearResult: () => {
    if (get().jobs.generate.status === 'running') return;
    closeFrames(get().result);
    set({ result: null });
    patch('generate', IDLE);
  },
}));

let serial = 0;

/**
 * The project as the job runs it. A model pack makes a fixed number of frames (the tiny test
 * pack: 8), recorded as `frames` in the neural engine's config when the pack is chosen: a job
 * with a neural stage then makes that many frames whatever the project's Frames setting (the
 * panel says so). The user's project itself is not changed, so switching back to Classical
 * keeps their setting.
 */
export function jobProject(project: Project, engines: EngineChoice): Project {
  const frames = packFrames(engines);
  if (frames === undefined || frames === project.settings.frames) return project;
  return { ...project, settings: { ...project.settings, frames } };
}

/** The frame count of the pack a neural stage of `engines` uses, if any. */
export function packFrames(engines: EngineChoice): number | undefined {
  const f =
    engines.motion === 'neural' ? engines.motionConfig?.frames : engines.render === 'neural' ? engines.renderConfig?.frames : undefined;
  return typeof f === 'number' ? f : undefined;
}

function closeMotion(m: MotionPicture | null): void {
  m?.colours.forEach((b) => b.close());
}

function closeFrames(r: JobResult | null): void {
  r?.frames.forEach((f) => f.close());
  r?.flowColours?.forEach((f) => f.close());
}

function patch(kind: JobKind, info: Partial<JobInfo>): void {
  useJobStore.setState((s) => ({ jobs: { ...s.jobs, [kind]: { ...s.jobs[kind], ...info } } }));
}

function fail(kind: JobKind, e: unknown): void {
  const err = toUserError(e);
  if (err.code === 'internal') console.error(`${kind} failed:`, e);
  patch(kind, { status: 'error', stage: null, etaMs: null, error: err.message, code: err.code });
}

export interface JobContext {
  signal: AbortSignal;
  /** Reports the job's stage and its fraction 0..1 (of the whole job, monotone), and the denoising step if any. */
  progress(stage: string, fraction: number, step?: { k: number; n: number } | null, detail?: string): void;
}

export interface RunJobOptions<T> {
  /** 'abort' (default): a running job of the kind is cancelled; 'latest': this one waits for it. */
  supersede?: 'abort' | 'latest';
  /** Frees a value that arrives after its job was cancelled or superseded. */
  dispose?: (value: T) => void;
}

interface Running {
  controller: AbortController;
}
interface Waiting {
  start: () => void;
  drop: () => void;
}
const running = new Map<JobKind, Running>();
const waiting = new Map<JobKind, Waiting>();

/**
 * Runs `work` as the job of `kind`. Resolves with its value when it finishes, or undefined when
 * it was cancelled, superseded or failed (the store then holds the outcome and the message).
 */
export function runJob<T>(kind: JobKind, work: (ctx: JobContext) => Promise<T>, options: RunJobOptions<T> = {}): Promise<T | undefined> {
  if (running.has(kind) && options.supersede === 'latest') {
    waiting.get(kind)?.drop();
    return new Promise((resolve) => {
      waiting.set(kind, {
        start: () => void execute(kind, work, options).then(resolve),
        drop: () => resolve(undefined),
      });
    });
  }
  running.get(kind)?.controller.abort();
  return execute(kind, work, options);
}

async function execute<T>(kind: JobKind, work: (ctx: JobContext) => Promise<T>, options: RunJobOptions<T>): Promise<T | undefined> {
  const controller = new AbortController();
  const self: Running = { controller };
  running.set(kind, self);
  const startedAt = performance.now();
  const eta = new EtaEstimator(startedAt);
  const current = () => running.get(kind) === self;
  patch(kind, { ...IDLE, status: 'running' });
  try {
    const value = await work({
      signal: controller.signal,
      progress: (stage, fraction, step = null, detail) => {
        if (current() && !controller.signal.aborted)
          patch(kind, { stage, progress: fraction, etaMs: eta.update(performance.now(), fraction, stage), step, detail: detail ?? null });
      },
    });
    if (!current() || controller.signal.aborted) {
      options.dispose?.(value);
      return undefined;
    }
    patch(kind, { status: 'done', stage: null, progress: 1, etaMs: null, ms: performance.now() - startedAt });
    return value;
  } catch (e) {
    if (!current()) return undefined;
    if (isAbort(e) || controller.signal.aborted) patch(kind, { status: 'cancelled', stage: null, etaMs: null });
    else fail(kind, e);
    return undefined;
  } finally {
    if (current()) {
      running.delete(kind);
      const next = waiting.get(kind);
      waiting.delete(kind);
      next?.start();
    }
  }
}

/** Cancels the running job of `kind` and drops one waiting to start. */
export function cancelJob(kind: JobKind): void {
  waiting.get(kind)?.drop();
  waiting.delete(kind);
  const r = running.get(kind);
  if (!r) return;
  running.delete(kind);
  r.controller.abort();
  patch(kind, { status: 'cancelled', stage: null, etaMs: null });
}

/** Whether a job of `kind` is running now. */
export function isRunning(kind: JobKind): boolean {
  return running.has(kind);
}

// "Nothing moves yet" is about the project, not about the job: it goes as soon as a path that moves is drawn.
useProjectStore.subscribe((s, prev) => {
  if (s.project.trajectories === prev.project.trajectories || !s.project.trajectories.some((t) => !isAnchor(t))) return;
  const { jobs } = useJobStore.getState();
  for (const kind of Object.keys(jobs) as JobKind[]) {
    if (jobs[kind].status === 'error' && jobs[kind].code === 'nothing-to-animate') patch(kind, { ...IDLE });
  }
});
