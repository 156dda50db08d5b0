/**
 * Autosave: the project document (not the history, not the image bytes, which are already in
 * IndexedDB under their own key) is written to IndexedDB shortly after every change outside a
 * gesture; `hydrateProject()` restores it at start-up, and the UI waits for it before showing
 * the editor, so a reload shows exactly what was there.
 */
import { create } from 'zustand';
import { get, set } from 'idb-keyval';
import { parseProject } from '../motion/project';
import { emptyProject } from '../motion/types';
import { appDb, deleteUnusedImages } from './image';
import { useProjectStore } from './project';

const AUTOSAVE_KEY = 'project:autosave';
/** Wait this long after the last change before writing (ms). */
export const AUTOSAVE_DELAY_MS = 300;

export type SaveStatus = 'idle' | 'pending' | 'saving' | 'saved' | 'error';

export const useAutosaveStore = create<{ status: SaveStatus; error: string | null }>()(() => ({
  status: 'idle',
  error: null,
}));

interface AutosaveRecord {
  savedAt: string;
  project: unknown;
}

/** Restores the autosaved project; a damaged record is dropped (with a notice) rather than blocking the app. */
export async function hydrateProject(): Promise<{ restored: boolean; problem: string | null }> {
  const store = useProjectStore.getState();
  let problem: string | null = null;
  let restored = false;
  try {
    const record = await get<AutosaveRecord>(AUTOSAVE_KEY, appDb);
    if (record) {
      const project = parseProject(record.project);
      store.resetProject(project, { hydrated: true });
      restored = true;
    }
  } catch (e) {
    problem = `The autosaved project could not be restored (${e instanceof Error ? e.message : String(e)}); starting empty.`;
  }
  if (!restored) store.resetProject(emptyProject(), { hydrated: true });
  const image = useProjectStore.getState().project.image;
  // Originals that no project refers to any more (older images) are removed.
  void deleteUnusedImages(image ? [image.id] : []).catch(() => undefined);
  return { restored, problem };
}

export async function saveNow(): Promise<void> {
  const { project, gestureBase } = useProjectStore.getState();
  useAutosaveStore.setState({ status: 'saving' });
  try {
    await set(AUTOSAVE_KEY, { savedAt: new Date().toISOString(), project: gestureBase ?? project } satisfies AutosaveRecord, appDb);
    if (useAutosaveStore.getState().status === 'saving') useAutosaveStore.setState({ status: 'saved', error: null });
  } catch (e) {
    useAutosaveStore.setState({ status: 'error', error: `Autosave failed: ${String(e)}` });
  }
}

/** Starts writing the project after changes; returns a stop function. */
export function startAutosave(): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const unsubscribe = useProjectStore.subscribe((state, prev) => {
    if (!state.hydrated || state.gestureBase) return;
    if (state.project === prev.project && prev.gestureBase === null) return;
    useAutosaveStore.setState({ status: 'pending' });
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void saveNow();
    }, AUTOSAVE_DELAY_MS);
  });
  // Closing the tab right after an edit: start the write now (IndexedDB usually completes it).
  const flush = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    void saveNow();
  };
  window.addEventListener('pagehide', flush);
  return () => {
    unsubscribe();
    window.removeEventListener('pagehide', flush);
    if (timer) clearTimeout(timer);
  };
}
