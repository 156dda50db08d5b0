/**
 * A GPU device lost in the middle of a Generate, on the production page: the engine worker's
 * device is destroyed while the job renders (the worker's own test hook, the same path a
 * driver reset takes). The job ends with a clear message, the banner says the work is kept,
 * the project is untouched, the status recovers, and the next Generate works. An export
 * running when the device is lost finishes (its frames are already on the main thread).
 */
import { test, expect } from '@playwright/test';
import { mediaPath } from '../fixtures';
import { loadImage, openApp, project } from './editor-helpers';
import { drawMotion } from './generate.helpers';

test('a device lost during Generate: clear message, work kept, the next Generate works', async ({ page }, testInfo) => {
  await openApp(page);
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawMotion(page);
  const before = await project(page);

  // Lose the worker's device as soon as the job is rendering frames (watched inside the page).
  const lostWhile = page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const watch = () => {
          const stage = document.querySelector('[data-testid="job-stage"]')?.textContent ?? '';
          if (stage.startsWith('Rendering')) {
            window.__motionI2V!.simulateGpuLoss();
            resolve(stage);
          } else requestAnimationFrame(watch);
        };
        requestAnimationFrame(watch);
      }),
  );
  await page.getByTestId('generate-button').click();
  expect(await lostWhile).toMatch(/^Rendering frames/);

  const error = page.getByTestId('job-error');
  await expect(error).toContainText('The GPU device was lost');
  await expect(error).toContainText('trajectories and brush are kept');
  await expect(page.getByTestId('gpu-lost')).toBeVisible();
  await expect(page.getByTestId('player-canvas')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('device-lost.png') });
  expect(await project(page)).toEqual(before);

  // The worker has a new device; Generate works again.
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(error).toHaveCount(0);
  await expect(page.getByTestId('player-canvas')).toBeVisible();
  expect(await project(page)).toEqual(before);

  // An export holds its frames on the main thread: a device lost while it encodes does not stop it.
  await page.getByTestId('gpu-lost').getByRole('button', { name: 'OK' }).click();
  await page.getByTestId('export-format').selectOption('png-zip');
  const download = page.waitForEvent('download');
  const lostDuringExport = page.evaluate(
    () =>
      new Promise<boolean>((resolve) => {
        const watch = () => {
          if (document.querySelector('[data-testid="export-progress"]')) {
            window.__motionI2V!.simulateGpuLoss();
            resolve(true);
          } else requestAnimationFrame(watch);
        };
        requestAnimationFrame(watch);
      }),
  );
  await page.getByTestId('export-button').click();
  expect(await lostDuringExport).toBe(true);
  expect((await download).suggestedFilename()).toMatch(/^motion-i2v_one_512x320_16f_\d+fps_png\.zip$/);
  await expect(page.getByTestId('export-status')).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('gpu-lost')).toBeVisible();
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
});
