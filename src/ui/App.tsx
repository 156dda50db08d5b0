/**
 * The editor app: toolbar on top, the main area (editor, result, or both side by side) in the
 * middle, the trajectory list and the Generate panel on the side. Shown only after the
 * autosaved project is restored, so a reload never flashes an empty editor (or autosaves one
 * over the real project). The window never scrolls: each pane fits or scrolls itself.
 *
 * Keyboard: G (or Ctrl+Enter) Generate, Esc cancels it, K or space play/pause, X export,
 * V next view, F full screen, T/B/E/C tools, Ctrl+Z / Shift+Ctrl+Z / Ctrl+Y undo/redo.
 */
import { useEffect, useRef, useState } from 'react';
import { loadImageFile, openProject } from '../state/actions';
import { MAIN_VIEWS, useEditorStore, type MainView, type ToolName } from '../state/editor';
import { exportResult } from '../state/export';
import { isRunning, useJobStore } from '../state/job';
import { restoreProblemBlob, startFresh, useAutosaveStore } from '../state/persist';
import { useProjectStore } from '../state/project';
import { GpuBanner, MessageBanner } from './Banners';
import { EditorCanvas } from './EditorCanvas';
import { download } from './download';
import { EmptyState } from './EmptyState';
import { toggleFullscreen } from './player/Player';
import { ResultView } from './result/ResultView';
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
  return (
    el.closest(
      'button, a[href], input, select, textarea, summary, [role="button"], [role="radio"], [role="checkbox"], [contenteditable="true"]',
    ) !== null
  );
}

function isProjectFile(f: File): boolean {
  return f.type === 'application/json' || f.name.toLowerCase().endsWith('.json');
}

function useGlobalShortcuts() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      // Ctrl/Cmd+Enter generates from anywhere, the prompt field included.
      if (mod && e.key === 'Enter') {
        e.preventDefault();
        void useJobStore.getState().generate();
        return;
      }
      if (isTextField(e.target)) return;
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
      // Esc cancels a running Generate (and still cancels a drag in progress, below).
      if (e.key === 'Escape' && isRunning('generate')) useJobStore.getState().cancel();
      if (tool.onKeyDown(e.key)) {
        e.preventDefault();
        return;
      }
      if (e.shiftKey) return;
      const key = e.key.toLowerCase();
      if (key === 'g') {
        e.preventDefault();
        void useJobStore.getState().generate();
        return;
      }
      if (key === 'k' || e.key === ' ') {
        if (!useJobStore.getState().result) return;
        e.preventDefault();
        editor.setPlaying((p) => !p);
        return;
      }
      if (key === 'x') {
        if (exportResult(download)) e.preventDefault();
        return;
      }
      if (key === 'v') {
        e.preventDefault();
        editor.setView(MAIN_VIEWS[(MAIN_VIEWS.indexOf(editor.view) + 1) % MAIN_VIEWS.length]);
        return;
      }
      if (key === 'f') {
        const player = document.querySelector<HTMLElement>('[data-testid="player"]');
        if (!player) return;
        e.preventDefault();
        toggleFullscreen(player);
        return;
      }
      const next = TOOL_KEYS[key];
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
      <span>Your saved project could not be restored ({problem.text}). It is still stored in this browser, unchanged, with its photo.</span>{' '}
      <button
        type="button"
        data-testid="download-autosave"
        onClick={() => downloadBlob(restoreProblemBlob(problem), 'motion-i2v-autosave.json')}
      >
        Download it
      </button>
      <button type="button" aria-label="Dismiss" onClick={() => useAutosaveStore.setState({ restoreProblem: null })}>
        ×
      </button>
    </div>
  );
}

const VIEW_LABELS: Record<MainView, string> = { editor: 'Editor', split: 'Side by side', result: 'Result' };

/**
 * The main area: the editor, the result, or both side by side. A new result never moves the
 * editor: from the editor alone it switches to side by side.
 */
function MainArea({ hasImage }: { hasImage: boolean }) {
  const view = useEditorStore((s) => s.view);
  const serial = useJobStore((s) => s.result?.serial ?? 0);
  const seen = useRef(serial);
  useEffect(() => {
    if (serial === seen.current) return;
    seen.current = serial;
    if (serial && useEditorStore.getState().view === 'editor') useEditorStore.getState().setView('split');
  }, [serial]);
  const editor = (
    <div className="pane editor-pane" data-testid="editor-pane">
      {hasImage ? (
        <EditorCanvas />
      ) : (
        <EmptyState
          // "choose a file" reuses the toolbar's file input.
          onPick={() => (document.querySelector('[data-testid="image-input"]') as HTMLInputElement | null)?.click()}
        />
      )}
    </div>
  );
  return (
    <main className="canvas-area" data-view={view}>
      <fieldset className="view-switch" aria-label="Main view (V)">
        {MAIN_VIEWS.map((v) => (
          <button
            key={v}
            type="button"
            aria-pressed={view === v}
            className={view === v ? 'active' : undefined}
            data-testid={`view-${v}`}
            title={`${VIEW_LABELS[v]} (V cycles the views)`}
            onClick={() => useEditorStore.getState().setView(v)}
          >
            {VIEW_LABELS[v]}
          </button>
        ))}
      </fieldset>
      <div className="panes">
        {view !== 'result' && editor}
        {view !== 'editor' && (
          <div className="pane result-pane" data-testid="result-pane">
            <ResultView />
          </div>
        )}
      </div>
    </main>
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
          {saveStatus === 'saved'
            ? 'Saved in this browser'
            : saveStatus === 'pending' || saveStatus === 'saving'
              ? 'Saving…'
              : saveStatus === 'error'
                ? 'Autosave failed'
                : ''}
        </span>
        <GpuBanner />
      </header>
      <Toolbar />
      <RestoreProblemNotice />
      <MessageBanner />
      <div className="workspace">
        <MainArea hasImage={hasImage} />
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
