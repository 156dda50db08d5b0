/**
 * Security headers and test data (issue 9, items 8 and 9): the page (preview server, service
 * worker, dev server) carries a Content-Security-Policy without 'unsafe-eval' or inline script,
 * nosniff and a Referrer-Policy; the app, ONNX Runtime (sessions created in a CSP'd page) and
 * the offline path work under it with no violation reported; the tiny pack's goldens are not in
 * the production build nor in the service worker's precache, and the dev server still serves them.
 */
import { test, expect, type Page, type Response } from '@playwright/test';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { drawMotion, generateAndWatch } from './generate.helpers';

const devPort = Number(process.env.PW_DEV_PORT ?? 5174);
const dist = resolve(import.meta.dirname, '../..', process.env.PW_DIST ?? 'dist');

/** Records every CSP violation the page (or its workers, via the page) reports. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  await page.exposeFunction('__cspViolation', (v: string) => seen.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { __cspViolation(v: string): void }).__cspViolation(
        `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`,
      ),
    );
  });
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) seen.push(`console: ${m.text()}`);
  });
  return seen;
}

function expectSecurityHeaders(response: Response | null, where: string): void {
  expect(response, where).not.toBeNull();
  const h = response!.headers();
  const csp = h['content-security-policy'] ?? '';
  const directive = (name: string) =>
    csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith(`${name} `)) ?? '';
  expect(directive('script-src'), `${where}: script-src`).toMatch(/^script-src 'self' 'wasm-unsafe-eval'( 'sha256-[A-Za-z0-9+/=]+')?$/);
  expect(csp, `${where}: no unsafe-eval`).not.toContain("'unsafe-eval'");
  expect(directive('worker-src'), `${where}: worker-src`).toBe("worker-src 'self' blob:");
  expect(directive('connect-src'), `${where}: connect-src`).toMatch(/^connect-src 'self' https:/);
  expect(directive('object-src')).toBe("object-src 'none'");
  expect(h['x-content-type-options'], `${where}: nosniff`).toBe('nosniff');
  expect(h['referrer-policy'], `${where}: referrer-policy`).toBe('no-referrer');
}

test('production: headers on the page and from the service worker; the app generates and works offline under the CSP; goldens are not shipped', async ({
  page,
  context,
}, testInfo) => {
  const violations = await watchViolations(page);
  page.on('pageerror', (e) => console.log(`[page exception] ${e.message}`));
  const first = await page.goto('/');
  expectSecurityHeaders(first, 'preview server');
  await expect(page.getByTestId('app')).toBeVisible();

  // Test data stays out of the build and the precache; the pack itself is still served.
  expect(existsSync(join(dist, 'models/tiny/goldens')), 'goldens in the build').toBe(false);
  expect(existsSync(join(dist, 'models/tiny/manifest.json'))).toBe(true);
  const tinyFiles = readdirSync(join(dist, 'models/tiny'));
  expect(tinyFiles.filter((f) => f.endsWith('.onnx')).length).toBeGreaterThan(10);
  expect(await page.evaluate(() => fetch('/models/tiny/manifest.json').then((r) => r.status))).toBe(200);
  expect(await page.evaluate(() => fetch('/models/tiny/stage1_unet.onnx', { method: 'HEAD' }).then((r) => r.status))).toBe(200);

  // The service worker: wait until it controls the page with its precache complete.
  const cached = await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller)
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    const reg = await navigator.serviceWorker.ready;
    for (;;) {
      const status = await new Promise<{ stored: number; total: number }>((resolve) => {
        navigator.serviceWorker.addEventListener('message', (e) => e.data?.type === 'precache-status' && resolve(e.data), { once: true });
        reg.active!.postMessage({ type: 'precache-status' });
      });
      if (status.stored === status.total) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return (
      await Promise.all((await caches.keys()).map(async (k) => (await (await caches.open(k)).keys()).map((r) => new URL(r.url).pathname)))
    ).flat();
  });
  expect(
    cached.filter((p) => p.includes('/goldens/')),
    'goldens in the precache',
  ).toEqual([]);
  expect(cached).toContain('/models/tiny/manifest.json');
  expect(cached).toContain('/models/tiny/stage1_unet.onnx');

  // The app works under the policy: load a sample, draw, generate (engine worker + WebGPU).
  await page.getByTestId('sample-lake').click();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  await drawMotion(page);
  const { samples } = await generateAndWatch(page);
  expect(samples.at(-1)).toBe(1);

  // Offline: the page comes from the service worker, with the same headers, even when what the
  // cache holds has none (stored by an older worker or behind a proxy that dropped them).
  await page.evaluate(async () => {
    for (const k of await caches.keys()) {
      const cache = await caches.open(k);
      const old = await cache.match('/index.html');
      if (old) await cache.put('/index.html', new Response(await old.text(), { headers: { 'Content-Type': 'text/html' } }));
    }
  });
  await context.setOffline(true);
  const again = await page.reload();
  expect(again?.fromServiceWorker()).toBe(true);
  expectSecurityHeaders(again, 'service worker');
  await expect(page.getByTestId('app')).toBeVisible();
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await page.screenshot({ path: testInfo.outputPath('offline-under-csp.png') });
  await context.setOffline(false);

  expect(violations, 'no CSP violation while the app, generate and offline ran').toEqual([]);

  // An inline script really is refused (the policy is enforced, not just sent).
  const inlineRan = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.body.appendChild(s);
    await new Promise((r) => setTimeout(r, 100));
    return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
  });
  expect(inlineRan).toBe(false);
  await expect.poll(() => violations.filter((v) => /^script-src(-elem)? inline/.test(v)).length).toBe(1);
});

test('dev server: headers on the app page, the app runs, ONNX Runtime sessions (wasm and WebGPU) run under the CSP; goldens are served for tests', async ({
  page,
}) => {
  const violations = await watchViolations(page);
  page.on('pageerror', (e) => console.log(`[page exception] ${e.message}`));
  const dev = `http://127.0.0.1:${devPort}`;
  const res = await page.goto(`${dev}/`);
  expectSecurityHeaders(res, 'dev server');
  await expect(page.getByTestId('app')).toBeVisible();

  // A tiny model written here (y = x + c) run by ORT in this page, on both execution providers.
  const out = await page.evaluate(async () => {
    const { ort } = (await import(/* @vite-ignore */ '/e2e/onnx/ort.ts' as string)) as typeof import('../onnx/ort');
    const { encodeModel } = (await import(/* @vite-ignore */ '/e2e/onnx/proto.ts' as string)) as typeof import('../onnx/proto');
    const model = encodeModel({
      name: 'add',
      nodes: [{ op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
      initializers: [{ name: 'c', dims: [4], data: new Float32Array([1, 2, 3, 4]) }],
      inputs: [{ name: 'x', dims: [4] }],
      outputs: [{ name: 'y', dims: [4] }],
    });
    const results: Record<string, number[]> = {};
    for (const ep of ['wasm', 'webgpu']) {
      const session = await ort.InferenceSession.create(model, { executionProviders: [ep] });
      const r = await session.run({ x: new ort.Tensor('float32', new Float32Array([10, 20, 30, 40]), [4]) });
      results[ep] = Array.from(r.y.data as Float32Array);
      await session.release();
    }
    return { results, isolated: crossOriginIsolated };
  });
  expect(out.results).toEqual({ wasm: [11, 22, 33, 44], webgpu: [11, 22, 33, 44] });
  expect(out.isolated).toBe(true);
  // Browser tests read the goldens from the dev server.
  expect(await page.evaluate(() => fetch('/models/tiny/goldens/controlnet.bin', { method: 'HEAD' }).then((r) => r.status))).toBe(200);
  expect(violations).toEqual([]);
});
