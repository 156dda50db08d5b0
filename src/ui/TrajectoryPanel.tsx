/** Side panel: one row per trajectory (colour, timing, start/end frame, delete) and the brush. */
import { memo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { MotionMode, TimingMode, Trajectory } from '../motion/types';
import { useEditorStore } from '../state/editor';
import { useProjectStore } from '../state/project';
import { paintedMask } from './overlay';

const TIMING_LABELS: Record<TimingMode, string> = {
  reference: 'Per point (reference)',
  'constant-speed': 'Constant speed',
  'ease-in-out': 'Ease in/out',
};

export function TrajectoryPanel() {
  const { trajectories, frames, brush, canvas } = useProjectStore(
    useShallow((s) => ({
      trajectories: s.project.trajectories,
      frames: s.project.settings.frames,
      brush: s.project.brush,
      canvas: s.project.canvas,
    })),
  );
  const brushCount = brush.length;
  // With paint on the canvas, unpainted areas are static: a path starting there cannot move.
  const painted = brushCount ? paintedMask(brush, canvas) : null;
  let paintedPixels = 0;
  if (painted) for (let i = 0; i < painted.length; i++) paintedPixels += painted[i];
  const paintsAnything = paintedPixels > 0;
  const paintedShare = painted ? paintedPixels / painted.length : 0;
  const startsStatic = (t: Trajectory) => {
    if (!painted || !paintsAnything || t.points.length < 2) return false;
    const x = Math.min(canvas.width - 1, Math.max(0, Math.trunc(t.points[0].x)));
    const y = Math.min(canvas.height - 1, Math.max(0, Math.trunc(t.points[0].y)));
    return painted[y * canvas.width + x] === 0;
  };
  const { selectedId, activeId } = useEditorStore(
    useShallow((s) => ({ selectedId: s.selectedTrajectoryId, activeId: s.activeTrajectoryId })),
  );

  return (
    <section className="panel" aria-label="Trajectories" data-testid="trajectory-panel">
      <h2>Trajectories</h2>
      {trajectories.length === 0 && (
        <p className="hint">
          With the Trajectory tool, click points on the photo to make a path (one click alone is an anchor that holds still), press Enter to
          finish it; or press and drag to sketch one.
        </p>
      )}
      {activeId && (
        <p className="hint drawing" data-testid="drawing-hint">
          Drawing: click to add points.{' '}
          <button type="button" data-testid="finish-trajectory" onClick={() => useEditorStore.getState().setActiveTrajectory(null)}>
            Finish (Enter)
          </button>
        </p>
      )}
      <ol className="trajectories">
        {trajectories.map((t, i) => (
          <TrajectoryRow key={t.id} t={t} index={i} frames={frames} selected={t.id === selectedId} startsStatic={startsStatic(t)} />
        ))}
      </ol>
      <h2>Motion brush</h2>
      <p className="hint" data-testid="brush-summary" data-painted={paintedShare.toFixed(4)}>
        {!paintsAnything
          ? brushCount === 0
            ? 'Nothing painted: everything may move.'
            : 'Nothing painted (all paint erased): everything may move.'
          : `${formatShare(paintedShare)} of the picture painted: only the tinted region may move.`}
      </p>
      <button type="button" data-testid="clear-brush" disabled={brushCount === 0} onClick={() => useProjectStore.getState().clearBrush()}>
        Clear brush
      </button>
    </section>
  );
}

/** A painted share for people: "all", "less than 1 %", or a whole percentage. */
function formatShare(f: number): string {
  if (f >= 1) return 'All';
  if (f < 0.01) return 'Less than 1 %';
  return `${Math.min(99, Math.round(f * 100))} %`;
}

/** One row; memoised so an edit to one trajectory re-renders only its row (hundreds of rows stay responsive). */
const TrajectoryRow = memo(function TrajectoryRow({
  t,
  index,
  frames,
  selected,
  startsStatic,
}: {
  t: Trajectory;
  index: number;
  frames: number;
  selected: boolean;
  startsStatic: boolean;
}) {
  // Typing "12" or dragging the colour picker is one undo step per field, not one per change.
  const update = (patch: Partial<Omit<Trajectory, 'id'>>, field: string) =>
    useProjectStore.getState().updateTrajectory(t.id, patch, { coalesce: `${t.id}:${field}` });
  const anchor = t.points.length === 1;
  // The fields show what is stored. The typed value wins; the other end follows it, so the
  // pair is always in order (what restore and open accept).
  const setFrame = (which: 'startFrame' | 'endFrame', v: number) => {
    if (!Number.isFinite(v)) return;
    const value = Math.min(frames - 1, Math.max(0, Math.round(v)));
    const timing =
      which === 'startFrame'
        ? { ...t.timing, startFrame: value, endFrame: Math.max(value, t.timing.endFrame) }
        : { ...t.timing, endFrame: value, startFrame: Math.min(value, t.timing.startFrame) };
    update({ timing }, 'frames');
  };
  return (
    <li
      className={`trajectory-row${selected ? ' selected' : ''}`}
      data-testid="trajectory-row"
      data-trajectory-id={t.id}
      onClick={() => useEditorStore.getState().select(t.id, null)}
    >
      <div className="row-head">
        <input
          type="color"
          aria-label={`Colour of trajectory ${index + 1}`}
          value={/^#[0-9a-f]{6}$/i.test(t.color) ? t.color : '#ff0000'}
          onChange={(e) => update({ color: e.currentTarget.value }, 'color')}
        />
        <span className="name">
          {anchor ? 'Anchor' : 'Trajectory'} {index + 1}
          <small>
            {' '}
            · {t.points.length} point{t.points.length === 1 ? '' : 's'}
          </small>
        </span>
        <button
          type="button"
          className="delete"
          data-testid="delete-trajectory"
          aria-label={`Delete trajectory ${index + 1}`}
          onClick={(e) => {
            e.stopPropagation();
            const ed = useEditorStore.getState();
            if (ed.activeTrajectoryId === t.id) ed.setActiveTrajectory(null);
            if (ed.selectedTrajectoryId === t.id) ed.select(null);
            useProjectStore.getState().removeTrajectory(t.id);
          }}
        >
          Delete
        </button>
      </div>
      {startsStatic && (
        <p className="row-warning" data-testid="starts-static">
          Starts outside the painted region, so it will not move. Paint over its start or clear the brush.
        </p>
      )}
      <div className="row-timing">
        <label title="How the painted patch under this path's start moves, whatever mode it was painted with (classical engine).">
          Its patch moves{' '}
          <select
            data-testid="trajectory-motion"
            aria-label={`How the patch under trajectory ${index + 1} moves`}
            value={t.motion ?? ''}
            onChange={(e) => {
              const v = e.currentTarget.value;
              update({ motion: v === '' ? undefined : (v as MotionMode) }, 'motion');
            }}
          >
            <option value="">as painted</option>
            <option value="fluid">Fluid</option>
            <option value="rigid">Rigid</option>
            <option value="shape">Shape</option>
          </select>
        </label>
      </div>
      {!anchor && (
        <div className="row-timing">
          <label>
            Timing{' '}
            <select
              data-testid="timing-mode"
              value={t.timing.mode}
              onChange={(e) => update({ timing: { ...t.timing, mode: e.currentTarget.value as TimingMode } }, 'mode')}
            >
              {(Object.keys(TIMING_LABELS) as TimingMode[]).map((m) => (
                <option key={m} value={m}>
                  {TIMING_LABELS[m]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Frames{' '}
            <FrameInput
              testId="start-frame"
              label={`First frame of trajectory ${index + 1}`}
              value={t.timing.startFrame}
              frames={frames}
              ordered={(v) => v <= t.timing.endFrame}
              commit={(v) => setFrame('startFrame', v)}
            />
            –
            <FrameInput
              testId="end-frame"
              label={`Last frame of trajectory ${index + 1}`}
              value={t.timing.endFrame}
              frames={frames}
              ordered={(v) => v >= t.timing.startFrame}
              commit={(v) => setFrame('endFrame', v)}
            />
          </label>
        </div>
      )}
    </li>
  );
});

/**
 * A frame number field. A value in order with the other end is stored as it is typed; one that
 * is not (typing "12" passes through "1") stays a draft until the field loses focus or Enter,
 * then it is stored with the other end following it. The field always shows the stored value
 * otherwise, so what the panel shows is what is saved.
 */
function FrameInput({
  testId,
  label,
  value,
  frames,
  ordered,
  commit,
}: {
  testId: string;
  label: string;
  value: number;
  frames: number;
  ordered: (v: number) => boolean;
  commit: (v: number) => void;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const finish = () => {
    if (draft === null) return;
    const v = Number(draft);
    setDraft(null);
    if (draft.trim() !== '' && Number.isFinite(v)) commit(v);
  };
  return (
    <input
      type="number"
      data-testid={testId}
      aria-label={label}
      aria-invalid={draft !== null}
      min={0}
      max={frames - 1}
      value={draft ?? value}
      onChange={(e) => {
        const text = e.currentTarget.value;
        const v = e.currentTarget.valueAsNumber;
        if (Number.isFinite(v) && ordered(Math.min(frames - 1, Math.max(0, Math.round(v))))) {
          setDraft(null);
          commit(v);
        } else setDraft(text);
      }}
      onBlur={finish}
      onKeyDown={(e) => {
        if (e.key === 'Enter') finish();
      }}
    />
  );
}
