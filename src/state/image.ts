/**
 * The project's image: the original file as a Blob in IndexedDB (keyed by ImageRef.id, outside
 * the undo history and the autosaved document), a decoded working copy (downscaled to at most
 * WORKING_MAX_SIDE per side) cached in memory, and the cover-crop that maps it onto the canvas.
 *
 * `getCanvasImageData(project)` is what the engines animate: the crop box of the original,
 * resized to the canvas size, RGBA.
 */
import { createStore, del, get, keys, set } from 'idb-keyval';
import { AppError } from '../errors';
import type { CanvasSize, CropBox, ImageRef, Project } from '../motion/types';
import { checkImageSize, readImageHeader } from './imageHeader';

/** Decoded copies are downscaled to this many pixels per side (the canvas is at most 512). */
export const WORKING_MAX_SIDE = 2048;

/** One IndexedDB database for the app's own data (autosave + original images). */
export const appDb = createStore('motion-i2v', 'keyval');
const IMAGE_PREFIX = 'image:';

export async function putOriginalImage(id: string, blob: Blob): Promise<void> {
  try {
    await set(IMAGE_PREFIX + id, blob, appDb);
  } catch (e) {
    throw new AppError(
      'storage',
      `Could not store the image in this browser's storage (${String(e)}). Free some disk space or allow site storage.`,
      { cause: e },
    );
  }
}

export async function getOriginalImage(id: string): Promise<Blob | undefined> {
  return get<Blob>(IMAGE_PREFIX + id, appDb);
}

/**
 * Image ids are the SHA-256 of the original bytes, so the same photo is stored once however
 * many projects (or tabs) use it, and a file claiming an id can never overwrite a different
 * photo: the id is recomputed from the bytes it brings.
 */
export async function contentId(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return `img-${crypto.randomUUID()}`;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as BufferSource));
  return `sha256-${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Every tab holds a shared Web Lock per image its memory refers to (project, undo history, an
 * import in progress), so cleanup in another tab never deletes a photo this tab may still save
 * or bring back with undo. Without Web Locks, nothing is ever held and cleanup is skipped.
 */
const IMAGE_LOCK_PREFIX = 'motion-i2v-image:';
const heldImages = new Map<string, () => void>();

export function holdImages(ids: Iterable<string>): void {
  const locks = globalThis.navigator?.locks;
  if (!locks) return;
  const want = new Set(ids);
  for (const id of want) {
    if (heldImages.has(id)) continue;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    heldImages.set(id, release);
    void locks.request(IMAGE_LOCK_PREFIX + id, { mode: 'shared' }, () => released).catch(() => heldImages.delete(id));
  }
  for (const [id, release] of heldImages) {
    if (!want.has(id) && !pendingImports.has(id)) {
      release();
      heldImages.delete(id);
    }
  }
}

/** Images being imported (stored, not yet in the project): held until the import settles and a bit. */
const pendingImports = new Set<string>();

/** Holds `id` while it is stored and not yet in the project; the returned function ends the hold a little later. */
export function holdWhileImporting(id: string): () => void {
  pendingImports.add(id);
  holdImages([...heldImages.keys(), id]);
  // The project picks the image up right after the import; keep it held a little past that.
  return () => setTimeout(() => pendingImports.delete(id), 5_000);
}

/**
 * Deletes stored originals that no stored project refers to and no open tab holds. `referenced`
 * is null when some stored project could not be read: then nothing is deleted (a project that
 * failed to restore keeps its photo).
 */
export async function deleteUnusedImages(referenced: ReadonlySet<string> | null): Promise<string[]> {
  const locks = globalThis.navigator?.locks;
  if (!referenced || !locks) return [];
  const snapshot = await locks.query();
  const held = new Set([...(snapshot.held ?? []), ...(snapshot.pending ?? [])].map((l) => l.name ?? ''));
  const deleted: string[] = [];
  for (const k of await keys(appDb)) {
    if (typeof k !== 'string' || !k.startsWith(IMAGE_PREFIX)) continue;
    const id = k.slice(IMAGE_PREFIX.length);
    if (referenced.has(id) || held.has(IMAGE_LOCK_PREFIX + id)) continue;
    await del(k, appDb);
    deleted.push(id);
  }
  return deleted;
}

/** The centred crop box of an image that covers a canvas (the reference's resize-then-centre-crop). */
export function coverCrop(imageWidth: number, imageHeight: number, canvas: CanvasSize): CropBox {
  const scale = Math.max(canvas.width / imageWidth, canvas.height / imageHeight);
  const width = Math.min(imageWidth, canvas.width / scale);
  const height = Math.min(imageHeight, canvas.height / scale);
  return { x: (imageWidth - width) / 2, y: (imageHeight - height) / 2, width, height };
}

/** Moves a crop box by (dx, dy) original pixels, keeping it inside the image. */
export function moveCrop(crop: CropBox, dx: number, dy: number, image: { width: number; height: number }): CropBox {
  return {
    ...crop,
    x: Math.min(Math.max(crop.x + dx, 0), image.width - crop.width),
    y: Math.min(Math.max(crop.y + dy, 0), image.height - crop.height),
  };
}

export interface WorkingImage {
  bitmap: ImageBitmap;
  /** working pixels per original pixel (<= 1) */
  scale: number;
}

const working = new Map<string, Promise<WorkingImage>>();

async function decode(blob: Blob, name: string): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blob);
  } catch (e) {
    throw new AppError('image-decode', `"${name}" could not be decoded: the file is damaged or not a supported image.`, { cause: e });
  }
}

async function makeWorking(blob: Blob, name: string): Promise<WorkingImage & { naturalWidth: number; naturalHeight: number }> {
  const full = await decode(blob, name);
  const naturalWidth = full.width;
  const naturalHeight = full.height;
  const scale = Math.min(1, WORKING_MAX_SIDE / Math.max(naturalWidth, naturalHeight));
  if (scale === 1) return { bitmap: full, scale, naturalWidth, naturalHeight };
  const bitmap = await createImageBitmap(full, {
    resizeWidth: Math.max(1, Math.round(naturalWidth * scale)),
    resizeHeight: Math.max(1, Math.round(naturalHeight * scale)),
    resizeQuality: 'high',
  });
  full.close();
  return { bitmap, scale: bitmap.width / naturalWidth, naturalWidth, naturalHeight };
}

/** The decoded, downscaled copy of a stored original (cached). */
export function getWorkingImage(ref: ImageRef): Promise<WorkingImage> {
  let p = working.get(ref.id);
  if (!p) {
    p = (async () => {
      const blob = await getOriginalImage(ref.id);
      if (!blob) throw new AppError('storage', `The image "${ref.name}" is no longer in this browser's storage. Load it again.`);
      return makeWorking(blob, ref.name);
    })();
    working.set(ref.id, p);
    p.catch(() => working.delete(ref.id));
  }
  return p;
}

