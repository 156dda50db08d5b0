/**
 * The last generated video of each project, kept in this browser (IndexedDB, `result:<project
 * id>`, one per project, replaced by the next) so a reload shows it again. Frames are stored as
 * lossless PNGs (about a quarter of the raw size). Before writing, the storage estimate is
 * checked; when the video does not fit, or the browser refuses the write for quota, nothing
 * is written and the user is told in words (the video stays on screen and can be exported).
 *
 * Reading never deletes: a record that cannot be read (damaged, foreign, an image that does
 * not decode) is left as it is and simply not shown; the next result replaces it.
 */
import { create } from 'zustand';
import { del, get, set } from 'idb-keyval';
import { StorageFullError } from '../errors';
import type { EngineChoice } from '../pipeline/engine';
import { appDb } from './image';
import { PROJECT_LIMITS } from '../motion/project';

const RESULT_PREFIX = 'result:';
const RECORD_VERSION = 1;
/** Largest side a stored result may claim (the canvas presets are at most 512). */
const MAX_SIDE = 4096;
/** Headroom kept free beyond the video's own bytes when checking the quota. */
const QUOTA_MARGIN_BYTES = 4 << 20;

export interface StoredResult {
  version: 1;
  savedAt: string;
  width: number;
  height: number;
  fps: number;
  engines: EngineChoice;
  imageName: string;
  /** The project photo the video was made from (absent in records kept before it was stored). */
  imageId?: string;
  ms: number;
  loop: boolean;
  /** PNG per frame, frame 0 = the still. */
  frames: Blob[];
}

/** What the app keeps of a result, and the bitmaps to show. */
export interface KeptVideo {
  width: number;
  height: number;
  fps: number;
  engines: EngineChoice;
  imageName: string;
  imageId?: string;
  ms: number;
  loop: boolean;
  frames: ImageBitmap[];
}

export type KeepStatus = 'idle' | 'saving' | 'saved' | 'full' | 'error';

export const useKeptResultStore = create<{ status: KeepStatus; message: string | null }>()(() => ({ status: 'idle', message: null }));

async function encodePng(frame: ImageBitmap, canvas: OffscreenCanvas, ctx: OffscreenCanvasRenderingContext2D): Promise<Blob> {
  canvas.width = frame.width;
  canvas.height = frame.height;
  ctx.clearRect(0, 0, frame.width, frame.height);
  ctx.drawImage(frame, 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'QuotaExceededError' || e.code === 22);
}

/**
 * Stores `video` as the last result of `projectId`. Resolves when written, or when it could not
 * be (the store's status and message say why); never throws.
 */
export async function keepResult(
  projectId: string,
  video: KeptVideo,
  options: { estimate?: () => Promise<StorageEstimate> } = {},
): Promise<void> {
  useKeptResultStore.setState({ status: 'saving', message: null });
  try {
    const canvas = new OffscreenCanvas(1, 1);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    const frames: Blob[] = [];
    for (const f of video.frames) frames.push(await encodePng(f, canvas, ctx));
    const bytes = frames.reduce((a, b) => a + b.size, 0);
    const estimate = options.estimate ?? (() => navigator.storage?.estimate?.() ?? Promise.resolve({} as StorageEstimate));
    const { usage, quota } = await estimate().catch(() => ({}) as StorageEstimate);
    if (typeof usage === 'number' && typeof quota === 'number' && usage + bytes + QUOTA_MARGIN_BYTES > quota) {
      throw new StorageFullError(`The video (${(bytes / (1 << 20)).toFixed(1)} MB) was not kept for the next visit.`);
    }
    const record: StoredResult = {
      version: RECORD_VERSION,
      savedAt: new Date().toISOString(),
      width: video.width,
      height: video.height,
      fps: video.fps,
      engines: video.engines,
      imageName: video.imageName,
      ...(typeof video.imageId === 'string' ? { imageId: video.imageId } : {}),
      ms: video.ms,
      loop: video.loop,
      frames,
    };
    try {
      await set(RESULT_PREFIX + projectId, record, appDb);
    } catch (e) {
      if (isQuotaError(e)) throw new StorageFullError('The video was not kept for the next visit.', { cause: e });
      throw e;
    }
    useKeptResultStore.setState({ status: 'saved', message: null });
  } catch (e) {
    if (e instanceof StorageFullError) useKeptResultStore.setState({ status: 'full', message: e.message });
    else {
      console.error('keeping the result failed:', e);
      useKeptResultStore.setState({
        status: 'error',
        message: 'The video could not be kept in this browser for the next visit; export it to keep it.',
      });
    }
  }
}

/** The checks a stored record must pass before anything is decoded. */
export function validStoredResult(v: unknown): v is StoredResult {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  const side = (x: unknown) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= MAX_SIDE;
  return (
    r.version === RECORD_VERSION &&
    side(r.width) &&
    side(r.height) &&
    typeof r.fps === 'number' &&
    Number.isFinite(r.fps) &&
    r.fps > 0 &&
    typeof r.imageName === 'string' &&
    (r.imageId === undefined || typeof r.imageId === 'string') &&
    typeof r.ms === 'number' &&
    typeof r.loop === 'boolean' &&
    !!r.engines &&
    typeof r.engines === 'object' &&
    typeof (r.engines as Record<string, unknown>).motion === 'string' &&
    typeof (r.engines as Record<string, unknown>).render === 'string' &&
    Array.isArray(r.frames) &&
    r.frames.length >= 2 &&
    r.frames.length <= PROJECT_LIMITS.framesMax &&
    r.frames.every((f) => f instanceof Blob)
  );
}

/** The stored last result of `projectId`, decoded; null when there is none or it cannot be read (the record is left as it is). */
export async function loadKeptResult(projectId: string): Promise<KeptVideo | null> {
  let record: unknown;
  try {
    record = await get(RESULT_PREFIX + projectId, appDb);
  } catch {
    return null;
  }
  if (record === undefined) return null;
  if (!validStoredResult(record)) {
    console.warn('The stored video of this project cannot be read; it is left as it is and not shown.');
    return null;
  }
  const frames: ImageBitmap[] = [];
  try {
    for (const b of record.frames) {
      const bmp = await createImageBitmap(b);
      frames.push(bmp);
      if (bmp.width !== record.width || bmp.height !== record.height) throw new Error('frame size differs from the record');
    }
  } catch (e) {
    for (const f of frames) f.close();
    console.warn('The stored video of this project cannot be decoded; it is left as it is and not shown.', e);
    return null;
  }
  const { width, height, fps, engines, imageName, imageId, ms, loop } = record;
  return { width, height, fps, engines, imageName, ...(imageId === undefined ? {} : { imageId }), ms, loop, frames };
}

/** Removes the stored result of `projectId` (the user cleared it). */
export async function forgetKeptResult(projectId: string): Promise<void> {
  await del(RESULT_PREFIX + projectId, appDb);
}
