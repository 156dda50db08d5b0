/**
 * Frames -> PNG files, one per frame, or all of them in one .zip (stored, not deflated: PNG
 * data is already compressed). Lossless, so an exported frame equals the player's frame.
 */
import { zipSync, type Zippable } from 'fflate';
import { AbortError, EncodeError } from '../errors';
import type { EncodableFrame, StageProgress } from './encode';
import { pngFrameName } from './names';

export interface PngOptions {
  signal?: AbortSignal;
  /** Fired after each frame; stage 'png'. */
  onProgress?: (p: StageProgress) => void;
}

export interface NamedBlob {
  blob: Blob;
  fileName: string;
}

async function frameToPng(f: EncodableFrame, canvas: OffscreenCanvas, ctx: OffscreenCanvasRenderingContext2D): Promise<Blob> {
  const width = 'displayWidth' in f ? f.displayWidth : f.width;
  const height = 'displayWidth' in f ? f.displayHeight : f.height;
  canvas.width = width;
  canvas.height = height;
  if (f instanceof ImageData) ctx.putImageData(f, 0, 0);
  else ctx.drawImage(f, 0, 0, width, height);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** One PNG per frame, named `<baseName>_frameNN.png`. */
export async function encodePngFrames(frames: readonly EncodableFrame[], baseName: string, options: PngOptions = {}): Promise<NamedBlob[]> {
  if (frames.length === 0) throw new EncodeError('There are no frames to export: generate a video first.');
  const canvas = new OffscreenCanvas(1, 1);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new EncodeError('Could not create a 2D canvas to write PNG frames.');
  const out: NamedBlob[] = [];
  for (let i = 0; i < frames.length; i++) {
    if (options.signal?.aborted) throw new AbortError();
    out.push({ blob: await frameToPng(frames[i], canvas, ctx), fileName: pngFrameName(baseName, i, frames.length) });
    options.onProgress?.({ stage: 'png', fraction: ((i + 1) / frames.length) * 0.95 });
  }
  return out;
}

/** All frames as PNGs in `<baseName>_png.zip`. */
export async function encodePngZip(frames: readonly EncodableFrame[], baseName: string, options: PngOptions = {}): Promise<NamedBlob> {
  const pngs = await encodePngFrames(frames, baseName, options);
  const files: Zippable = {};
  for (const p of pngs) files[p.fileName] = [new Uint8Array(await p.blob.arrayBuffer()), { level: 0 }];
  if (options.signal?.aborted) throw new AbortError();
  // Stored entries of a few MiB: synchronous zipping takes milliseconds and needs no worker.
  const bytes = zipSync(files);
  options.onProgress?.({ stage: 'png', fraction: 1 });
  return { blob: new Blob([bytes as BlobPart], { type: 'application/zip' }), fileName: `${baseName}_png.zip` };
}
