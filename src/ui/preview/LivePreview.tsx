/**
 * LivePreview: shows the live preview's state (src/state/preview.ts schedules it: the chosen
 * frame warped by the worker while the user edits, the strip of all frames once the edit
 * settles) and the motion field of the chosen frame as the Middlebury colour wheel (FlowColour,
 * in the worker) with arrows. It only renders the store and starts/stops the preview.
 */
import { useEffect, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useJobStore } from '../../state/job';
import { previewFrame, startLivePreview, usePreviewStore } from '../../state/preview';
import { useProjectStore } from '../../state/project';
import { frameCount } from '../../pipeline/engine';

const ARROW_STEP = 32;

/** The colour-wheel image of the flow (FlowColour, drawn in the worker) plus arrows every ARROW_STEP px. */
function drawFlow(canvas: HTMLCanvasElement, colour: ImageBitmap | undefined, flow: Float32Array, w: number, h: number): void {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  if (colour) ctx.drawImage(colour, 0, 0);
  const n = w * h;
  ctx.strokeStyle = 'rgba(0,0,0,0.75)';
  ctx.lineWidth = 1.5;
  for (let y = ARROW_STEP / 2; y < h; y += ARROW_STEP) {
    for (let x = ARROW_STEP / 2; x < w; x += ARROW_STEP) {
      const i = Math.floor(y) * w + Math.floor(x);
      const dx = flow[i];
      const dy = flow[n + i];
      if (Math.hypot(dx, dy) < 0.5) continue;
      const ex = x + dx;
      const ey = y + dy;
      const a = Math.atan2(dy, dx);
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(ex, ey);
      ctx.lineTo(ex - 5 * Math.cos(a - 0.5), ey - 5 * Math.sin(a - 0.5));
      ctx.moveTo(ex, ey);
      ctx.lineTo(ex - 5 * Math.cos(a + 0.5), ey - 5 * Math.sin(a + 0.5));
      ctx.stroke();
    }
  }
}

export function LivePreview() {
  const project = useProjectStore((s) => s.project);
  const view = usePreviewStore(
    useShallow((s) => ({ frame: s.frame, showFlow: s.showFlow, bitmap: s.bitmap, flow: s.flow, strip: s.strip, ms: s.ms })),
  );
  const failure = useJobStore(useShallow((s) => ({ frame: s.jobs.preview, strip: s.jobs['preview-strip'] })));
  const frameCanvas = useRef<HTMLCanvasElement>(null);
  const flowCanvas = useRef<HTMLCanvasElement>(null);
  const hasImage = project.image !== null;
  const frames = frameCount(project);
  const shown = previewFrame(project, view.frame);

  useEffect(() => (hasImage ? startLivePreview() : undefined), [hasImage]);

  useEffect(() => {
    const canvas = frameCanvas.current;
    if (!canvas || !view.bitmap) return;
    canvas.width = view.bitmap.width;
    canvas.height = view.bitmap.height;
    canvas.getContext('2d')?.drawImage(view.bitmap, 0, 0);
  }, [view.bitmap]);

  useEffect(() => {
    if (view.showFlow && view.flow && flowCanvas.current)
      drawFlow(flowCanvas.current, view.flow.colour, view.flow.data, view.flow.width, view.flow.height);
  }, [view.flow, view.showFlow]);

  if (!hasImage) return <section aria-label="Live preview" data-testid="live-preview" />;
  const failed = [failure.frame, failure.strip].find((j) => j.status === 'error');
  const { setFrame, setShowFlow } = usePreviewStore.getState();
  return (
    <section aria-label="Live preview" data-testid="live-preview" className="live-preview">
      <div className="live-preview-controls">
        <label>
          Frame{' '}
          <input
            type="range"
            min={0}
            max={frames - 1}
            value={shown}
            onChange={(e) => setFrame(Number(e.target.value))}
            aria-label="Preview frame"
          />{' '}
          {shown}/{frames - 1}
        </label>
        <label>
          <input type="checkbox" data-testid="preview-show-flow" checked={view.showFlow} onChange={(e) => setShowFlow(e.target.checked)} />{' '}
          Motion field
        </label>
        {view.ms !== null && <span data-testid="preview-ms">{view.ms.toFixed(0)} ms</span>}
      </div>
      {/* Stacked, each as wide as the panel: side by side they overflowed it (off screen). */}
      <div className="live-preview-views">
        <canvas ref={frameCanvas} data-testid="preview-frame" />
        {view.showFlow && <canvas ref={flowCanvas} data-testid="preview-flow" />}
      </div>
      <div role="list" aria-label="Frames" className="live-preview-strip">
        {view.strip.map((b, i) => (
          <StripThumb key={i} bitmap={b} selected={i === shown} onSelect={() => setFrame(i)} index={i} />
        ))}
      </div>
      {failed &&
        (failed.code === 'nothing-to-animate' ? (
          <p className="hint" data-testid="preview-hint">
            {failed.error}
          </p>
        ) : (
          <p role="alert" data-testid="preview-error">
            {failed.error}
          </p>
        ))}
    </section>
  );
}

function StripThumb({
  bitmap,
  selected,
  onSelect,
  index,
}: {
  bitmap: ImageBitmap;
  selected: boolean;
  onSelect: () => void;
  index: number;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = bitmap.width;
    c.height = bitmap.height;
    c.getContext('2d')?.drawImage(bitmap, 0, 0);
  }, [bitmap]);
  return (
    <canvas
      ref={ref}
      role="listitem"
      aria-label={`Frame ${index}`}
      onClick={onSelect}
      style={{ outline: selected ? '2px solid #39f' : 'none', cursor: 'pointer' }}
    />
  );
}
