/**
 * LivePreview: while the user drags a point or paints, the classical engine re-solves the dense
 * flow and warps the chosen frame (in the engine worker, so the editor never waits on it).
 *
 * Scheduling: project changes are coalesced to one request per animation frame; while a
 * request is in flight, later changes only mark the preview stale and the newest project is
 * sent when it returns (stale intermediate positions are dropped, never queued). The strip of
 * all frames (a whole job) is refreshed only after the project has been still for STRIP_DELAY_MS.
 * The motion field of the chosen frame is drawn as the Middlebury colour wheel (FlowColour, in
 * the worker) with arrows.
 */
import { useEffect, useRef, useState } from 'react';
import { useProjectStore } from '../../state/project';
import { getCanvasImageData } from '../../state/image';
import { EngineClient } from '../../pipeline/client';
import { isAbort } from '../../errors';
import type { Project } from '../../motion/types';

const STRIP_DELAY_MS = 400;
const STRIP_WIDTH = 72;
const ARROW_STEP = 32;

export interface LivePreviewProps {
  /** Share a client (e.g. with the generate panel); default: one of its own. */
  client?: EngineClient;
}

interface ImageKey {
  key: string;
  data: ImageData;
}

function imageKey(p: Project): string {
  return JSON.stringify([p.image?.id, p.crop, p.canvas]);
}

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

export function LivePreview({ client: given }: LivePreviewProps) {
  const project = useProjectStore((s) => s.project);
  const frames = Math.max(2, project.settings.frames);
  const [frame, setFrame] = useState(frames - 1);
  const [showFlow, setShowFlow] = useState(false);
  const [ms, setMs] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [strip, setStrip] = useState<ImageBitmap[]>([]);
  const frameCanvas = useRef<HTMLCanvasElement>(null);
  const flowCanvas = useRef<HTMLCanvasElement>(null);
  const clientRef = useRef<EngineClient | null>(given ?? null);
  const imageRef = useRef<ImageKey | null>(null);
  const busy = useRef(false);
  const stale = useRef(false);
  const rafId = useRef(0);
  const stripTimer = useRef(0);

  const clampedFrame = Math.min(frame, frames - 1);

  useEffect(() => {
    if (!clientRef.current) clientRef.current = new EngineClient({ onDeviceLost: (e) => setError(e.message) });
    const owned = !given;
    return () => {
      cancelAnimationFrame(rafId.current);
      clearTimeout(stripTimer.current);
      if (owned) {
        clientRef.current?.dispose();
        clientRef.current = null;
      }
    };
  }, [given]);

  useEffect(() => {
    if (!project.image) return;
    const getImage = async (p: Project): Promise<ImageData> => {
      const key = imageKey(p);
      if (imageRef.current?.key !== key) imageRef.current = { key, data: await getCanvasImageData(p) };
      return imageRef.current.data;
    };
    const update = async () => {
      const client = clientRef.current;
      if (!client) return;
      if (busy.current) {
        stale.current = true;
        return;
      }
      busy.current = true;
      stale.current = false;
      const p = useProjectStore.getState().project;
      try {
        const image = await getImage(p);
        const r = await client.previewDetail(p, image, { frame: clampedFrame, withFlow: showFlow });
        const canvas = frameCanvas.current;
        if (canvas) {
          canvas.width = r.frame.width;
          canvas.height = r.frame.height;
          canvas.getContext('2d')?.drawImage(r.frame, 0, 0);
        }
        r.frame.close();
        if (showFlow && r.flow && flowCanvas.current) drawFlow(flowCanvas.current, r.flowColour, r.flow, image.width, image.height);
        r.flowColour?.close();
        setMs(r.ms);
        setError(null);
      } catch (e) {
        if (!isAbort(e)) setError(e instanceof Error ? e.message : String(e));
      } finally {
        busy.current = false;
        if (stale.current) rafId.current = requestAnimationFrame(() => void update());
      }
    };
    cancelAnimationFrame(rafId.current);
    rafId.current = requestAnimationFrame(() => void update());
    // The strip (whole clip) waits until the edit settles.
    clearTimeout(stripTimer.current);
    stripTimer.current = window.setTimeout(async () => {
      const client = clientRef.current;
      if (!client) return;
      try {
        const p = useProjectStore.getState().project;
        const r = await client.previewDetail(p, await getImage(p), { frame: 0, stripWidth: STRIP_WIDTH });
        r.frame.close();
        setStrip((old) => {
          old.forEach((b) => b.close());
          return r.strip;
        });
      } catch (e) {
        if (!isAbort(e)) setError(e instanceof Error ? e.message : String(e));
      }
    }, STRIP_DELAY_MS);
  }, [project, clampedFrame, showFlow]);

  if (!project.image) return <section aria-label="Live preview" data-testid="live-preview" />;
  return (
    <section aria-label="Live preview" data-testid="live-preview" className="live-preview">
      <div style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
        <label>
          Frame{' '}
          <input
            type="range"
            min={0}
            max={frames - 1}
            value={clampedFrame}
            onChange={(e) => setFrame(Number(e.target.value))}
            aria-label="Preview frame"
          />{' '}
          {clampedFrame}/{frames - 1}
        </label>
        <label>
          <input type="checkbox" checked={showFlow} onChange={(e) => setShowFlow(e.target.checked)} /> Motion field
        </label>
        {ms !== null && <span data-testid="preview-ms">{ms.toFixed(0)} ms</span>}
      </div>
      <div style={{ display: 'flex', gap: 8 }}>
        <canvas ref={frameCanvas} data-testid="preview-frame" style={{ maxWidth: '100%' }} />
        {showFlow && <canvas ref={flowCanvas} data-testid="preview-flow" style={{ maxWidth: '100%' }} />}
      </div>
      <div role="list" aria-label="Frames" style={{ display: 'flex', gap: 2, overflowX: 'auto' }}>
        {strip.map((b, i) => (
          <StripThumb key={i} bitmap={b} selected={i === clampedFrame} onSelect={() => setFrame(i)} index={i} />
        ))}
      </div>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}

function StripThumb({ bitmap, selected, onSelect, index }: { bitmap: ImageBitmap; selected: boolean; onSelect: () => void; index: number }) {
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
