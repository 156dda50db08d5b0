/*
 * Offline support: precaches the built app (HTML, JS, CSS, the engine worker, ONNX Runtime's
 * /ort/ wasm files), the sample pictures and the tiny model pack on the first visit, then serves
 * them from the cache, so the classical engine can generate and export with the network off.
 *
 * The list of files and the build version are written into this file at build time by the
 * `precacheManifest` plugin in vite.config.ts (it replaces the two marked literals below); a new
 * build therefore changes this file's bytes, which makes the browser install the new worker.
 * The dev server serves it unchanged (empty list) and the app only registers it in production.
 *
 * Strategy: navigations go to the network first (a new deploy shows at once) and fall back to
 * the cached index.html; every other same-origin GET is answered from the cache first.
 * Cross-origin isolation: every response this worker returns carries COOP/COEP/CORP, so
 * `crossOriginIsolated` (needed by ORT's threaded wasm) also holds for pages served from the
 * cache, whatever headers were stored with them; likewise the CSP, nosniff and Referrer-Policy.
 * Test data (the tiny pack's goldens) is not in the build, so it is never precached.
 */
/* eslint-disable no-restricted-globals */

const PRECACHE_URLS = /* PRECACHE_MANIFEST */ [];
const VERSION = /* BUILD_VERSION */ 'dev';
const CACHE = `motion-i2v-precache-${VERSION}`;
const CACHE_PREFIX = 'motion-i2v-precache-';

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
/** Content-Security-Policy, nosniff, Referrer-Policy: the build writes the preview server's values here. */
const SECURITY_HEADERS = /* SECURITY_HEADERS */ {};

/** A copy of `response` with the isolation and security headers set (opaque and error responses pass as they are). */
function isolated(response) {
  if (!response || response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries(ISOLATION_HEADERS)) headers.set(k, v);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // `cache: 'reload'` skips the HTTP cache so a new version never stores stale bytes.
      await Promise.all(
        PRECACHE_URLS.map(async (url) => {
          if (await cache.match(url, { ignoreVary: true })) return;
          const res = await fetch(new Request(url, { cache: 'reload' }));
          if (!res.ok) throw new Error(`precache ${url}: HTTP ${res.status}`);
          await cache.put(url, res);
        }),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith(CACHE_PREFIX) && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === 'navigate') {
    event.respondWith(
      (async () => {
        try {
          return isolated(await fetch(request));
        } catch (networkError) {
          const cache = await caches.open(CACHE);
          const cached =
            (await cache.match(request, { ignoreSearch: true, ignoreVary: true })) ??
            (await cache.match(new URL('index.html', self.registration.scope).href, { ignoreVary: true }));
          if (cached) return isolated(cached);
          throw networkError;
        }
      })(),
    );
    return;
  }

  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const cached = await cache.match(request, { ignoreSearch: true, ignoreVary: true });
      if (cached) return isolated(cached);
      return isolated(await fetch(request));
    })(),
  );
});

self.addEventListener('message', (event) => {
  // The page asks how much of the precache is stored (for the "ready offline" note).
  if (event.data?.type !== 'precache-status') return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const stored = (await cache.keys()).length;
      event.source?.postMessage({ type: 'precache-status', version: VERSION, stored, total: PRECACHE_URLS.length });
    })(),
  );
});
