/**
 * Offline demo: after one visit the service worker has precached the app (JS, CSS, engine
 * worker, /ort/ wasm files), the sample pictures and the tiny model pack; with the network off
 * the page reloads cross-origin isolated, loads a sample, generates with the classical engine
 * and exports an MP4 that checks out like in generate.spec.ts.
 */
import { test, expect } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { openApp, project } from './editor-helpers';
import { capturePlayerFrames, drawMotion, exportFile, generateAndWatch, verifyExport } from './generate.helpers';

test('after one visit the app loads, generates and exports with the network off', async ({ page, context }, testInfo) => {
  await openApp(page);
  // Wait for the worker to be installed (precache complete), active and controlling this page.
  const status = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller)
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    return new Promise<{ stored: number; total: number; version: string }>((resolve) => {
      navigator.serviceWorker.addEventListener('message', (e) => e.data?.type === 'precache-status' && resolve(e.data), { once: true });
      reg.active!.postMessage({ type: 'precache-status' });
    });
  });
  expect(status.version).toMatch(/^[0-9a-f]{16}$/);
  expect(status.total).toBeGreaterThan(10);
  expect(status.stored).toBe(status.total);
  const cached = await page.evaluate(async () => {
    const keys = (
      await Promise.all((await caches.keys()).map(async (k) => (await (await caches.open(k)).keys()).map((r) => new URL(r.url).pathname)))
    ).flat();
    return keys;
  });
  for (const want of [/^\/index\.html$/, /^\/assets\/index-.*\.js$/, /^\/assets\/worker-.*\.js$/, /^\/samples\/lake\.png$/]) {
    expect(
      cached.some((k) => want.test(k)),
      `precache holds ${want}`,
    ).toBe(true);
  }
  // Every ORT runtime file a built bundle names, and every file of the tiny model pack, is cached.
  const dist = resolve(import.meta.dirname, '../..', process.env.PW_DIST ?? 'dist');
  const code = readdirSync(join(dist, 'assets'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dist, 'assets', f), 'utf8'))
    .join('\n');
  const ortNeeded = readdirSync(join(dist, 'ort')).filter((f) => code.includes(f));
  for (const f of ortNeeded) expect(cached, `precache holds /ort/${f}`).toContain(`/ort/${f}`);
  const tiny = join(dist, 'models/tiny');
  const packFiles = existsSync(tiny)
    ? readdirSync(tiny, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => '/' + relative(dist, join(d.parentPath, d.name)).split(sep).join('/'))
    : [];
  for (const f of packFiles) expect(cached, `precache holds ${f}`).toContain(f);
  console.log(`precached ${cached.length} files: ${ortNeeded.length} ORT runtime files, ${packFiles.length} tiny-pack files`);

  // The page tells the user it is ready to work offline.
  await expect(page.getByTestId('offline-ready')).toBeVisible();

  await context.setOffline(true);
  // The network really is off, for the page and for the worker's own fetches.
  expect(
    await page.evaluate(() =>
      fetch('/not-in-any-cache.txt').then(
        (r) => `HTTP ${r.status}`,
        () => 'failed',
      ),
    ),
  ).toBe('failed');

  page.on('requestfailed', (r) => console.log(`[offline request failed] ${r.url()} ${r.failure()?.errorText}`));
  const response = await page.reload();
  expect(response?.fromServiceWorker()).toBe(true);
  await expect(page.getByTestId('app')).toBeVisible();
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.getByTestId('gpu-status')).toContainText('WebGPU');

  await page.getByTestId('sample-lake').click();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  await drawMotion(page);
  const before = await project(page);
  const { samples } = await generateAndWatch(page);
  expect(samples.at(-1)).toBe(1);
  await page.screenshot({ path: testInfo.outputPath('offline-generated.png') });
  await capturePlayerFrames(page, 16);
  const mp4 = await exportFile(page, testInfo, 'mp4');
  expect(mp4.name).toMatch(/^motion-i2v_.*_512x320_16f_8fps_h264\.mp4$/);
  await verifyExport(page, mp4, { codec: 'avc', frames: 16, fps: before.settings.fps, width: 512, height: 320 });
  await context.setOffline(false);
});
