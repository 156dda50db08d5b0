import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { installDebugHook } from './state/debug';
import { initGpu } from './state/gpu';
import { hydrateProject, startAutosave } from './state/persist';
import { useEditorStore } from './state/editor';

initGpu();
installDebugHook();
void hydrateProject().then(({ problem }) => {
  if (problem) useEditorStore.getState().showMessage({ kind: 'error', code: 'storage', text: problem });
  startAutosave();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
