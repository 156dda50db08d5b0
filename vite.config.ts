import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { readFileSync, readdirSync, mkdirSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Cross-origin isolation: needed for SharedArrayBuffer (multi-threaded ORT wasm). */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

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

export default defineConfig({
  plugins: [react(), ortRuntimeFiles()],
  server: { headers: isolationHeaders, host: '127.0.0.1' },
  preview: { headers: isolationHeaders, host: '127.0.0.1' },
  // Separate caches let several dev servers (parallel test runs) share one checkout.
  cacheDir: process.env.VITE_CACHE_DIR ?? 'node_modules/.vite',
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
  optimizeDeps: {
    // Pre-bundle everything up front: a dependency discovered mid-test would reload the page.
    include: ['react', 'react-dom', 'react-dom/client', 'react/jsx-runtime', 'react/jsx-dev-runtime', 'zustand', 'zustand/middleware', 'idb-keyval', 'fflate', 'mediabunny'],
    exclude: ['onnxruntime-web'],
  },
  test: {
    include: ['src/**/*.test.ts', 'tests/unit/**/*.test.ts'],
    environment: 'node',
  },
} as import('vite').UserConfig & { test: unknown });
