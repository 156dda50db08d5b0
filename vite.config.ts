import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { readFileSync, readdirSync, mkdirSync, copyFileSync, writeFileSync, statSync, existsSync, rmSync } from 'node:fs';
import { join, resolve, relative, sep } from 'node:path';
import { createHash } from 'node:crypto';

/** Cross-origin isolation: needed for SharedArrayBuffer (multi-threaded ORT wasm). */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Content-Security-Policy of the app (production: preview server and service worker; dev: the
 * app's pages). Scripts only from our origin; WebAssembly compilation ('wasm-unsafe-eval', not
 * 'unsafe-eval') for ONNX Runtime; workers from our origin and blob: (ORT's proxy worker);
 * connections to our origin and any https URL, because the user may install a model pack from
 * any https host. No inline script anywhere; styles from our files (React sets style
 * properties through the CSSOM, which CSP does not govern).
 */
export function contentSecurityPolicy(options: { dev?: boolean; scriptHashes?: string[] } = {}): string {
  const script = ["'self'", "'wasm-unsafe-eval'", ...(options.scriptHashes ?? []).map((h) => `'${h}'`)];
  return [
    "default-src 'self'",
    `script-src ${script.join(' ')}`,
    "worker-src 'self' blob:",
    "connect-src 'self' https: blob:",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    // The dev server injects CSS modules as <style> elements; the production build links files.
    `style-src 'self'${options.dev ? " 'unsafe-inline'" : ''}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const securityHeaders = {
  'Content-Security-Policy': contentSecurityPolicy(),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/**
 * The React plugin's dev preamble is an inline module script; in dev the CSP allows exactly that
 * script by its hash (nothing else inline runs). The production build has no inline script.
 */
const devPreambleHash = `sha256-${createHash('sha256').update(react.preambleCode.replace('__BASE__', '/')).digest('base64')}`;

/**
 * Dev server: security headers on every response except the module-test harness pages under
 * /e2e/ (tests inject setup scripts there).
 */
function devSecurityHeaders(): Plugin {
  const dev = { ...securityHeaders, 'Content-Security-Policy': contentSecurityPolicy({ dev: true, scriptHashes: [devPreambleHash] }) };
  return {
    name: 'dev-security-headers',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!(req.url ?? '').startsWith('/e2e/')) for (const [k, v] of Object.entries(dev)) res.setHeader(k, v);
        next();
      });
    },
  };
}

/**
 * Test data stays out of the production build (and so out of the service worker's precache):
 * the tiny pack's PyTorch goldens are read by the browser tests from the dev server only.
 */
export const TEST_ONLY_PUBLIC_DIRS = ['models/tiny/goldens'];
function stripTestData(outDir: string): void {
  for (const d of TEST_ONLY_PUBLIC_DIRS) rmSync(join(outDir, d), { recursive: true, force: true });
}

const ORT_DIST = resolve(import.meta.dirname, 'node_modules/onnxruntime-web/dist');
/** ORT loads its .wasm/.mjs glue at run time; serve them from our own origin under /ort/. */
function ortRuntimeFiles(): Plugin {
  const files = () => readdirSync(ORT_DIST).filter((f) => /^ort-wasm.*\.(wasm|mjs)$/.test(f));
  return {
    name: 'ort-runtime-files',
    configureServer(server) {
      server.middlewares.use('/ort/', (req, res, next) => {
        const name = (req.url ?? '').split('?')[0].replace(/^\//, '');
        if (!files().includes(name)) return next();
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
        for (const [k, v] of Object.entries(securityHeaders)) res.setHeader(k, v);
        res.end(readFileSync(join(ORT_DIST, name)));
      });
    },
    writeBundle(options) {
      const out = join(options.dir ?? 'dist', 'ort');
      mkdirSync(out, { recursive: true });
      for (const f of files()) copyFileSync(join(ORT_DIST, f), join(out, f));
    },
  };
}

/**
 * Offline support: after the build (ORT files included), writes the list of every built file
 * (minus source maps, the worker itself and ORT runtime files no bundle refers to) and a content
 * hash into dist/sw.js (public/sw.js),
 * so the service worker precaches exactly this build and a new build installs a new worker.
 */
function precacheManifest(): Plugin {
  let outDir = 'dist';
  let base = '/';
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  return {
    name: 'precache-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      base = config.base;
    },
    closeBundle() {
      stripTestData(outDir);
      const swPath = join(outDir, 'sw.js');
      if (!existsSync(swPath)) return;
      const all = walk(outDir)
        .map((p) => relative(outDir, p).split(sep).join('/'))
        .filter((f) => f !== 'sw.js' && !f.endsWith('.map'));
      // ORT ships four wasm variants (86 MB); keep only those our bundles name (the WebGPU build: asyncify).
      const code = all
        .filter((f) => f.startsWith('assets/') && f.endsWith('.js'))
        .map((f) => readFileSync(join(outDir, f), 'utf8'))
        .join('\n');
      const files = all.filter((f) => !f.startsWith('ort/') || code.includes(f.slice(4))).sort();
      const hash = createHash('sha256');
      for (const f of files) hash.update(f).update(readFileSync(join(outDir, f)));
      const sw = readFileSync(swPath, 'utf8')
        .replace('/* PRECACHE_MANIFEST */ []', JSON.stringify(files.map((f) => base + f)))
        .replace('/* SECURITY_HEADERS */ {}', JSON.stringify(securityHeaders))
        .replace("/* BUILD_VERSION */ 'dev'", JSON.stringify(hash.digest('hex').slice(0, 16)));
      writeFileSync(swPath, sw);
    },
  };
}

export default defineConfig({
  plugins: [react(), devSecurityHeaders(), ortRuntimeFiles(), precacheManifest()],
  server: {
    headers: isolationHeaders,
    host: '127.0.0.1',
    // Builds and test output must not trigger reloads of pages under test.
    watch: { ignored: ['**/dist*/**', '**/test-results/**', '**/tools/**', '**/bench/results/**'] },
  },
  preview: { headers: { ...isolationHeaders, ...securityHeaders }, host: '127.0.0.1' },
  // Separate caches let several dev servers (parallel test runs) share one checkout.
  cacheDir: process.env.VITE_CACHE_DIR ?? 'node_modules/.vite',
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
  optimizeDeps: {
    // Pre-bundle everything up front: a dependency discovered mid-test would reload the page.
    include: [
      'react',
      'react-dom',
      'react-dom/client',
      'react/jsx-runtime',
      'react/jsx-dev-runtime',
      'zustand',
      'zustand/middleware',
      'idb-keyval',
      'fflate',
      'mediabunny',
    ],
    exclude: ['onnxruntime-web'],
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
} as import('vite').UserConfig & { test: unknown });
