/** Side panel: one row per trajectory (colour, timing, start/end frame, delete) and the brush. */
import { useShallow } from 'zustand/react/shallow';
import { activeRange } from '../motion/trajectory';
import type { TimingMode, Trajectory } from '../motion/types';
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
    useShallow((s) => ({ trajectories: s.project.trajectories, frames: s.project.settings.frames, brush: s.project.brush, canvas: s.project.canvas })),
  );
  const brushCount = brush.length;
  // With paint on the canvas, unpainted areas are static: a path starting there cannot move.
  const painted = brushCount ? paintedMask(brush, canvas) : null;
  const paintsAnything = painted ? painted.some((v) => v === 1) : false;
  const startsStatic = (t: Trajectory) => {
    if (!painted || !paintsAnything || t.points.length < 2) return false;
    const x = Math.min(canvas.width - 1, Math.max(0, Math.trunc(t.points[0].x)));
    const y = Math.min(canvas.height - 1, Math.max(0, Math.trunc(t.points[0].y)));
    return painted[y * canvas.width + x] === 0;
  };
  const { selectedId, activeId } = useEditorStore(useShallow((s) => ({ selectedId: s.selectedTrajectoryId, activeId: s.activeTrajectoryId })));

  return (
    <section className="panel" aria-label="Trajectories" data-testid="trajectory-panel">
      <h2>Trajectories</h2>
      {trajectories.length === 0 && (
        <p className="hint">
          With the Trajectory tool, click points on the photo to make a path (one click alone is an anchor that holds
          still), press Enter to finish it; or press and drag to sketch one.
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
      <p className="hint" data-testid="brush-summary">
        {brushCount === 0
          ? 'Nothing painted: everything may move.'
          : `${brushCount} stroke${brushCount === 1 ? '' : 's'}: only the tinted region may move.`}
      </p>
      <button type="button" data-testid="clear-brush" disabled={brushCount === 0} onClick={() => useProjectStore.getState().clearBrush()}>
        Clear brush
      </button>
    </section>
  );
}

function TrajectoryRow({ t, index, frames, selected, startsStatic }: { t: Trajectory; index: number; frames: number; selected: boolean; startsStatic: boolean }) {
  // Typing "12" or dragging the colour picker is one undo step per field, not one per change.
  const update = (patch: Partial<Omit<Trajectory, 'id'>>, field: string) =>
    useProjectStore.getState().updateTrajectory(t.id, patch, { coalesce: `${t.id}:${field}` });
  const anchor = t.points.length === 1;
  const range = activeRange(t.timing, frames);
  const setFrame = (which: 'startFrame' | 'endFrame', v: number) => {
    if (!Number.isFinite(v)) return;
    const clamped = Math.min(frames - 1, Math.max(0, Math.round(v)));
    update({ timing: { ...t.timing, [which]: clamped } }, which);
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
          <small> · {t.points.length} point{t.points.length === 1 ? '' : 's'}</small>
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
            <input
              type="number"
              data-testid="start-frame"
              min={0}
              max={frames - 1}
              value={range.start}
              onChange={(e) => setFrame('startFrame', e.currentTarget.valueAsNumber)}
            />
            –
            <input
              type="number"
              data-testid="end-frame"
              min={0}
              max={frames - 1}
              value={range.end}
              onChange={(e) => setFrame('endFrame', e.currentTarget.valueAsNumber)}
            />
          </label>
        </div>
      )}
    </li>
  );
}
