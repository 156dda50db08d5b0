/**
 * The live preview's scheduling and what it shows. While the user drags a point or paints,
 * the engine worker re-solves the dense flow and warps the chosen frame; the editor never
 * waits on it.
 *
 * Scheduling (jobs 'preview' and 'preview-strip' of the job model, both superseded 'latest'):
 * project changes are coalesced to one request per animation frame; while a request is in
 * flight the newest one waits and replaces any older waiting one, so stale intermediate
 * positions are dropped, never queued. The strip of all frames (a whole job) is refreshed only
 * after the project has been still for STRIP_DELAY_MS.
 *
 * Bitmaps held here are owned by this store: each is closed when a newer one replaces it or
 * when the preview stops.
 */
import { create } from 'zustand';
import type { Project } from '../motion/types';
import type { SourceFrames } from '../pipeline/client';
import { flowCount, type EngineChoice } from '../pipeline/engine';
import { getEngineClient } from './gpu';
import { getCanvasImageData } from './image';
import { cancelJob, runJob } from './job';
import { useProjectStore } from './project';
import { getSourceFrames } from './video';

export const STRIP_DELAY_MS = 400;
export const STRIP_WIDTH = 72;

export interface PreviewState {
  /** Frame the user looks at, 0..N (clamped to the project's frames when used). */
  frame: number;
  showFlow: boolean;
  /** The chosen frame, warped. */
  bitmap: ImageBitmap | null;
  /** The chosen frame's flow [2, H, W] and its colour wheel, with showFlow. */
  flow: { data: Float32Array; width: number; height: number; colour?: ImageBitmap } | null;
  /** Every frame 0..N as thumbnails. */
  strip: ImageBitmap[];
  /** Worker time of the last update, ms. */
  ms: number | null;
  setFrame(frame: number): void;
  setShowFlow(on: boolean): void;
}

export const usePreviewStore = create<PreviewState>()((set) => ({
  frame: Number.MAX_SAFE_INTEGER,
  showFlow: false,
  bitmap: null,
  flow: null,
  strip: [],
  ms: null,
  setFrame: (frame) => set({ frame }),
  setShowFlow: (showFlow) => set({ showFlow }),
}));

/** The frame the preview shows for `project`. */
export function previewFrame(project: Project, frame = usePreviewStore.getState().frame): number {
  return Math.min(flowCount(project), Math.max(0, Math.round(frame)));
}

let canvasImage: { key: string; data: ImageData } | null = null;
async function imageFor(p: Project): Promise<ImageData> {
  const key = JSON.stringify([p.image?.id, p.crop, p.canvas]);
  if (canvasImage?.key !== key) canvasImage = { key, data: await getCanvasImageData(p) };
  return canvasImage.data;
}

/** Video-to-video: the preview follows the tracked motion of the source video, as Generate does. */
async function trackedFor(p: Project): Promise<{ engines?: EngineChoice; source?: SourceFrames }> {
  if (!p.video) return {};
  return { engines: { motion: 'tracked', render: 'classical' }, source: await getSourceFrames(p) };
}

function replaceShown(next: Partial<Pick<PreviewState, 'bitmap' | 'flow' | 'strip'>>): void {
  const old = usePreviewStore.getState();
  if ('bitmap' in next && old.bitmap !== next.bitmap) old.bitmap?.close();
  if ('flow' in next && old.flow?.colour !== next.flow?.colour) old.flow?.colour?.close();
  if ('strip' in next) old.strip.filter((b) => !next.strip!.includes(b)).forEach((b) => b.close());
  usePreviewStore.setState(next);
}

function updateFrame(): void {
  const p = useProjectStore.getState().project;
  if (!p.image) return;
  const { showFlow } = usePreviewStore.getState();
  const frame = previewFrame(p);
  void runJob(
    'preview',
    async ({ signal }) =>
      getEngineClient().previewDetail(p, await imageFor(p), { frame, withFlow: showFlow, signal, ...(await trackedFor(p)) }),
    { supersede: 'latest', dispose: (r) => [r.frame, ...(r.flowColour ? [r.flowColour] : [])].forEach((b) => b.close()) },
  ).then((r) => {
    if (!r) return;
    const flow = showFlow && r.flow ? { data: r.flow, width: r.frame.width, height: r.frame.height, colour: r.flowColour } : null;
    if (!flow) r.flowColour?.close();
    replaceShown({ bitmap: r.frame, flow });
    usePreviewStore.setState({ ms: r.ms });
  });
}

function updateStrip(): void {
  const p = useProjectStore.getState().project;
  if (!p.image) return;
  void runJob(
    'preview-strip',
    async ({ signal }) =>
      getEngineClient().previewDetail(p, await imageFor(p), { frame: 0, stripWidth: STRIP_WIDTH, signal, ...(await trackedFor(p)) }),
    { supersede: 'latest', dispose: (r) => [r.frame, ...r.strip].forEach((b) => b.close()) },
  ).then((r) => {
    if (!r) return;
    r.frame.close();
    replaceShown({ strip: r.strip });
  });
}

let stopCurrent: (() => void) | null = null;

/**
 * Starts following the project and the preview's frame/flow choice; returns stop, which
 * cancels what runs and frees every bitmap. Starting again stops the previous one.
 */
export function startLivePreview(): () => void {
  stopCurrent?.();
  let raf = 0;
  let stripTimer = 0;
  const schedule = (strip: boolean) => {
    cancelAnimationFrame(raf);
    raf = requestAnimationFrame(updateFrame);
    if (!strip) return;
    clearTimeout(stripTimer);
    stripTimer = window.setTimeout(updateStrip, STRIP_DELAY_MS);
  };
  const offProject = useProjectStore.subscribe((s, prev) => {
    if (s.project !== prev.project) schedule(true);
  });
  const offView = usePreviewStore.subscribe((s, prev) => {
    if (s.frame !== prev.frame || s.showFlow !== prev.showFlow) schedule(false);
  });
  schedule(true);
  const stop = () => {
    offProject();
    offView();
    cancelAnimationFrame(raf);
    clearTimeout(stripTimer);
    cancelJob('preview');
    cancelJob('preview-strip');
    replaceShown({ bitmap: null, flow: null, strip: [] });
    usePreviewStore.setState({ ms: null });
    if (stopCurrent === stop) stopCurrent = null;
  };
  stopCurrent = stop;
  return stop;
}
