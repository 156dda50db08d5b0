/**
 * Generate panel: engine choice, Generate / Cancel with a progress bar that names the stage,
 * errors in words, then the player and the export controls for the result.
 * The prompt field belongs to the editor; the live preview to the engine's UI.
 */
import { useShallow } from 'zustand/react/shallow';
import { STAGE_LABELS, useJobStore } from '../../state/job';
import { useProjectStore } from '../../state/project';
import { ExportPanel } from '../export/ExportPanel';
import { Player } from '../player/Player';
import './generate.css';

export function GeneratePanel() {
  const job = useJobStore(
    useShallow((s) => ({ status: s.status, engine: s.engine, stage: s.stage, progress: s.progress, error: s.error, result: s.result })),
  );
  const { generate, cancel, setEngine } = useJobStore.getState();
  const hasImage = useProjectStore((s) => s.project.image !== null);
  const running = job.status === 'running';
  const pct = Math.round(job.progress * 100);

  return (
    <section className="panel generate" aria-label="Generate" data-testid="generate-panel">
      <h2>Generate</h2>
      <fieldset className="engine-choice" disabled={running}>
        <legend>Engine</legend>
        <label>
          <input type="radio" name="engine" data-testid="engine-classical" checked={job.engine === 'classical'} onChange={() => setEngine('classical')} /> Classical{' '}
          <span className="hint-inline">instant, no download</span>
        </label>
        <label title="Install a model pack to use the neural engine">
          <input type="radio" name="engine" data-testid="engine-neural" checked={job.engine === 'neural'} disabled onChange={() => setEngine('neural')} /> Neural{' '}
          <span className="hint-inline">install a model pack</span>
        </label>
      </fieldset>

      <div className="generate-row">
        {running ? (
          <button type="button" data-testid="cancel-button" onClick={cancel}>
            Cancel
          </button>
        ) : (
          <button type="button" className="primary" data-testid="generate-button" disabled={!hasImage} onClick={() => void generate()}>
            {job.result ? 'Generate again' : 'Generate'}
          </button>
        )}
        {!hasImage && <span className="hint-inline">Load a picture first.</span>}
      </div>

      {(running || job.status === 'done') && (
        <div className="job-progress" data-testid="job-progress" data-status={job.status} data-progress={job.progress.toFixed(3)}>
          <progress max={1} value={job.progress} aria-label="Generation progress" />
          <span data-testid="job-stage">{running ? `${job.stage ? STAGE_LABELS[job.stage] : 'Starting'}… ${pct}%` : `Done in ${((job.result?.ms ?? 0) / 1000).toFixed(1)} s`}</span>
        </div>
      )}
      {job.status === 'cancelled' && (
        <p className="hint" data-testid="job-cancelled">
          Cancelled. {job.result ? 'The previous video is kept.' : ''}
        </p>
      )}
      {job.status === 'error' && (
        <p className="job-error" role="alert" data-testid="job-error">
          {job.error}
        </p>
      )}

      {job.result && (
        <>
          <Player frames={job.result.frames} width={job.result.width} height={job.result.height} serial={job.result.serial} />
          <ExportPanel frames={job.result.frames} width={job.result.width} height={job.result.height} imageName={job.result.imageName} />
        </>
      )}
    </section>
  );
}
