import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './e2e/chromium';

/**
 * Two servers:
 *  - the production build (vite preview, :4173) for app tests as a user sees it (e2e/app);
 *  - the dev server (:5174) for module-level browser tests that import src/ modules directly
 *    with `await import('/src/...')` inside the page (e2e/gpu: kernels, ORT sessions, video).
 */
export default defineConfig({
  testDir: 'e2e',
  timeout: 180_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
    viewport: { width: 1280, height: 900 },
    trace: 'off',
  },
  projects: [
    { name: 'app', testDir: 'e2e/app', use: { baseURL: 'http://127.0.0.1:4173' } },
    { name: 'gpu', testDir: 'e2e/gpu', use: { baseURL: 'http://127.0.0.1:5174' } },
  ],
  webServer: [
    {
      command: 'npx vite build --logLevel warn && npx vite preview --host 127.0.0.1 --port 4173 --strictPort',
      url: 'http://127.0.0.1:4173',
      timeout: 240_000,
      reuseExistingServer: !process.env.CI,
    },
    {
      command: 'npx vite --host 127.0.0.1 --port 5174 --strictPort',
      url: 'http://127.0.0.1:5174',
      timeout: 120_000,
      reuseExistingServer: !process.env.CI,
    },
  ],
});
