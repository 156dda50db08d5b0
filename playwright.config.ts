import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './e2e/chromium';

/**
 * Two servers:
 *  - the production build (vite preview) for app tests as a user sees it (e2e/app);
 *  - the dev server for module-level browser tests that import src/ modules directly
 *    with `await import('/src/...')` inside the page (e2e/gpu: kernels, ORT sessions, video).
 * Ports and the build folder can be moved (PW_APP_PORT, PW_DEV_PORT, PW_DIST) so that several
 * runs can share one machine.
 */
const appPort = Number(process.env.PW_APP_PORT ?? 4173);
const devPort = Number(process.env.PW_DEV_PORT ?? 5174);
const dist = process.env.PW_DIST ?? 'dist';

export default defineConfig({
  testDir: 'e2e',
  timeout: 180_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: `test-results/e2e-${devPort}.json` }]],
  outputDir: `test-results/out-${devPort}`,
  use: {
    launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
    viewport: { width: 1280, height: 900 },
    trace: 'off',
  },
  projects: [
    { name: 'app', testDir: 'e2e/app', use: { baseURL: `http://127.0.0.1:${appPort}` } },
    { name: 'gpu', testDir: 'e2e/gpu', use: { baseURL: `http://127.0.0.1:${devPort}` } },
  ],
  webServer: [
    {
      command: `npx vite build --mode e2e --logLevel warn --outDir ${dist} && npx vite preview --outDir ${dist} --host 127.0.0.1 --port ${appPort} --strictPort`,
      url: `http://127.0.0.1:${appPort}`,
      timeout: 300_000,
      reuseExistingServer: !process.env.CI,
    },
    {
      command: `npx vite --host 127.0.0.1 --port ${devPort} --strictPort`,
      env: { VITE_CACHE_DIR: `node_modules/.vite-${devPort}` },
      url: `http://127.0.0.1:${devPort}`,
      timeout: 120_000,
      reuseExistingServer: !process.env.CI,
    },
  ],
});
