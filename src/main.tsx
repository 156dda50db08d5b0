import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { initGpu } from './state/gpu';
import { installDebugHook } from './state/debug';
import { hydrateProject, startAutosave, useAutosaveStore } from './state/persist';
import { useEditorStore } from './state/editor';
import { useJobStore } from './state/job';

initGpu();
// Test hooks (window.__motionI2V, simulated device loss) exist in dev and test builds only: the
// mode is a compile-time constant, so a production build drops the hook.
if (import.meta.env.MODE !== 'production') installDebugHook();
void hydrateProject().then(({ problem, informative }) => {
  // A project that could not be restored has its own notice (with a download); others show here.
  if (problem && !useAutosaveStore.getState().restoreProblem) {
    const repaired = useAutosaveStore.getState().repairs.length > 0;
    useEditorStore.getState().showMessage({
      kind: informative ? 'info' : 'error',
      code: repaired ? 'project-repaired' : informative ? 'project-copy' : 'storage',
      text: problem,
    });
  }
  startAutosave();
  // The last video of this project, kept in this browser, is shown again.
  const id = useAutosaveStore.getState().projectId;
  if (id) void useJobStore.getState().restoreResult(id);
});

// Offline use: public/sw.js precaches the built app, samples and tiny model pack (production builds only).
if (import.meta.env.PROD && 'serviceWorker' in navigator)
  void navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch((e) => console.warn('offline support unavailable:', e));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
