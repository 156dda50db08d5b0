/**
 * Model packs panel: the installed packs (name, variant, size; remove; resume an incomplete
 * one) and the ways to install one: the bundled test pack, a URL, or the exporter's output
 * folder picked or dropped. One install at a time, with bytes, rate, time left and Cancel.
 */
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { LocalFile } from '../../models/loader';
import { PRECISIONS } from '../../models/manifest';
import { formatBytes } from '../../models/packErrors';
import { usePacksStore, type InstallTask, type VariantChoice } from '../../state/packs';
import './packs.css';

function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '';
  if (s < 60) return `${Math.ceil(s)} s left`;
  if (s < 3600) return `${Math.ceil(s / 60)} min left`;
  return `${(s / 3600).toFixed(1)} h left`;
}

function fromInput(files: FileList | null): LocalFile[] {
  return [...(files ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/** Files of a drop, folders walked recursively (DataTransferItem.webkitGetAsEntry). */
async function fromDrop(dt: DataTransfer): Promise<LocalFile[]> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return fromInput(dt.files);
  const out: LocalFile[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((ok, bad) => (entry as FileSystemFileEntry).file(ok, bad));
      out.push({ path: entry.fullPath.replace(/^\//, ''), file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, bad) => reader.readEntries(ok, bad));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

function Progress({ task, onCancel }: { task: InstallTask; onCancel: () => void }) {
  const { loadedBytes, totalBytes, bytesPerSecond, etaSeconds, checking, progress } = task;
  const file = progress && 'path' in progress ? progress.path : null;
  return (
    <div className="pack-progress" data-testid="pack-progress">
      <div className="pack-progress-head">
        <span>Installing {task.label}…</span>
        <button type="button" data-testid="pack-cancel" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <progress max={totalBytes || 1} value={loadedBytes} aria-label="Model pack download" />
      <span data-testid="pack-progress-text">
        {totalBytes ? `${formatBytes(loadedBytes)} of ${formatBytes(totalBytes)}` : 'Reading the manifest…'}
        {checking
          ? ' · checking what was kept'
          : bytesPerSecond > 0
            ? ` · ${formatBytes(bytesPerSecond)}/s · ${formatEta(etaSeconds)}`
            : ''}
      </span>
      {file && <span className="pack-file">{file}</span>}
    </div>
  );
}

export function PackManager() {
  const s = usePacksStore(
    useShallow((st) => ({ packs: st.packs, loaded: st.loaded, task: st.task, error: st.error, notice: st.notice, variant: st.variant })),
  );
  const actions = usePacksStore.getState();
  const [url, setUrl] = useState('');
  const [dragging, setDragging] = useState(false);
  const folderInput = useRef<HTMLInputElement>(null);
  const filesInput = useRef<HTMLInputElement>(null);
  const busy = s.task !== null;

  useEffect(() => {
    void usePacksStore.getState().refresh();
    // React has no prop for these; the picker then returns the folder's files with relative paths.
    folderInput.current?.setAttribute('webkitdirectory', '');
    folderInput.current?.setAttribute('directory', '');
  }, []);

  const onDrop = async (e: DragEvent) => {
    // The page itself opens dropped images and projects: a pack dropped here stays here.
    e.preventDefault();
    e.stopPropagation();
    setDragging(false);
    if (busy) return;
    const files = await fromDrop(e.dataTransfer);
    if (files.length) await actions.installFromFiles(files);
  };

  return (
    <section className="panel packs" aria-label="Model packs" data-testid="pack-manager">
      <h2>Model packs</h2>
      {s.loaded && s.packs.length === 0 && !s.task && <p className="hint">No model pack installed. The classical engine needs none.</p>}
      {s.packs.length > 0 && (
        <ul className="pack-list" data-testid="pack-list">
          {s.packs.map((p) => (
            <li key={p.id} className="pack-row" data-testid="pack-row" data-pack-id={p.id} data-state={p.state}>
              <div className="pack-info">
                <span className="pack-name">{p.name}</span>
                <span className="pack-meta">
                  {p.variant} · {formatBytes(p.totalBytes)}
                  {p.state === 'installing' && (
                    <span className="pack-incomplete">
                      {' '}
                      · incomplete ({p.verified.length} of {p.files.length} files)
                    </span>
                  )}
                </span>
                {p.source.kind === 'bundled' && (
                  <span className="hint-inline">Test pack: random weights, proves the pipeline; its motion is noise.</span>
                )}
              </div>
              <div className="pack-actions">
                {p.state === 'installing' && (
                  <button type="button" disabled={busy} onClick={() => void actions.resume(p.id)} data-testid="pack-resume">
                    Resume
                  </button>
                )}
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => void actions.remove(p.id)}
                  data-testid="pack-remove"
                  aria-label={`Remove ${p.name} (${p.variant})`}
                >
                  Remove
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}

      {s.task && <Progress task={s.task} onCancel={actions.cancel} />}
      {s.error && (
        <p className="pack-error" role="alert" data-testid="pack-error">
          {s.error}{' '}
          <button type="button" className="link" onClick={actions.dismiss}>
            Dismiss
          </button>
        </p>
      )}
      {s.notice && !s.error && (
        <p className="pack-notice" data-testid="pack-notice">
          {s.notice}
        </p>
      )}

      <details className="pack-install" open={s.packs.length === 0 || undefined}>
        <summary>Install a pack</summary>
        <label className="pack-variant">
          Variant
          <select
            value={s.variant}
            disabled={busy}
            onChange={(e) => actions.setVariant(e.target.value as VariantChoice)}
            data-testid="pack-variant"
          >
            <option value="auto">Automatic (best this GPU runs)</option>
            {PRECISIONS.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <div className="pack-source">
          <button type="button" disabled={busy} onClick={() => void actions.installBundled()} data-testid="pack-install-tiny">
            Install the test pack
          </button>
          <span className="hint-inline">Tiny, random weights: proves the pipeline, its motion is noise.</span>
        </div>
        <form
          className="pack-source pack-url"
          onSubmit={(e) => {
            e.preventDefault();
            if (url.trim()) void actions.installFromUrl(url.trim());
          }}
        >
          <input
            type="url"
            inputMode="url"
            placeholder="https://…/pack/ (the folder with manifest.json)"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            disabled={busy}
            aria-label="Model pack address"
            data-testid="pack-url"
          />
          <button type="submit" disabled={busy || !url.trim()} data-testid="pack-url-install">
            Download
          </button>
        </form>
        <div
          className={`pack-source pack-drop${dragging ? ' dragging' : ''}`}
          data-testid="pack-drop"
          onDragOver={(e) => {
            e.preventDefault();
            e.stopPropagation();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => void onDrop(e)}
        >
          <span>From this computer: drop the exporter's output folder here, or</span>
          <div className="pack-drop-buttons">
            <button type="button" disabled={busy} onClick={() => folderInput.current?.click()}>
              Choose folder…
            </button>
            <button type="button" disabled={busy} onClick={() => filesInput.current?.click()}>
              Choose files…
            </button>
          </div>
          <input
            ref={folderInput}
            type="file"
            hidden
            data-testid="pack-folder-input"
            onChange={(e) => {
              const files = fromInput(e.target.files);
              e.target.value = '';
              if (files.length) void actions.installFromFiles(files);
            }}
          />
          <input
            ref={filesInput}
            type="file"
            multiple
            hidden
            data-testid="pack-files-input"
            onChange={(e) => {
              const files = fromInput(e.target.files);
              e.target.value = '';
              if (files.length) void actions.installFromFiles(files);
            }}
          />
        </div>
      </details>
    </section>
  );
}
