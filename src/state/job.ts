/**
 * The generation job: one at a time, run by the engine worker through EngineClient.
 *
 * Lifecycle: 'idle' -> 'running' -> 'done' | 'error' | 'cancelled'; a new run may start from
 * any state but 'running'. The job reads a snapshot of the project and never writes to it, so
 * a failure or a cancel leaves the user's work exactly as it was; the previous result also stays
 * until a new one replaces it. Cancel is not a failure: it ends in 'cancelled', without error.
 *
 * The result's frames are ImageBitmaps (N+1, frame 0 = the image) owned by this store: they are
 * closed when a newer result replaces them or on `clearResult`.
 */
import { create } from 'zustand';
import { isAbort } from '../errors';
import { EngineClient, type GeneratedVideo } from '../pipeline/client';
import type { EngineKind, EngineStage } from '../pipeline/engine';
import { getCanvasImageData } from './image';
import { useProjectStore } from './project';

export type JobStatus = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

export interface JobResult extends GeneratedVideo {
  /** Name of the image the video was made from (for export file names). */
  imageName: string;
  /** Wall time of the job, ms. */
  ms: number;
  /** Increments with every new result (lets views reset their playhead). */
  serial: number;
}

export interface JobState {
  status: JobStatus;
  /** Engine chosen for the next run. */
  engine: EngineKind;
  /** Running stage, null when not running. */
  stage: EngineStage | null;
  /** Whole-job fraction 0..1 of the running (or last) job. */
  progress: number;
  /** User-facing message of the last failure, null otherwise. */
  error: string | null;
  result: JobResult | null;

  setEngine(engine: EngineKind): void;
  /** Starts a run on the current project; resolves when it ends (whatever the outcome). */
  generate(): Promise<void>;
  cancel(): void;
  /** Closes the result's frames and returns to 'idle' (not while running). */
  clearResult(): void;
}

/** Words for the progress bar. */
export const STAGE_LABELS: Record<EngineStage, string> = {
  prepare: 'Preparing',
  motion: 'Predicting motion',
  render: 'Rendering frames',
  readback: 'Copying frames',
};

let client: EngineClient | null = null;
/** The app's one engine worker, created on first use (the preview may share it). */
export function getEngineClient(): EngineClient {
  client ??= new EngineClient();
  return client;
}

/** Tests and hot reload: drop the worker. */
export function disposeEngineClient(): void {
  client?.dispose();
  client = null;
}

let controller: AbortController | null = null;
let serial = 0;

function closeFrames(r: JobResult | null): void {
  r?.frames.forEach((f) => f.close());
}

export const useJobStore = create<JobState>()((set, get) => ({
  status: 'idle',
  engine: 'classical',
  stage: null,
  progress: 0,
  error: null,
  result: null,

  setEngine: (engine) => set({ engine }),

  generate: async () => {
    if (get().status === 'running') return;
    const project = useProjectStore.getState().project;
    if (!project.image) {
      set({ status: 'error', error: 'Load a picture first: there is nothing to animate yet.', stage: null, progress: 0 });
      return;
    }
    if (get().engine !== 'classical') {
      set({ status: 'error', error: 'The neural engine needs a model pack: install one, or use the Classical engine.', stage: null, progress: 0 });
      return;
    }
    const ac = new AbortController();
    controller = ac;
    set({ status: 'running', stage: 'prepare', progress: 0, error: null });
    const t0 = performance.now();
    try {
      const image = await getCanvasImageData(project);
      ac.signal.throwIfAborted();
      const video = await getEngineClient().generate(project, image, {
        signal: ac.signal,
        onProgress: (p) => {
          if (controller === ac) set({ stage: p.stage, progress: p.fraction });
        },
      });
      if (controller !== ac || ac.signal.aborted) {
        video.frames.forEach((f) => f.close());
        return;
      }
      const result: JobResult = { ...video, imageName: project.image.name, ms: performance.now() - t0, serial: ++serial };
      closeFrames(get().result);
      set({ status: 'done', stage: null, progress: 1, result });
    } catch (e) {
      if (controller !== ac) return;
      if (isAbort(e) || ac.signal.aborted) set({ status: 'cancelled', stage: null });
      else set({ status: 'error', stage: null, error: e instanceof Error ? e.message : String(e) });
    } finally {
      if (controller === ac) controller = null;
    }
  },

  cancel: () => {
    if (get().status !== 'running' || !controller) return;
    controller.abort();
    controller = null;
    set({ status: 'cancelled', stage: null });
  },

  clearResult: () => {
    if (get().status === 'running') return;
    closeFrames(get().result);
    set({ result: null, status: 'idle', progress: 0, error: null });
  },
}));
