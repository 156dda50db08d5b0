/** The live preview: the component, and a stand-alone mount for hosts outside a React tree (tests, debugging). */
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { LivePreview } from './LivePreview';

export { LivePreview };

/** Renders a LivePreview into `host`; returns the unmount function. */
export function mountLivePreview(host: HTMLElement): () => void {
  const root = createRoot(host);
  root.render(createElement(LivePreview));
  return () => root.unmount();
}
