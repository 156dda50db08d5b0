/**
 * Export of the generated frames: MP4 (H.264, or VP9/AV1 where the browser has no H.264
 * encoder), WebM (VP9), an animated GIF (one 255-colour palette, ordered dither), or lossless PNG frames (one zip or separate files), at the player's fps
 * and a chosen quality, with a progress bar and Cancel. Files are named after what they hold,
 * e.g. motion-i2v_one_512x320_16f_8fps_h264.mp4. The export itself is a job of the job model
 * (src/state/export.ts); this panel renders it.
 */
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { cancelExport, exportFrames, framesToExport, useExportStore, type ExportFormat } from '../../state/export';
import { useJobStore } from '../../state/job';
import { useProjectStore } from '../../state/project';
import { CODEC_PREFERENCE, codecLabel, firstEncodableCodec, videoBaseName, type ExportCodec, type VideoQuality } from '../../video';
import { download } from '../download';
import { singleClick } from '../singleClick';

export type { ExportFormat };

const FORMAT_LABELS: Record<ExportFormat, string> = {
  mp4: 'MP4 video',
  webm: 'WebM video',
  gif: 'Animated GIF',
  'png-zip': 'PNG frames (zip)',
  'png-files': 'PNG frames (separate files)',
};

const QUALITY_LABELS: [VideoQuality, string][] = [
  ['medium', 'Small file'],
  ['high', 'Good'],
  ['very-high', 'Best'],
];

const CODEC_NAMES: Record<ExportCodec, string> = { avc: 'H.264', vp9: 'VP9', av1: 'AV1', vp8: 'VP8' };

export interface ExportPanelProps {
  frames: readonly ImageBitmap[];
  width: number;
  height: number;
  imageName: string;
  /** A seamless loop: its last frame equals frame 0 and is left out of the files. */
  loop?: boolean;
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

/** Which codec each video container will use in this browser, for the menu ("MP4 video (VP9)" when H.264 is missing). */
function useCodecs(width: number, height: number, fps: number): Partial<Record<'mp4' | 'webm', ExportCodec | null>> {
  const [codecs, setCodecs] = useState<Partial<Record<'mp4' | 'webm', ExportCodec | null>>>({});
  useEffect(() => {
    let live = true;
    void (async () => {
      const out: Partial<Record<'mp4' | 'webm', ExportCodec | null>> = {};
      for (const c of ['mp4', 'webm'] as const)
        out[c] = (await firstEncodableCodec(CODEC_PREFERENCE[c], width, height, fps).catch(() => null))?.codec ?? null;
      if (live) setCodecs(out);
    })();
    return () => {
      live = false;
    };
  }, [width, height, fps]);
  return codecs;
}

export function ExportPanel({ frames: allFrames, width, height, imageName, loop = false }: ExportPanelProps) {
  const fps = useProjectStore((s) => s.project.settings.fps);
  const { format, quality } = useExportStore(useShallow((s) => ({ format: s.format, quality: s.quality })));
  const setFormat = (f: ExportFormat) => useExportStore.setState({ format: f });
  const setQuality = (q: VideoQuality) => useExportStore.setState({ quality: q });
  const frames = framesToExport({ frames: allFrames as ImageBitmap[], loop });
  const job = useJobStore(useShallow((s) => s.jobs.export));
  const saved = useExportStore((s) => s.saved);
  const codecs = useCodecs(width, height, fps);

  // A new video or unmounting cancels a running export.
  useEffect(() => () => cancelExport(), [allFrames]);

  const baseName = videoBaseName({ imageName, width, height, frames: frames.length, fps });
  const isVideo = format === 'mp4' || format === 'webm';
  const noEncoder = isVideo && codecs[format] === null;
  const run = () => exportFrames({ frames, format, quality, fps, baseName, save: download });

  const running = job.status === 'running';
  return (
    <div className="export" data-testid="export-panel">
      <div className="export-row">
        <label>
          Format{' '}
          <select data-testid="export-format" value={format} disabled={running} onChange={(e) => setFormat(e.target.value as ExportFormat)}>
            {(Object.keys(FORMAT_LABELS) as ExportFormat[]).map((f) => {
              const c = f === 'mp4' || f === 'webm' ? codecs[f] : undefined;
              return (
                <option key={f} value={f}>
                  {FORMAT_LABELS[f]}
                  {c ? ` (${CODEC_NAMES[c]})` : c === null ? ' (not supported here)' : ''}
                </option>
              );
            })}
          </select>
        </label>
        {isVideo && (
          <label>
            Quality{' '}
            <select
              data-testid="export-quality"
              value={String(quality)}
              disabled={running}
              onChange={(e) => setQuality(e.target.value as VideoQuality)}
            >
              {QUALITY_LABELS.map(([q, label]) => (
                <option key={String(q)} value={String(q)}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {format === 'mp4' && codecs.mp4 && codecs.mp4 !== 'avc' && (
        <p className="hint" data-testid="export-fallback">
          This browser has no H.264 encoder, so the MP4 uses {CODEC_NAMES[codecs.mp4]}; some older players cannot open it.
        </p>
      )}
      {loop && allFrames.length > frames.length && (
        <p className="hint" data-testid="export-loop-hint">
          Seamless loop: the last frame equals the first, so files hold {frames.length} frames and loop without repeating one.
        </p>
      )}
      {format === 'gif' && (
        <p className="hint" data-testid="export-gif-hint">
          A GIF loops everywhere but holds 256 colours (gradients are dithered) and is several times bigger than the MP4.
        </p>
      )}
      <div className="export-row">
        {running ? (
          <button type="button" data-testid="export-cancel" onClick={singleClick(cancelExport)}>
            Cancel export
          </button>
        ) : (
          <button
            type="button"
            data-testid="export-button"
            onClick={singleClick(() => void run())}
            disabled={frames.length === 0 || noEncoder}
            aria-keyshortcuts="X"
            title="Export (X)"
          >
            Export {frames.length} frames at {fps} fps
          </button>
        )}
        {running && (
          <progress data-testid="export-progress" max={1} value={job.progress} aria-label="Export progress">
            {Math.round(job.progress * 100)}%
          </progress>
        )}
      </div>
      <p className="export-status" data-testid="export-status" data-status={job.status} role={job.status === 'error' ? 'alert' : undefined}>
        {job.status === 'done' &&
          saved &&
          `Saved ${saved.fileNames.length === 1 ? saved.fileNames[0] : `${saved.fileNames.length} files`} (${formatBytes(saved.bytes)}${saved.codec ? `, ${codecLabel(saved.codec)}` : ''}).`}
        {job.status === 'error' && job.error}
        {job.status === 'cancelled' && 'Export cancelled.'}
        {noEncoder && `This browser cannot encode ${format.toUpperCase()} video; choose another format or PNG frames.`}
      </p>
    </div>
  );
}
