/**
 * The page as it loads and as a file is dragged over it: no request answers 404 (the favicon
 * included) and the drop target lights up while files are over the page, not after they left.
 */
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { mediaPath } from '../fixtures';
import { openApp } from './editor-helpers';

test('a page load has no failed request and shows a favicon', async ({ page }) => {
  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
  await openApp(page);
  await page.waitForLoadState('networkidle');
  const icon = await page.locator('link[rel="icon"]').getAttribute('href');
  expect(icon).toBeTruthy();
  const res = await page.request.get(icon!);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toContain('image/svg+xml');
  expect((await res.text()).trim()).toMatch(/^<svg[\s\S]*<\/svg>$/);
  // Chromium asks for the page's icon itself; with the link it never falls back to /favicon.ico.
  await page.reload();
  await page.waitForLoadState('networkidle');
  expect(failed).toEqual([]);
});

test('files dragged over the page light up the drop target until they leave or drop', async ({ page }, testInfo) => {
  await openApp(page);
  const app = page.getByTestId('app');
  const area = page.locator('.canvas-area');
  const png = [...readFileSync(mediaPath('softsplat/one.png'))];
  // Real drags cannot be started from a test in headless Chromium; dispatch the events a file drag sends.
  const send = (type: string, selector: string) =>
    page.evaluate(
      ({ type, selector, png }) => {
        const w = window as unknown as { __dt?: DataTransfer };
        if (!w.__dt) {
          w.__dt = new DataTransfer();
          w.__dt.items.add(new File([new Uint8Array(png)], 'one.png', { type: 'image/png' }));
        }
        document.querySelector(selector)!.dispatchEvent(new DragEvent(type, { dataTransfer: w.__dt, bubbles: true, cancelable: true }));
      },
      { type, selector, png },
    );
  await expect(app).not.toHaveAttribute('data-dragging');
  const outlineBefore = await area.evaluate((el) => getComputedStyle(el).outlineStyle);
  await send('dragenter', '.canvas-area');
  await expect(app).toHaveAttribute('data-dragging', 'true');
  expect(await area.evaluate((el) => getComputedStyle(el).outlineStyle)).toBe('dashed');
  expect(outlineBefore).not.toBe('dashed');
  await page.screenshot({ path: testInfo.outputPath('drop-highlight.png') });
  // Moving onto another element: its dragenter comes before the dragleave of the one left; still lit.
  await send('dragenter', '.side');
  await send('dragleave', '.canvas-area');
  await expect(app).toHaveAttribute('data-dragging', 'true');
  await send('dragleave', '.side');
  await expect(app).not.toHaveAttribute('data-dragging');
  // A drop loads the file and clears the highlight.
  await send('dragenter', '.canvas-area');
  await expect(app).toHaveAttribute('data-dragging', 'true');
  await send('drop', '.canvas-area');
  await expect(app).not.toHaveAttribute('data-dragging');
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
});
