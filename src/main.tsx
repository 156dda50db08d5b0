import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { installDebugHook } from './state/debug';
import { initGpu } from './state/gpu';
import { hydrateProject, startAutosave, useAutosaveStore } from './state/persist';
import { useEditorStore } from './state/editor';

initGpu();
installDebugHook();
void hydrateProject().then(({ problem }) => {
  // A project that could not be restored has its own notice (with a download); others show here.
  if (problem && !useAutosaveStore.getState().restoreProblem) {
    const repaired = useAutosaveStore.getState().repairs.length > 0;
    useEditorStore.getState().showMessage({ kind: repaired ? 'info' : 'error', code: repaired ? 'project-repaired' : 'storage', text: problem });
  }
  startAutosave();
});

// Offline use: public/sw.js precaches the built app, samples and tiny model pack (production builds only).
if (import.meta.env.PROD && 'serviceWorker' in navigator) void navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch((e) => console.warn('offline support unavailable:', e));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
