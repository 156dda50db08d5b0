/**
 * Issue 9 item 3, as a new user meets it: a photo and Generate, with no trajectory, with only an
 * anchor, or with only brush paint. The page says what to draw, in words, and never shows an
 * engine's internal message; once a trajectory is drawn the message goes and Generate works.
 */
import { test, expect } from '@playwright/test';
import { mediaPath } from '../fixtures';
import { canvasBox, clickAt, dragThrough, loadImage, openApp, project } from './editor-helpers';

const INTERNAL = /densify|table|shape|argument|\[\d+,/i;
// The page as a whole may say "Shape" (a motion mode button); a kernel message says "has shape [".
const INTERNAL_ON_PAGE = /densify|table|has shape|argument|\[\d+,/i;

test('Generate with nothing that moves says to draw a trajectory; with a trajectory it works', async ({ page }, testInfo) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  const error = page.getByTestId('job-error');
  const generate = page.getByTestId('generate-button');

  // 1. Nothing drawn.
  await generate.click();
  await expect(error).toContainText('Draw a trajectory (T) to make something move');
  await expect(error).not.toContainText(INTERNAL);
  await page.screenshot({ path: testInfo.outputPath('empty-scene.png') });

  // 2. Only an anchor (one click, Enter).
  const b = await canvasBox(page);
  await page.getByTestId('tool-trajectory').click();
  await clickAt(page, b, 300, 120);
  await page.keyboard.press('Enter');
  expect((await project(page)).trajectories).toHaveLength(1);
  await generate.click();
  await expect(page.getByTestId('job-progress')).toHaveCount(0);
  await expect(error).toContainText('Draw a trajectory (T)');
  await expect(error).not.toContainText(INTERNAL);

  // 3. Only brush paint (the anchor removed by undo).
  await page.keyboard.press('Control+z');
  await expect.poll(async () => (await project(page)).trajectories.length).toBe(0);
  await page.getByTestId('tool-brush').click();
  await dragThrough(page, b, [
    [120, 140],
    [250, 170],
  ]);
  expect((await project(page)).brush.length).toBeGreaterThan(0);
  await generate.click();
  await expect(error).toContainText('Draw a trajectory (T)');
  await expect(error).not.toContainText(INTERNAL);
  await expect(page.locator('body')).not.toContainText(INTERNAL_ON_PAGE);

  // 4. A trajectory: Generate works and the message is gone.
  await page.getByTestId('tool-trajectory').click();
  await clickAt(page, b, 160, 160);
  await clickAt(page, b, 200, 150);
  await page.keyboard.press('Enter');
  // The message was about the drawing: it goes the moment a path that moves exists, before Generate.
  await expect(error).toHaveCount(0);
  await generate.click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(error).toHaveCount(0);
  await expect(page.getByTestId('player-canvas')).toBeVisible();
});
