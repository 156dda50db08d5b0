/**
 * Whether this page can work offline: a service worker controls it and has stored its whole
 * precache (public/sw.js answers 'precache-status'). False in dev builds (no worker registered).
 */
import { useEffect, useState } from 'react';

export function useOfflineReady(): boolean {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const sw = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
    if (!sw) return;
    let live = true;
    const onMessage = (e: MessageEvent) => {
      const d = e.data as { type?: string; stored?: number; total?: number } | null;
      if (live && d?.type === 'precache-status') setReady(!!d.total && d.stored === d.total);
    };
    const ask = () => sw.controller?.postMessage({ type: 'precache-status' });
    sw.addEventListener('message', onMessage);
    sw.addEventListener('controllerchange', ask);
    void sw.ready.then(ask);
    return () => {
      live = false;
      sw.removeEventListener('message', onMessage);
      sw.removeEventListener('controllerchange', ask);
    };
  }, []);
  return ready;
}
