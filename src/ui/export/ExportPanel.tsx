/**
 * Export of the generated frames: MP4 (H.264, or VP9/AV1 where the browser has no H.264
 * encoder), WebM (VP9), or lossless PNG frames (one zip or separate files), at the player's fps
 * and a chosen quality, with a progress bar and Cancel. Files are named after what they hold,
 * e.g. motion-i2v_one_512x320_16f_8fps_h264.mp4.
 */
import { useEffect, useRef, useState } from 'react';
import { isAbort } from '../../errors';
import { useProjectStore } from '../../state/project';
import {
  CODEC_PREFERENCE,
  codecLabel,
  encodePngFrames,
  encodePngZip,
  encodeVideo,
  firstEncodableCodec,
  videoBaseName,
  type ExportCodec,
  type VideoQuality,
} from '../../video';

export type ExportFormat = 'mp4' | 'webm' | 'png-zip' | 'png-files';

const FORMAT_LABELS: Record<ExportFormat, string> = {
  mp4: 'MP4 video',
  webm: 'WebM video',
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
}

type ExportState =
  | { status: 'idle' }
  | { status: 'running'; fraction: number }
  | { status: 'done'; fileNames: string[]; bytes: number; codec?: ExportCodec }
  | { status: 'error'; message: string }
  | { status: 'cancelled' };

function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has taken its copy once the click is handled; free ours a little later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
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
      for (const c of ['mp4', 'webm'] as const) out[c] = (await firstEncodableCodec(CODEC_PREFERENCE[c], width, height, fps).catch(() => null))?.codec ?? null;
      if (live) setCodecs(out);
    })();
    return () => {
      live = false;
    };
  }, [width, height, fps]);
  return codecs;
}

export function ExportPanel({ frames, width, height, imageName }: ExportPanelProps) {
  const fps = useProjectStore((s) => s.project.settings.fps);
  const [format, setFormat] = useState<ExportFormat>('mp4');
  const [quality, setQuality] = useState<VideoQuality>('very-high');
  const [state, setState] = useState<ExportState>({ status: 'idle' });
  const controller = useRef<AbortController | null>(null);
  const codecs = useCodecs(width, height, fps);

  // A new video or unmounting cancels a running export.
  useEffect(() => () => controller.current?.abort(), [frames]);

  const baseName = videoBaseName({ imageName, width, height, frames: frames.length, fps });
  const isVideo = format === 'mp4' || format === 'webm';
  const noEncoder = isVideo && codecs[format] === null;

  const run = async () => {
    controller.current?.abort();
    const ac = new AbortController();
    controller.current = ac;
    const onProgress = (p: { fraction: number }) => {
      if (controller.current === ac) setState({ status: 'running', fraction: p.fraction });
    };
    setState({ status: 'running', fraction: 0 });
    try {
      if (format === 'mp4' || format === 'webm') {
        const v = await encodeVideo(frames, { container: format, fps, bitrate: quality, signal: ac.signal, onProgress, baseName });
        if (ac.signal.aborted) return;
        download(v.blob, v.fileName!);
        setState({ status: 'done', fileNames: [v.fileName!], bytes: v.blob.size, codec: v.codec });
      } else if (format === 'png-zip') {
        const z = await encodePngZip(frames, baseName, { signal: ac.signal, onProgress });
        if (ac.signal.aborted) return;
        download(z.blob, z.fileName);
        setState({ status: 'done', fileNames: [z.fileName], bytes: z.blob.size });
      } else {
        const files = await encodePngFrames(frames, baseName, { signal: ac.signal, onProgress });
        if (ac.signal.aborted) return;
        for (const f of files) download(f.blob, f.fileName);
        setState({ status: 'done', fileNames: files.map((f) => f.fileName), bytes: files.reduce((a, f) => a + f.blob.size, 0) });
      }
    } catch (e) {
      if (controller.current !== ac) return;
      setState(isAbort(e) ? { status: 'cancelled' } : { status: 'error', message: e instanceof Error ? e.message : String(e) });
    } finally {
      if (controller.current === ac) controller.current = null;
    }
  };

  const cancel = () => {
    controller.current?.abort();
    controller.current = null;
    setState({ status: 'cancelled' });
  };

  const running = state.status === 'running';
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
            <select data-testid="export-quality" value={String(quality)} disabled={running} onChange={(e) => setQuality(e.target.value as VideoQuality)}>
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
      <div className="export-row">
        {running ? (
          <button type="button" data-testid="export-cancel" onClick={cancel}>
            Cancel export
          </button>
        ) : (
          <button type="button" data-testid="export-button" onClick={() => void run()} disabled={frames.length === 0 || noEncoder}>
            Export {frames.length} frames at {fps} fps
          </button>
        )}
        {running && (
          <progress data-testid="export-progress" max={1} value={state.fraction} aria-label="Export progress">
            {Math.round(state.fraction * 100)}%
          </progress>
        )}
      </div>
      <p className="export-status" data-testid="export-status" data-status={state.status} role={state.status === 'error' ? 'alert' : undefined}>
        {state.status === 'done' &&
          `Saved ${state.fileNames.length === 1 ? state.fileNames[0] : `${state.fileNames.length} files`} (${formatBytes(state.bytes)}${state.codec ? `, ${codecLabel(state.codec)}` : ''}).`}
        {state.status === 'error' && state.message}
        {state.status === 'cancelled' && 'Export cancelled.'}
        {noEncoder && `This browser cannot encode ${format.toUpperCase()} video; choose another format or PNG frames.`}
      </p>
    </div>
  );
}
