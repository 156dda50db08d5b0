/**
 * Video-to-video input: the source video's original file is stored by content hash beside the
 * images (same store, same locks, same cleanup: image.ts), checked when loaded (a file whose
 * frames cannot be decoded is refused then, with a named error), and decoded on demand into the
 * N + 1 frames the clip follows, covering the canvas as the image does. Nothing here changes
 * the project; the actions below make one undoable edit each, after everything has succeeded.
 */
import { AppError } from '../errors';
import { frameCount } from '../pipeline/engine';
import type { SourceFrames } from '../pipeline/client';
import type { Project, VideoRef } from '../motion/types';
import { probeVideo, readVideoFrames } from '../video/decode';
import { contentId, getOriginalImage, holdWhileImporting, putOriginalImage } from './image';

/** Source files larger than this are refused before reading (the whole file is hashed in memory). */
export const VIDEO_FILE_MAX_BYTES = 1 << 30;

/**
 * Checks `blob` as a source video and stores it. Throws the decoder's named errors
 * (VideoDecodeError, VideoNoTrackError, VideoCodecError, VideoEmptyError) or AppError('storage').
 */
export async function importVideo(blob: Blob, name: string, signal?: AbortSignal): Promise<VideoRef> {
  if (blob.size > VIDEO_FILE_MAX_BYTES) {
    throw new AppError(
      'video-decode',
      `"${name}" is ${Math.round(blob.size / 2 ** 20)} MiB; videos up to 1 GiB can be used. Cut it shorter first.`,
    );
  }
  const info = await probeVideo(blob, name, signal);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const id = await contentId(bytes);
  const done = holdWhileImporting(id);
  try {
    // Same id = same bytes: a video already stored is not written again.
    if (!(await getOriginalImage(id).catch(() => undefined))) await putOriginalImage(id, blob);
  } finally {
    done();
  }
  return {
    id,
    name,
    width: info.width,
    height: info.height,
    duration: info.duration,
    frameCount: info.frameCount,
    fps: info.fps,
    startTime: 0,
    stride: 1,
  };
}

async function storedVideo(video: VideoRef): Promise<Blob> {
  const blob = await getOriginalImage(video.id);
  if (!blob) throw new AppError('storage', `The video "${video.name}" is no longer in this browser's storage. Load it again.`);
  return blob;
}

/** What decides the source frames of a project: the video, its range, the frame count, the canvas. */
export function sourceKey(project: Project): string | null {
  const v = project.video;
  if (!v) return null;
  return `${v.id}|${v.startTime}|${v.stride}|${frameCount(project)}|${project.canvas.width}x${project.canvas.height}`;
}

/** Decoded source frames, the latest few by key (each set is (N + 1) canvas-sized frames). */
const decoded = new Map<string, Promise<SourceFrames>>();
const DECODED_KEEP = 2;

/**
 * The N + 1 source frames the project's clip follows, canvas-sized (cached by sourceKey).
 * Throws VideoTooShortError when the video has fewer from the start time with the stride.
 */
export function getSourceFrames(
  project: Project,
  options: { signal?: AbortSignal; onProgress?: (fraction: number) => void } = {},
): Promise<SourceFrames> {
  const key = sourceKey(project);
  const video = project.video;
  if (!key || !video) return Promise.reject(new AppError('video-decode', 'Load a source video first (Video to video).'));
  const have = decoded.get(key);
  if (have) return have;
  const p = (async () => {
    const blob = await storedVideo(video);
    const { frames } = await readVideoFrames(blob, video.name, {
      startTime: video.startTime,
      stride: video.stride,
      count: frameCount(project),
      width: project.canvas.width,
      height: project.canvas.height,
      signal: options.signal,
      onProgress: (q) => options.onProgress?.(q.fraction),
    });
    return { key, frames };
  })();
  decoded.set(key, p);
  // A failed or cancelled decode is not kept; only the newest few sets stay in memory.
  p.catch(() => decoded.get(key) === p && decoded.delete(key));
  while (decoded.size > DECODED_KEEP) decoded.delete(decoded.keys().next().value as string);
  return p;
}

/** The video's frame at its start time, at the video's own size, as a PNG (to use as the restyled frame). */
export async function firstFramePng(video: VideoRef): Promise<Blob> {
  const blob = await storedVideo(video);
  const { frames } = await readVideoFrames(blob, video.name, {
    startTime: video.startTime,
    count: 1,
    width: video.width,
    height: video.height,
  });
  const canvas = new OffscreenCanvas(video.width, video.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new AppError('image-decode', 'This browser cannot draw images off-screen (OffscreenCanvas 2D).');
  ctx.putImageData(frames[0], 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}
