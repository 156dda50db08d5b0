/**
 * The result in the main area: the player as large as its pane allows (full screen on
 * request), the export controls under it, and whether the video is kept in this browser.
 */
import { useShallow } from 'zustand/react/shallow';
import { useJobStore } from '../../state/job';
import { useProjectStore } from '../../state/project';
import { useKeptResultStore } from '../../state/savedResult';
import { ExportPanel } from '../export/ExportPanel';
import { Player } from '../player/Player';

export function ResultView() {
  const result = useJobStore((s) => s.result);
  const running = useJobStore((s) => s.jobs.generate.status === 'running');
  const kept = useKeptResultStore(useShallow((s) => ({ status: s.status, message: s.message })));
  const imageId = useProjectStore((s) => s.project.image?.id);
  if (!result) {
    return (
      <section className="result-view empty" aria-label="Result" data-testid="result-view">
        <p className="hint">
          {running ? 'Generating… the video appears here.' : 'No video yet: draw a trajectory and press Generate (G).'}
        </p>
      </section>
    );
  }
  return (
    <section className="result-view" aria-label="Result" data-testid="result-view" data-serial={result.serial}>
      <Player frames={result.frames} width={result.width} height={result.height} serial={result.serial} loop={result.loop} />
      <div className="result-meta">
        <span className="hint-inline" data-testid="result-info">
          {result.width}x{result.height}, {result.frames.length} frames{result.loop ? ', seamless loop' : ''}
          {result.restored ? ' (kept from your last visit)' : ''}
        </span>
        <span
          className="hint-inline"
          data-testid="result-kept"
          data-status={kept.status}
          role={kept.status === 'full' || kept.status === 'error' ? 'alert' : undefined}
        >
          {kept.status === 'saved' ? 'Kept in this browser' : kept.status === 'saving' ? 'Keeping in this browser…' : (kept.message ?? '')}
        </span>
      </div>
      {result.imageId && imageId && result.imageId !== imageId && (
        <p className="job-notice" data-testid="result-other-image" role="status">
          This video was made from the previous photo ({result.imageName}). Generate (G) to animate this one; Undo brings the previous photo
          back.
        </p>
      )}
      <ExportPanel frames={result.frames} width={result.width} height={result.height} imageName={result.imageName} loop={result.loop} />
    </section>
  );
}
