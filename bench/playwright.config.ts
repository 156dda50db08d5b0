import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../e2e/chromium';

/**
 * Benchmarks run in headless Chromium against the dev server, like e2e/gpu tests. Each bench
 * writes bench/results/<name>.json; `node bench/report.mjs` turns them into the README table.
 * On SwiftShader absolute times mean little: report ratios measured in one run.
 */
const devPort = Number(process.env.PW_DEV_PORT ?? 5175);
export default defineConfig({
  testDir: '.',
  testMatch: '*.bench.ts',
  timeout: 600_000,
  workers: 1,
  reporter: 'list',
  outputDir: '../test-results/bench',
  use: {
    baseURL: `http://127.0.0.1:${devPort}`,
    launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
  },
  webServer: {
    command: `npx vite --host 127.0.0.1 --port ${devPort} --strictPort`,
    cwd: '..',
    env: { VITE_CACHE_DIR: `node_modules/.vite-${devPort}` },
    url: `http://127.0.0.1:${devPort}`,
    timeout: 120_000,
    reuseExistingServer: true,
  },
});
