/**
 * Video-to-video mode: load a source video, choose which frames the clip follows (start,
 * frame step, frame count), scrub the source frames as they will be tracked (covering the
 * canvas), see the tracked motion of each frame (colour wheel, after Generate), and the
 * restyled first frame that is animated (any image, or the source's own first frame).
 * Generate, progress and cancel are the job store's, as in the Generate panel; the result
 * plays in the player and exports like any other.
 */
import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { toUserError } from '../../errors';
import type { SourceFrames } from '../../pipeline/client';
import { getCanvasImageData } from '../../state/image';
import { stageLabel, useJobStore } from '../../state/job';
import { useProjectStore } from '../../state/project';
import { getSourceFrames, sourceKey } from '../../state/video';
import { VIDEO_ACCEPT, loadVideoFile, removeVideo, takeSourceFirstFrame } from '../../state/videoActions';
import { loadImageFile } from '../../state/actions';
import './v2v.css';

/** A number field that commits on Enter or blur (typing "12" never passes through 1). */
function NumberField(props: {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  testId: string;
  onCommit: (v: number) => void;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const commit = () => {
    if (draft === null) return;
    const v = Number(draft);
    setDraft(null);
    if (draft.trim() !== '' && Number.isFinite(v)) props.onCommit(Math.min(props.max, Math.max(props.min, v)));
  };
  return (
    <label className="v2v-field">
      {props.label}
      <input
        type="number"
        data-testid={props.testId}
        min={props.min}
        max={props.max}
        step={props.step}
        value={draft ?? String(props.value)}
        onChange={(e) => setDraft(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') setDraft(null);
        }}
      />
    </label>
  );
}

/** Draws an ImageData or ImageBitmap on a canvas of its size. */
function Picture({ source, testId, label }: { source: ImageData | ImageBitmap | null; testId: string; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !source) return;
    c.width = source.width;
    c.height = source.height;
    const g = c.getContext('2d');
    if (!g) return;
    if (source instanceof ImageData) g.putImageData(source, 0, 0);
    else g.drawImage(source, 0, 0);
  }, [source]);
  return <canvas ref={ref} className="v2v-picture" data-testid={testId} data-ready={source ? 'true' : 'false'} aria-label={label} />;
}

