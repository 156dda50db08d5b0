/**
 * Files at the documented limits (issue 9, item 4) open, restore and edit in seconds, with the
 * long paths simplified and the user told so; a restore that is slow offers to start fresh and
 * deletes nothing. Timings for the README come from bench/editor.bench.ts.
 */
import { test, expect } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { canvasBox, clickAt, openApp, project, waitSaved } from './editor-helpers';
import { limitFile } from './limits.helpers';

for (const kind of ['trajectories', 'brush'] as const) {
  test(`a file with the most ${kind} the format allows opens, restores and stays interactive`, async ({ page }, testInfo) => {
    await openApp(page);
    const path = testInfo.outputPath(`${kind}.json`);
    writeFileSync(path, limitFile(kind));
    const t0 = Date.now();
    await page.getByTestId('project-input').setInputFiles(path);
    await expect(page.getByTestId('info-banner')).toContainText('with repairs', { timeout: 60_000 });
    const openMs = Date.now() - t0;
    await expect(page.getByTestId('info-banner')).toContainText('simplified');
    const p = await project(page);
    const count = (xs: { points: unknown[] }[]) => xs.reduce((n, x) => n + x.points.length, 0);
    if (kind === 'trajectories') {
      expect(p.trajectories).toHaveLength(256);
      expect(count(p.trajectories)).toBeLessThanOrEqual(2048);
    } else {
      expect(p.brush.length).toBeLessThanOrEqual(1000);
      expect(count(p.brush)).toBeLessThanOrEqual(40000);
    }
    await waitSaved(page);
    const t1 = Date.now();
    await page.reload();
    await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/, { timeout: 60_000 });
    const restoreMs = Date.now() - t1;
    expect(await project(page)).toEqual(p);
    // A tool click: select the trajectory tool's first point (or be told the limit is reached).
    const b = await canvasBox(page);
    const t2 = Date.now();
    await clickAt(page, b, 256, 300);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    const clickMs = Date.now() - t2;
    await page.screenshot({ path: testInfo.outputPath(`${kind}-at-limit.png`) });
    console.log(`${kind}: open ${openMs} ms, restore ${restoreMs} ms, click ${clickMs} ms`);
    // Generous bounds for a loaded 2-core machine; the issue measured 84 s, 205 s and 97 s.
    expect(openMs).toBeLessThan(30_000);
    expect(restoreMs).toBeLessThan(15_000);
    expect(clickMs).toBeLessThan(3_000);
  });
}

test('a slow restore offers to start fresh, and starting fresh deletes nothing', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('sample-lake').click();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  await waitSaved(page);
  const before = await project(page);
  // Make IndexedDB slow to open (as a huge or busy store is) for the next load.
  await page.addInitScript(() => {
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (this: IDBFactory, ...args: Parameters<IDBFactory['open']>) {
      const req = open.apply(this, args);
      if (sessionStorage.getItem('slow-idb') === 'off') return req;
      const wait = new Promise((r) => setTimeout(r, 8000));
      const add = req.addEventListener.bind(req);
      // Deliver success late: the page's handlers see it 8 s after it happened.
      Object.defineProperty(req, 'onsuccess', {
        set(fn) {
          add('success', (e: Event) => void wait.then(() => fn.call(req, e)));
        },
      });
      return req;
    };
  });
  await page.reload();
  await expect(page.getByTestId('start-fresh')).toBeVisible({ timeout: 6000 });
  await page.getByTestId('start-fresh').click();
  await expect(page.getByTestId('app')).toBeVisible();
  expect((await project(page)).image).toBeNull();
  // The stored project is still there: back on a normal load of this tab's older id, it restores.
  await page.evaluate(() => sessionStorage.setItem('slow-idb', 'off'));
  await page.waitForTimeout(8500); // the slow restore finishing late must not replace the fresh project
  expect((await project(page)).image).toBeNull();
  await page.evaluate(() => sessionStorage.removeItem('motion-i2v:project-id'));
  await page.reload();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  expect(await project(page)).toEqual(before);
});
