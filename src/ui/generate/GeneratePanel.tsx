/**
 * Generate panel: prompt, engine choice, clip settings, Generate / Cancel with a progress bar
 * that names the stage, errors in words, and the live preview. The result itself (player,
 * export) is shown in the main area (ui/result/ResultView).
 */
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useGpuStore } from '../../state/gpu';
import { stageLabel, useJobStore } from '../../state/job';
import { useProjectStore } from '../../state/project';
import { LivePreview } from '../preview/LivePreview';
import { ClipSettings } from './ClipSettings';
import { MotionInspector } from './MotionInspector';
import { EngineChoice, NeuralSettings } from './NeuralSettings';
import { useOfflineReady } from './useOfflineReady';
import './generate.css';
import { singleClick } from '../singleClick';

/**
 * Live preview switch. 'auto' = on with a hardware GPU, off on a software adapter (SwiftShader),
 * where one preview update costs seconds and its frame strip a whole job, which would slow the
 * editor and delay Generate. The preview shares the job's engine worker and pauses during a job.
 */
function LivePreviewSection({ running }: { running: boolean }) {
  const [choice, setChoice] = useState<'auto' | boolean>('auto');
  const gpu = useGpuStore(useShallow((s) => ({ status: s.status, fallback: s.isFallbackAdapter })));
  const on = choice === 'auto' ? gpu.status === 'ready' && !gpu.fallback : choice;
  return (
    <div className="live-preview-section">
      <label title={gpu.fallback ? 'Software GPU: each preview update takes seconds' : undefined}>
        <input type="checkbox" data-testid="live-preview-toggle" checked={on} onChange={(e) => setChoice(e.target.checked)} /> Live preview
        {gpu.fallback && <span className="hint-inline"> (slow on this software GPU)</span>}
      </label>
      {on && (running ? <p className="hint">Preview paused while generating.</p> : <LivePreview />)}
    </div>
  );
}

function formatEta(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function GeneratePanel() {
  const job = useJobStore(
    useShallow((s) => ({
      ...s.jobs.generate,
      neural: s.engines.motion === 'neural' || s.engines.render === 'neural',
      predictFirst: s.engines.motion === 'neural' && s.inspectMotion,
      result: s.result,
    })),
  );
  const { generate, cancel } = useJobStore.getState();
  const hasImage = useProjectStore((s) => s.project.image !== null);
  // Video to video takes its motion from the video: no prediction to check first.
  const fromVideo = useProjectStore((s) => !!s.project.video);
  const prompt = useProjectStore((s) => s.project.settings.prompt);
  const running = job.status === 'running';
  const pct = Math.round(job.progress * 100);
  const offlineReady = useOfflineReady();

  return (
    <section className="panel generate" aria-label="Generate" data-testid="generate-panel">
      <h2>
        Generate
        {offlineReady && (
          <span
            className="offline-ready"
            data-testid="offline-ready"
            title="The app, the sample pictures and the classical engine are stored in this browser"
          >
            works offline
          </span>
        )}
      </h2>
      <label className="prompt-field">
        Prompt <span className="hint-inline">(guides the neural engine; the classical one ignores it)</span>
        <textarea
          data-testid="prompt"
          rows={2}
          value={prompt}
          placeholder="e.g. a car driving along a country road"
          onChange={(e) => useProjectStore.getState().setSettings({ prompt: e.currentTarget.value }, { coalesce: 'prompt' })}
        />
      </label>
      <EngineChoice disabled={running} />
      <ClipSettings disabled={running} />
      {job.neural && <NeuralSettings />}

      <div className="generate-row">
        {running ? (
          <button type="button" data-testid="cancel-button" onClick={singleClick(() => cancel())} title="Cancel (Esc)">
            Cancel
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            data-testid="generate-button"
            disabled={!hasImage}
            onClick={singleClick(() => void generate())}
            title="Generate (G, or Ctrl+Enter)"
            aria-keyshortcuts="G Control+Enter"
          >
            {job.predictFirst && !fromVideo ? 'Predict motion' : job.result ? 'Generate again' : 'Generate'}
          </button>
        )}
        {!hasImage && <span className="hint-inline">Load a picture first.</span>}
      </div>

      {(running || job.status === 'done') && (
        <div className="job-progress" data-testid="job-progress" data-status={job.status} data-progress={job.progress.toFixed(3)}>
          <progress max={1} value={job.progress} aria-label="Generation progress" />
          <span data-testid="job-stage">
            {running
              ? `${stageLabel(job.stage)}${job.detail ? `: ${job.detail}` : ''}${job.step ? `, step ${job.step.k} of ${job.step.n}` : ''}… ${pct}%${job.etaMs !== null ? `, about ${formatEta(job.etaMs)} left` : ''}`
              : `Done in ${((job.ms ?? 0) / 1000).toFixed(1)} s`}
          </span>
        </div>
      )}
      {job.status === 'cancelled' && (
        <p className="hint" data-testid="job-cancelled">
          Cancelled. {job.result ? 'The previous video is kept.' : ''}
        </p>
      )}
      {job.status === 'done' && job.notice && (
        <p className="job-notice" role="status" data-testid="job-notice">
          {job.notice}
        </p>
      )}
      {job.status === 'error' && (
        <p className="job-error" role="alert" data-testid="job-error">
          {job.error}
        </p>
      )}

      <MotionInspector />

      <LivePreviewSection running={running} />
    </section>
  );
}