export function VideoPanel() {
  const video = useProjectStore((s) => s.project.video ?? null);
  const key = useProjectStore((s) => sourceKey(s.project));
  const frames = useProjectStore((s) => s.project.settings.frames);
  const image = useProjectStore((s) => s.project.image);
  const canvasKey = useProjectStore((s) => `${s.project.canvas.width}x${s.project.canvas.height}:${JSON.stringify(s.project.crop)}`);
  const job = useJobStore(useShallow((s) => ({ ...s.jobs.generate, result: s.result })));
  const [source, setSource] = useState<SourceFrames | null>(null);
  const [sourceError, setSourceError] = useState<string | null>(null);
  const [restyled, setRestyled] = useState<ImageData | null>(null);
  const [index, setIndex] = useState(0);
  const videoInput = useRef<HTMLInputElement>(null);
  const imageInput = useRef<HTMLInputElement>(null);

  // The frames the clip follows, decoded once per video, range, frame count and canvas.
  useEffect(() => {
    setSourceError(null);
    if (!key) {
      setSource(null);
      return;
    }
    let live = true;
    getSourceFrames(useProjectStore.getState().project).then(
      (s) => live && setSource(s),
      (e: unknown) => {
        if (!live) return;
        setSource(null);
        setSourceError(toUserError(e).message);
      },
    );
    return () => {
      live = false;
    };
  }, [key]);

  // The restyled frame exactly as the engines receive it (cropped and resized to the canvas).
  // biome-ignore lint/correctness/useExhaustiveDependencies: read again whenever the image, canvas or crop change
  useEffect(() => {
    let live = true;
    const project = useProjectStore.getState().project;
    if (!project.image) setRestyled(null);
    else
      getCanvasImageData(project).then(
        (d) => live && setRestyled(d),
        () => live && setRestyled(null),
      );
    return () => {
      live = false;
    };
  }, [image, canvasKey]);

  const count = source?.frames.length ?? 0;
  const shown = Math.min(index, Math.max(0, count - 1));
  const running = job.status === 'running';
  const colours = job.result?.engines.motion === 'tracked' ? job.result.flowColours : undefined;
  const motion = shown > 0 ? (colours?.[shown - 1] ?? null) : null;
  const fps = video && video.fps > 0 ? video.fps : 0;

  return (
    <section className="panel v2v" aria-label="Video to video" data-testid="v2v-panel">
      <h2>Video to video</h2>
      <input
        ref={videoInput}
        type="file"
        accept={VIDEO_ACCEPT}
        hidden
        data-testid="v2v-video-input"
        onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (f) void loadVideoFile(f, f.name);
        }}
      />
      <input
        ref={imageInput}
        type="file"
        accept="image/*"
        hidden
        data-testid="v2v-restyled-input"
        onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (f) void loadImageFile(f, f.name);
        }}
      />
      {!video ? (
        <>
          <p className="hint">
            Animate a restyled first frame with the motion of a real video: every pixel of the video's first frame is tracked through the
            clip.
          </p>
          <button type="button" data-testid="v2v-open-video" onClick={() => videoInput.current?.click()}>
            Open video…
          </button>
        </>
      ) : (
        <>
          <div className="v2v-source-head">
            <span data-testid="v2v-video-name" title={video.name}>
              {video.name}
            </span>
            <span className="hint-inline">
              {video.width}x{video.height}, {video.duration.toFixed(2)} s, {fps.toFixed(fps % 1 ? 2 : 0)} fps
            </span>
          </div>
          <div className="v2v-row">
            <button type="button" data-testid="v2v-open-video" disabled={running} onClick={() => videoInput.current?.click()}>
              Other video…
            </button>
            <button type="button" data-testid="v2v-remove-video" disabled={running} onClick={removeVideo}>
              Remove video
            </button>
          </div>
          <fieldset className="v2v-range" disabled={running}>
            <NumberField
              label="Start (s)"
              testId="v2v-start"
              value={video.startTime}
              min={0}
              max={video.duration}
              step={fps > 0 ? 1 / fps : 0.1}
              onCommit={(v) => useProjectStore.getState().setVideoRange({ startTime: v })}
            />
            <NumberField
              label="Frame step"
              testId="v2v-stride"
              value={video.stride}
              min={1}
              max={60}
              step={1}
              onCommit={(v) => useProjectStore.getState().setVideoRange({ stride: Math.round(v) })}
            />
            <NumberField
              label="Frames"
              testId="v2v-frames"
              value={frames}
              min={2}
              max={64}
              step={1}
              onCommit={(v) => useProjectStore.getState().setSettings({ frames: Math.round(v) })}
            />
          </fieldset>

          {sourceError && (
            <p className="job-error" role="alert" data-testid="v2v-source-error">
              {sourceError}
            </p>
          )}
          <div className="v2v-pictures">
            <figure>
              <Picture source={source?.frames[shown] ?? null} testId="v2v-source" label="Source frame" />
              <figcaption>Source</figcaption>
            </figure>
            <figure>
              <Picture source={motion} testId="v2v-motion" label="Tracked motion" />
              <figcaption>
                {shown === 0 ? 'Motion (none at frame 0)' : colours ? `Motion 0→${shown}` : 'Motion (after Generate)'}
              </figcaption>
            </figure>
          </div>
          <label className="v2v-scrub">
            <input
              type="range"
              data-testid="v2v-scrub"
              min={0}
              max={Math.max(0, count - 1)}
              step={1}
              value={shown}
              disabled={count === 0}
              onChange={(e) => setIndex(Number(e.currentTarget.value))}
              aria-label="Source frame"
            />
            <span data-testid="v2v-frame-label">
              Frame {shown} of {Math.max(0, count - 1)}
              {fps > 0 ? ` (${(video.startTime + (shown * video.stride) / fps).toFixed(2)} s)` : ''}
            </span>
          </label>

          <h3 className="v2v-sub">Restyled first frame</h3>
          <figure>
            <Picture source={restyled} testId="v2v-restyled" label="Restyled first frame" />
          </figure>
          <div className="v2v-row">
            <button type="button" data-testid="v2v-open-restyled" disabled={running} onClick={() => imageInput.current?.click()}>
              Open restyled frame…
            </button>
            <button
              type="button"
              data-testid="v2v-use-first-frame"
              disabled={running}
              title="Replaces the photo with the video's first frame (Undo brings the photo back)"
              onClick={() => void takeSourceFirstFrame()}
            >
              Use the source's first frame
            </button>
          </div>
          <p className="hint">Restyle the video's first frame with any image tool (same aspect ratio), then load it here.</p>
          <p className="hint" data-testid="v2v-engine-note">
            With a video loaded, Generate takes its motion from the video (trajectories and brush are not used); the engine chosen under
            Generate renders the frames.
          </p>

          <div className="generate-row">
            {running ? (
              <button type="button" data-testid="v2v-cancel" onClick={() => useJobStore.getState().cancel()}>
                Cancel
              </button>
            ) : (
              <button
                type="button"
                className="primary"
                data-testid="v2v-generate"
                disabled={!image || !source}
                onClick={() => void useJobStore.getState().generate()}
              >
                Generate from video
              </button>
            )}
          </div>
          {running && (
            <div className="job-progress" data-testid="v2v-progress" data-progress={job.progress.toFixed(3)}>
              <progress max={1} value={job.progress} aria-label="Video-to-video progress" />
              <span>
                {stageLabel(job.stage)}
                {job.detail ? `: ${job.detail}` : ''}… {Math.round(job.progress * 100)}%
              </span>
            </div>
          )}
        </>
      )}
    </section>
  );
}
