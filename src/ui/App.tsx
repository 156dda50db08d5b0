/**
 * The editor app: toolbar on top, the canvas in the middle, the trajectory list and the
 * Generate panel on the side. Shown only after the autosaved project is restored, so a reload
 * never flashes an empty editor (or autosaves one over the real project).
 */
import { useEffect, useState } from 'react';
import { loadImageFile, openProject } from '../state/actions';
import { useEditorStore, type ToolName } from '../state/editor';
import { restoreProblemBlob, startFresh, useAutosaveStore } from '../state/persist';
import { useProjectStore } from '../state/project';
import { GpuBanner, MessageBanner } from './Banners';
import { EditorCanvas } from './EditorCanvas';
import { EmptyState } from './EmptyState';
import { GeneratePanel } from './generate/GeneratePanel';
import { PackManager } from './packs/PackManager';
import { Toolbar } from './Toolbar';
import { TrajectoryPanel } from './TrajectoryPanel';
import { tools } from './tools';
import { VideoPanel } from './v2v/VideoPanel';
import { isVideoFile, loadVideoFile } from '../state/videoActions';
import { useDropHighlight } from './useDropHighlight';
import './styles.css';

const TOOL_KEYS: Record<string, ToolName> = { t: 'trajectory', b: 'brush', e: 'erase', c: 'crop' };

function isTextField(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  return el instanceof HTMLInputElement && !['range', 'checkbox', 'radio', 'button', 'color', 'file'].includes(el.type);
}

/** Buttons, links and form fields act on Enter/Space themselves; canvas tools must not take those keys from them. */
function isActivatable(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.closest('button, a[href], input, select, textarea, summary, [role="button"], [role="radio"], [role="checkbox"], [contenteditable="true"]') !== null;
}

function isProjectFile(f: File): boolean {
  return f.type === 'application/json' || f.name.toLowerCase().endsWith('.json');
}

function useGlobalShortcuts() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTextField(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      const store = useProjectStore.getState();
      const editor = useEditorStore.getState();
      const tool = tools[editor.tool];
      if (mod && e.key.toLowerCase() === 'z') {
        e.preventDefault();
        tool.cancel();
        if (e.shiftKey) store.redo();
        else store.undo();
        return;
      }
      if (mod && e.key.toLowerCase() === 'y') {
        e.preventDefault();
        tool.cancel();
        store.redo();
        return;
      }
      if (mod || e.altKey) return;
      if ((e.key === 'Enter' || e.key === ' ') && isActivatable(e.target)) return;
      if (tool.onKeyDown(e.key)) {
        e.preventDefault();
        return;
      }
      const next = TOOL_KEYS[e.key.toLowerCase()];
      if (next) {
        tool.cancel();
        editor.setTool(next);
      }
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isTextField(e.target)) return;
      const file = [...(e.clipboardData?.files ?? [])][0];
      if (!file) return;
      e.preventDefault();
      if (isProjectFile(file)) void openProject(file);
      else void loadImageFile(file, file.name || 'pasted image');
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('paste', onPaste);
    };
  }, []);
}

/** Seconds on "Restoring…" before the app offers to start fresh instead. */
const SLOW_RESTORE_MS = 2500;

function Restoring() {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setSlow(true), SLOW_RESTORE_MS);
    return () => clearTimeout(t);
  }, []);
  return (
    <main className="loading" data-testid="hydrating">
      <p>Restoring your project…</p>
      {slow && (
        <p data-testid="slow-restore">
          This is taking long.{' '}
          <button type="button" data-testid="start-fresh" onClick={() => void startFresh()}>
            Start a new project
          </button>{' '}
          (the saved one stays stored in this browser; nothing is deleted)
        </p>
      )}
    </main>
  );
}

function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A stored project that could not be restored: it is kept; offer it as a file. */
function RestoreProblemNotice() {
  const problem = useAutosaveStore((s) => s.restoreProblem);
  if (!problem) return null;
  return (
    <div className="banner warn" role="alert" data-testid="restore-problem">
      <span>
        Your saved project could not be restored ({problem.text}). It is still stored in this browser, unchanged, with its
        photo.
      </span>{' '}
      <button type="button" data-testid="download-autosave" onClick={() => downloadBlob(restoreProblemBlob(problem), 'motion-i2v-autosave.json')}>
        Download it
      </button>
      <button type="button" aria-label="Dismiss" onClick={() => useAutosaveStore.setState({ restoreProblem: null })}>
        ×
      </button>
    </div>
  );
}

export function App() {
  const hydrated = useProjectStore((s) => s.hydrated);
  const hasImage = useProjectStore((s) => s.project.image !== null);
  const saveStatus = useAutosaveStore((s) => s.status);
  useGlobalShortcuts();
  const drop = useDropHighlight();

  if (!hydrated) return <Restoring />;

  return (
    <div
      className="app"
      data-testid="app"
      data-dragging={drop.dragging || undefined}
      onDragEnter={drop.onDragEnter}
      onDragLeave={drop.onDragLeave}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes('Files')) e.preventDefault();
      }}
      onDrop={(e) => {
        drop.reset();
        const file = e.dataTransfer.files[0];
        if (!file) return;
        e.preventDefault();
        if (isProjectFile(file)) void openProject(file);
        else if (isVideoFile(file)) void loadVideoFile(file, file.name);
        else void loadImageFile(file, file.name);
      }}
    >
      <header className="app-header">
        <h1>Motion-I2V Web</h1>
        <span className="save-status" data-testid="save-status" data-status={saveStatus}>
          {saveStatus === 'saved' ? 'Saved in this browser' : saveStatus === 'pending' || saveStatus === 'saving' ? 'Saving…' : saveStatus === 'error' ? 'Autosave failed' : ''}
        </span>
        <GpuBanner />
      </header>
      <Toolbar />
      <RestoreProblemNotice />
      <MessageBanner />
      <div className="workspace">
        <main className="canvas-area">
          {hasImage ? (
            <EditorCanvas />
          ) : (
            <EmptyState
              // "choose a file" reuses the toolbar's file input.
              onPick={() => (document.querySelector('[data-testid="image-input"]') as HTMLInputElement | null)?.click()}
            />
          )}
        </main>
        <aside className="side">
          <TrajectoryPanel />
          <VideoPanel />
          <GeneratePanel />
          <PackManager />
        </aside>
      </div>
    </div>
  );
}
