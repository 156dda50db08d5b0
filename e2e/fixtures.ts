import { test as base, expect, type Page } from '@playwright/test';
import { readFileSync, existsSync } from 'node:fs';
import { resolve, extname } from 'node:path';

/** Real test media lives outside the repo (../shared/media); never copied in. */
export const MEDIA_DIR = process.env.MEDIA_DIR ?? resolve(import.meta.dirname, '../../shared/media');

export function mediaPath(rel: string): string {
  const p = resolve(MEDIA_DIR, rel);
  if (!existsSync(p)) throw new Error(`test media missing: ${p} (expected ../shared/media beside the repo)`);
  return p;
}

const MIME: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.mp4': 'video/mp4', '.flo': 'application/octet-stream' };

/** Serves ../shared/media under /__media/ on the page's own origin. */
export async function routeMedia(page: Page): Promise<void> {
  await page.route('**/__media/**', async (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname.replace(/^\/__media\//, ''));
    const p = mediaPath(rel);
    await route.fulfill({
      body: readFileSync(p),
      headers: { 'Content-Type': MIME[extname(p)] ?? 'application/octet-stream', 'Cross-Origin-Resource-Policy': 'same-origin' },
    });
  });
}

/**
 * `harness`: a blank page on the dev server from which a test imports src modules with
 * `await import('/src/...')` inside page.evaluate. WebGPU must be present: a missing adapter
 * FAILS the test (a skipped GPU test would hide a broken CI).
 */
export const test = base.extend<{ harness: Page }>({
  harness: async ({ page }, use) => {
    page.on('console', (m) => {
      if (m.type() === 'error') console.log(`[page error] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.log(`[page exception] ${e.message}`));
    await routeMedia(page);
    // Vite's HMR socket reloads the page when a file it served changes (or its dependency
    // optimiser re-runs), destroying the test's context mid-evaluate: tests do not need it
    await page.routeWebSocket(/.*/, () => {});
    await page.goto('/e2e/blank.html');
    const hasGpu = await page.evaluate(async () => !!(await navigator.gpu?.requestAdapter()));
    expect(hasGpu, 'WebGPU adapter must be available (chromium --enable-unsafe-webgpu)').toBe(true);
    await use(page);
  },
});

export { expect };