/**
 * Checks and decodes a user's file (header first: size limits before any decoding), stores the
 * original, and returns its ImageRef. Throws AppError 'image-empty' | 'image-decode' |
 * 'image-too-large' | 'storage'; nothing is changed in the project here.
 */
export async function importImage(blob: Blob, name: string): Promise<ImportedImage> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const header = readImageHeader(bytes, name);
  checkImageSize(header, name);
  const typed = blob.type ? blob : new Blob([bytes], { type: `image/${header.format}` });
  const w = await makeWorking(typed, name);
  const id = await contentId(bytes);
  const done = holdWhileImporting(id);
  try {
    // Same id = same bytes: an image already stored is not written again.
    if (!(await getOriginalImage(id).catch(() => undefined))) await putOriginalImage(id, typed);
  } finally {
    done();
  }
  if (!working.has(id)) working.set(id, Promise.resolve({ bitmap: w.bitmap, scale: w.scale }));
  else w.bitmap.close();
  return { id, name, width: w.naturalWidth, height: w.naturalHeight, animated: header.animated === true };
}

export interface ImportedImage extends ImageRef {
  /** An animated GIF/PNG/WebP: only its first frame is used. */
  animated: boolean;
}

/** The natural size of a stored original, read from its header (no decoding); null if it is missing or unreadable. */
export async function storedImageSize(id: string): Promise<{ width: number; height: number } | null> {
  const blob = await getOriginalImage(id);
  if (!blob) return null;
  try {
    const h = readImageHeader(new Uint8Array(await blob.arrayBuffer()), id);
    return { width: h.width, height: h.height };
  } catch {
    return null;
  }
}

/** Draws the project's crop of its image to fill a 2D context of the canvas size. */
export function drawCropped(
  ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D,
  img: WorkingImage,
  crop: CropBox,
  canvas: CanvasSize,
): void {
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(
    img.bitmap,
    crop.x * img.scale,
    crop.y * img.scale,
    crop.width * img.scale,
    crop.height * img.scale,
    0,
    0,
    canvas.width,
    canvas.height,
  );
}

/** The image the engines animate: the crop box, resized to the canvas size, RGBA. */
export async function getCanvasImageData(project: Project): Promise<ImageData> {
  if (!project.image) throw new AppError('image-empty', 'No image is loaded yet. Add a photo first.');
  const img = await getWorkingImage(project.image);
  const crop = project.crop ?? coverCrop(project.image.width, project.image.height, project.canvas);
  const { width, height } = project.canvas;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new AppError('image-decode', 'This browser cannot draw images off-screen (OffscreenCanvas 2D).');
  drawCropped(ctx, img, crop, project.canvas);
  return ctx.getImageData(0, 0, width, height);
}

/** Blob -> data URL (project files embed the original). */
export async function blobToDataUrl(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${blob.type || 'application/octet-stream'};base64,${btoa(bin)}`;
}

export function dataUrlToBlob(url: string): Blob {
  const m = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
  if (!m || !m[2]) throw new AppError('project-file', "The project file's embedded image is not a base64 data URL.");
  let bin: string;
  try {
    bin = atob(m[3]);
  } catch (e) {
    throw new AppError('project-file', "The project file's embedded image is damaged (bad base64).", { cause: e });
  }
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: m[1] || 'application/octet-stream' });
}
