/**
 * The editor app: toolbar on top, the canvas in the middle, the trajectory list and the
 * Generate panel on the side. Shown only after the autosaved project is restored, so a reload
 * never flashes an empty editor (or autosaves one over the real project).
 */
import { useEffect } from 'react';
import { loadImageFile, openProject } from '../state/actions';
import { useEditorStore, type ToolName } from '../state/editor';
import { useAutosaveStore } from '../state/persist';
import { useProjectStore } from '../state/project';
import { GpuBanner, MessageBanner } from './Banners';
import { EditorCanvas } from './EditorCanvas';
import { EmptyState } from './EmptyState';
import { GeneratePanel } from './generate/GeneratePanel';
import { PackManager } from './packs/PackManager';
import { Toolbar } from './Toolbar';
import { TrajectoryPanel } from './TrajectoryPanel';
import { tools } from './tools';
import { useDropHighlight } from './useDropHighlight';
import './styles.css';

const TOOL_KEYS: Record<string, ToolName> = { t: 'trajectory', b: 'brush', e: 'erase', c: 'crop' };

function isTextField(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  return el instanceof HTMLInputElement && !['range', 'checkbox', 'radio', 'button', 'color', 'file'].includes(el.type);
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

export function App() {
  const hydrated = useProjectStore((s) => s.hydrated);
  const hasImage = useProjectStore((s) => s.project.image !== null);
  const saveStatus = useAutosaveStore((s) => s.status);
  useGlobalShortcuts();
  const drop = useDropHighlight();

  if (!hydrated) {
    return (
      <main className="loading" data-testid="hydrating">
        Restoring your project…
      </main>
    );
  }

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
          <GeneratePanel />
          <PackManager />
        </aside>
      </div>
    </div>
  );
}
