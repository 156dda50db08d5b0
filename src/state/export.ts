/**
 * Export of the generated frames as a job of the job model ('export'): MP4, WebM, an animated
 * GIF or PNG frames at the player's fps and a chosen quality, with progress and cancel. The frames are
 * ImageBitmaps on the main thread, so a lost GPU device does not interrupt an export.
 * What was saved is kept here for the panel to show.
 */
import { create } from 'zustand';
import { encodeGif, encodePngFrames, encodePngZip, encodeVideo, videoBaseName, type ExportCodec, type VideoQuality } from '../video';
import { cancelJob, runJob, useJobStore, type JobResult } from './job';
import { useProjectStore } from './project';

export type ExportFormat = 'mp4' | 'webm' | 'gif' | 'png-zip' | 'png-files';

export interface ExportedFiles {
  fileNames: string[];
  bytes: number;
  codec?: ExportCodec;
}

export interface ExportState {
  /** The last export that finished, until a new one starts. */
  saved: ExportedFiles | null;
  /** The chosen format and quality (the panel and the keyboard shortcut export the same). */
  format: ExportFormat;
  quality: VideoQuality;
}

export const useExportStore = create<ExportState>()(() => ({ saved: null, format: 'mp4', quality: 'very-high' }));

/**
 * The frames a file of `result` holds: all of them, except that a seamless loop drops its last
 * frame, which equals frame 0 (a player looping the file would show frame 0 twice).
 */
export function framesToExport(result: Pick<JobResult, 'frames' | 'loop'>): readonly ImageBitmap[] {
  return result.loop && result.frames.length > 2 ? result.frames.slice(0, -1) : result.frames;
}

/** Exports the current result with the chosen format and quality at the project's fps; false when there is no result. */
export function exportResult(save: ExportRequest['save']): boolean {
  const result = useJobStore.getState().result;
  if (!result) return false;
  const { format, quality } = useExportStore.getState();
  const fps = useProjectStore.getState().project.settings.fps;
  const frames = framesToExport(result);
  const baseName = videoBaseName({ imageName: result.imageName, width: result.width, height: result.height, frames: frames.length, fps });
  void exportFrames({ frames, format, quality, fps, baseName, save });
  return true;
}

export interface ExportRequest {
  frames: readonly ImageBitmap[];
  format: ExportFormat;
  quality: VideoQuality;
  fps: number;
  baseName: string;
  /** Hands one finished file to the user (a download). */
  save: (blob: Blob, fileName: string) => void;
}

/** Encodes and saves; a running export is cancelled by a new one. */
export async function exportFrames(r: ExportRequest): Promise<void> {
  useExportStore.setState({ saved: null });
  const saved = await runJob('export', async ({ signal, progress }): Promise<ExportedFiles> => {
    const onProgress = (p: { fraction: number }) => progress('encode', p.fraction);
    if (r.format === 'mp4' || r.format === 'webm') {
      const v = await encodeVideo(r.frames, {
        container: r.format,
        fps: r.fps,
        bitrate: r.quality,
        signal,
        onProgress,
        baseName: r.baseName,
      });
      signal.throwIfAborted();
      r.save(v.blob, v.fileName!);
      return { fileNames: [v.fileName!], bytes: v.blob.size, codec: v.codec };
    }
    if (r.format === 'gif') {
      const g = await encodeGif(r.frames, { fps: r.fps, signal, onProgress, baseName: r.baseName });
      signal.throwIfAborted();
      r.save(g.blob, g.fileName!);
      return { fileNames: [g.fileName!], bytes: g.blob.size };
    }
    if (r.format === 'png-zip') {
      const z = await encodePngZip(r.frames, r.baseName, { signal, onProgress });
      signal.throwIfAborted();
      r.save(z.blob, z.fileName);
      return { fileNames: [z.fileName], bytes: z.blob.size };
    }
    const files = await encodePngFrames(r.frames, r.baseName, { signal, onProgress });
    signal.throwIfAborted();
    for (const f of files) r.save(f.blob, f.fileName);
    return { fileNames: files.map((f) => f.fileName), bytes: files.reduce((a, f) => a + f.blob.size, 0) };
  });
  if (saved) useExportStore.setState({ saved });
}

export function cancelExport(): void {
  cancelJob('export');
}
