/**
 * The predicted motion before it is rendered: each flow f(0->i) as the Middlebury colour wheel
 * (hue = direction, saturation = speed) with arrows of the mean motion over a coarse grid,
 * scrubbable frame by frame. The user renders it as it is, blends it with the classical motion
 * of the same drawing, or predicts again with a new seed. The flows stay on the GPU in the
 * worker; only these pictures came back.
 */
import { useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useJobStore } from '../../state/job';
import { useProjectStore } from '../../state/project';

/** Grid cells between drawn arrows: at most about 24 arrows across, so they stay readable. */
function arrowStep(gw: number): number {
  return Math.max(1, Math.ceil(gw / 24));
}

/** 1, or the factor that brings frame `frame`'s longest arrow down to `longest` canvas pixels. */
export function arrowScale(arrows: Float32Array, frame: number, gw: number, gh: number, longest: number): number {
  let max = 0;
  for (let i = 0; i < gw * gh; i++) {
    const k = (frame * gw * gh + i) * 2;
    const m = Math.hypot(arrows[k], arrows[k + 1]);
    if (Number.isFinite(m)) max = Math.max(max, m);
  }
  return max > longest ? longest / max : 1;
}

/** Draws one flow's colours and arrows on `canvas` (CSS size fixed by the caller). */
function draw(
  canvas: HTMLCanvasElement,
  colour: ImageBitmap,
  arrows: Float32Array,
  frame: number,
  gw: number,
  gh: number,
  w: number,
  h: number,
  step: number,
  scale: number,
): void {
  const g = canvas.getContext('2d');
  if (!g) return;
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.drawImage(colour, 0, 0, canvas.width, canvas.height);
  const sx = canvas.width / w;
  const sy = canvas.height / h;
  g.lineCap = 'round';
  for (let y = 0; y < gh; y += step) {
    for (let x = 0; x < gw; x += step) {
      const i = ((frame * gh + y) * gw + x) * 2;
      const dx = arrows[i];
      const dy = arrows[i + 1];
      if (!Number.isFinite(dx) || !Number.isFinite(dy) || Math.hypot(dx, dy) < 0.5) continue;
      const x0 = ((x + 0.5) * w * sx) / gw;
      const y0 = ((y + 0.5) * h * sy) / gh;
      const x1 = x0 + dx * scale * sx;
      const y1 = y0 + dy * scale * sy;
      const a = Math.atan2(y1 - y0, x1 - x0);
      const head = Math.min(6, Math.hypot(x1 - x0, y1 - y0) / 2);
      for (const [style, width] of [
        ['rgba(0,0,0,0.6)', 3],
        ['#fff', 1.5],
      ] as const) {
        g.strokeStyle = style;
        g.lineWidth = width;
        g.beginPath();
        g.moveTo(x0, y0);
        g.lineTo(x1, y1);
        g.lineTo(x1 - head * Math.cos(a - 0.5), y1 - head * Math.sin(a - 0.5));
        g.moveTo(x1, y1);
        g.lineTo(x1 - head * Math.cos(a + 0.5), y1 - head * Math.sin(a + 0.5));
        g.stroke();
      }
    }
  }
}

export function MotionInspector() {
  const { motion, running } = useJobStore(useShallow((s) => ({ motion: s.motion, running: s.jobs.generate.status === 'running' })));
  const [frame, setFrame] = useState(0);
  const [blend, setBlend] = useState(0);
  const canvas = useRef<HTMLCanvasElement>(null);
  const count = motion?.count ?? 0;
  const shown = Math.min(frame, Math.max(0, count - 1));
  // Arrows longer than two drawn steps are scaled down together (the label says by how much),
  // so wild motion stays legible.
  const step = motion ? arrowStep(motion.gridWidth) : 1;
  const scale = motion
    ? arrowScale(motion.arrows, shown, motion.gridWidth, motion.gridHeight, (2 * step * motion.width) / motion.gridWidth)
    : 1;
  useEffect(() => {
    if (!motion || !canvas.current) return;
    draw(
      canvas.current,
      motion.colours[shown],
      motion.arrows,
      shown,
      motion.gridWidth,
      motion.gridHeight,
      motion.width,
      motion.height,
      step,
      scale,
    );
  }, [motion, shown, step, scale]);
  if (!motion) return null;
  const cssWidth = Math.min(motion.width, 480);
  const cssHeight = Math.round((motion.height * cssWidth) / motion.width);
  const newSeed = () => {
    useProjectStore.getState().setSettings({ seed: Math.floor(Math.random() * 2 ** 32) }, { coalesce: 'new-seed' });
    void useJobStore.getState().generate();
  };
  return (
    <section className="motion-inspector" aria-label="Predicted motion" data-testid="motion-inspector" data-serial={motion.serial}>
      <h3>Predicted motion</h3>
      <p className="hint">
        Colour shows the direction (the wheel's hue) and speed (saturation) of every pixel; arrows show the mean motion. Check it, then
        render it.
      </p>
      <canvas
        ref={canvas}
        data-testid="motion-canvas"
        data-frame={shown + 1}
        width={cssWidth}
        height={cssHeight}
        style={{ width: cssWidth, height: cssHeight }}
      />
      <label className="motion-frame">
        Frame{' '}
        <input
          type="range"
          data-testid="motion-frame"
          min={1}
          max={count}
          step={1}
          value={shown + 1}
          aria-valuetext={`frame ${shown + 1} of ${count}`}
          onChange={(e) => setFrame(e.currentTarget.valueAsNumber - 1)}
        />{' '}
        <output data-testid="motion-frame-label">
          {shown + 1} / {count}
        </output>
        {scale < 1 && (
          <span className="hint-inline" data-testid="motion-arrow-scale">
            arrows at 1:{Math.round(1 / scale)}
          </span>
        )}
      </label>
      <label className="motion-blend" title="Mix in the classical engine's motion of the same drawing">
        Blend with classical motion{' '}
        <input
          type="range"
          data-testid="motion-blend"
          min={0}
          max={100}
          step={5}
          value={Math.round(blend * 100)}
          onChange={(e) => setBlend(e.currentTarget.valueAsNumber / 100)}
        />{' '}
        <output data-testid="motion-blend-label">{Math.round(blend * 100)}%</output>
      </label>
      <div className="generate-row">
        <button
          type="button"
          className="primary"
          data-testid="motion-render"
          disabled={running}
          onClick={() => void useJobStore.getState().renderMotion(blend)}
        >
          Render this motion
        </button>
        <button type="button" data-testid="motion-new-seed" disabled={running} onClick={newSeed}>
          New seed
        </button>
        <button type="button" data-testid="motion-discard" disabled={running} onClick={() => useJobStore.getState().discardMotion()}>
          Discard
        </button>
      </div>
    </section>
  );
}
