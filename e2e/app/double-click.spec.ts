/**
 * Double-clicks on the buttons that start something: Generate and Export turn into Cancel in the
 * same place, so the second click of a double-click used to cancel the job it had just started;
 * Save project downloaded the file twice. Real mouse double-clicks (page.mouse.dblclick).
 * Then a new photo opened under a finished video: the result says it was made from the previous
 * photo until Undo brings that photo back.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mediaPath } from '../fixtures';
import { loadImage, openApp } from './editor-helpers';
import { drawMotion } from './generate.helpers';

async function doubleClick(page: Page, target: Locator): Promise<void> {
  await target.scrollIntoViewIfNeeded();
  const box = (await target.boundingBox())!;
  await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
}

test('a double-click on Generate, Export or Save project does it once', async ({ page }) => {
  test.setTimeout(120_000);
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawMotion(page);
  let downloads = 0;
  page.on('download', () => downloads++);

  await doubleClick(page, page.getByTestId('generate-button'));
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(page.getByTestId('job-cancelled')).toHaveCount(0);

  await page.getByTestId('export-format').selectOption('webm');
  const download = page.waitForEvent('download');
  await doubleClick(page, page.getByTestId('export-button'));
  await download;
  await expect(page.getByTestId('export-status')).toHaveAttribute('data-status', 'done');
  await page.waitForTimeout(500);
  expect(downloads).toBe(1);

  const saved = page.waitForEvent('download');
  await doubleClick(page, page.getByTestId('save-project'));
  await saved;
  await page.waitForTimeout(1000);
  expect(downloads).toBe(2);

  await expect(page.getByTestId('result-other-image')).toHaveCount(0);
  await loadImage(page, mediaPath('middlebury/RubberWhale/frame10.png'));
  await expect(page.getByTestId('result-other-image')).toContainText('made from the previous photo (one.png)');
  await page.screenshot({ path: test.info().outputPath('other-image.png') });
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('result-other-image')).toHaveCount(0);
});
