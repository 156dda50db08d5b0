/** Shown before a picture is loaded: drop zone, file picker and the bundled sample pictures. */
import { loadImageFile } from '../state/actions';
import { SAMPLES } from './samples';

export async function loadSample(file: string, name: string): Promise<void> {
  const res = await fetch(`${import.meta.env.BASE_URL}samples/${file}`);
  if (!res.ok) throw new Error(`sample ${file}: HTTP ${res.status}`);
  await loadImageFile(await res.blob(), name);
}

export function EmptyState({ onPick }: { onPick: () => void }) {
  return (
    <div className="empty-state" data-testid="empty-state">
      <h2>Start with a photo</h2>
      <p>
        Drop an image here, paste one (Ctrl/Cmd+V), or{' '}
        <button type="button" className="link" onClick={onPick}>
          choose a file
        </button>
        . Nothing is uploaded: everything stays in this browser.
      </p>
      <p>Or try a sample:</p>
      <div className="samples">
        {SAMPLES.map((s) => (
          <button
            key={s.file}
            type="button"
            className="sample"
            data-testid={`sample-${s.id}`}
            onClick={() => void loadSample(s.file, s.name)}
          >
            <img src={`${import.meta.env.BASE_URL}samples/${s.file}`} alt="" width={128} />
            <span>{s.name}</span>
          </button>
        ))}
      </div>
    </div>
  );
}
