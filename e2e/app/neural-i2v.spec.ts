/**
 * The whole neural pipeline in the production build, used as a user would (real clicks and
 * keys), with the tiny test pack (random weights: its motion is noise, but every stage runs):
 *  1. Neural motion with "Check the motion before rendering": Predict motion stops after stage 1
 *     and shows the predicted flows (colour wheel + arrows), scrubbable with the keyboard.
 *  2. Render it blended 100% with the classical motion: the video must equal, pixel for pixel,
 *     the classical engine's own video of the same drawing (an independent path: classical
 *     motion + classical render in one job), so the held flows, the blend and the render seam
 *     are all exercised and checked.
 *  3. Full image-to-video: neural motion + neural render (stage 2) in one job, progress naming
 *     the render's steps; frame 0 is the photo itself, later frames differ from it.
 * One page for all (the pack's sessions compile once); 1 step without guidance keeps it short
 * on a software GPU.
 */
import { expect, test, type Page } from '@playwright/test';
import { capturePlayerFrames, drawMotion } from './generate.helpers';
import { openApp } from './editor-helpers';

async function watchStages(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __stages: string[] };
    w.__stages = [];
    const poll = () => {
      const s = document.querySelector('[data-testid="job-stage"]')?.textContent ?? '';
      if (w.__stages.at(-1) !== s) w.__stages.push(s);
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
}

async function stagesSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __stages: string[] }).__stages);
}

/** The player's frames captured by capturePlayerFrames, as plain byte arrays. */
async function playerFrames(page: Page): Promise<number[][]> {
  return page.evaluate(() =>
    Object.entries((window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, d]) => Array.from(d.data)),
  );
}

function maxDiff(a: number[], b: number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('neural motion checked before rendering, blended with the classical motion, then full neural image-to-video', async ({ page }) => {
  test.setTimeout(900_000);
  await openApp(page);
  const packs = page.getByTestId('pack-manager');
  await packs.getByRole('button', { name: 'Install the test pack' }).click();
  await expect(packs.getByTestId('pack-row')).toHaveAttribute('data-state', 'installed', { timeout: 60_000 });
  await page.getByTestId('sample-lake').click();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
  await drawMotion(page);

  // The classical video of this drawing at the pack's 4 frames: the reference for step 2.
  await page.getByTestId('clip-frames').fill('4');
  await page.getByTestId('clip-frames').press('Enter');
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await capturePlayerFrames(page, 4);
  const classical = await playerFrames(page);

  // 1. neural motion, checked before rendering
  await page.getByTestId('engine-neural').click();
  await expect(page.getByTestId('neural-settings')).toBeVisible();
  await page.getByTestId('neural-steps').fill('1');
  await page.getByTestId('neural-guidance').fill('1');
  await expect(page.getByTestId('inspect-motion')).toBeChecked();
  await expect(page.getByTestId('generate-button')).toHaveText('Predict motion');
  await watchStages(page);
  await page.getByTestId('generate-button').click();
  const inspector = page.getByTestId('motion-inspector');
  await expect(inspector).toBeVisible({ timeout: 800_000 });
  expect(
    (await stagesSeen(page)).some((s) => s.includes('Predicting motion, step 1 of 1')),
    (await stagesSeen(page)).join(' | '),
  ).toBe(true);
  await expect(page.getByTestId('motion-frame-label')).toHaveText('1 / 3');
  // The picture is the colour wheel: not blank, not one flat colour.
  const spread = await page.getByTestId('motion-canvas').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < d.length; i += 4) {
      const v = d[i] + d[i + 1] + d[i + 2];
      lo = Math.min(lo, v / 3);
      hi = Math.max(hi, v / 3);
    }
    return hi - lo;
  });
  expect(spread).toBeGreaterThan(10);
  await page.getByTestId('motion-frame').focus();
  await page.keyboard.press('End');
  await expect(page.getByTestId('motion-frame-label')).toHaveText('3 / 3');
  await expect(page.getByTestId('motion-canvas')).toHaveAttribute('data-frame', '3');
  await page.screenshot({ path: test.info().outputPath('motion-inspector.png') });

  // 2. render it blended 100% with the classical motion: the classical video exactly
  await page.getByTestId('motion-blend').focus();
  await page.keyboard.press('End');
  await expect(page.getByTestId('motion-blend-label')).toHaveText('100%');
  await page.getByTestId('motion-render').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await capturePlayerFrames(page, 4);
  const blended = await playerFrames(page);
  expect(blended.length).toBe(4);
  for (let k = 0; k < 4; k++) expect(maxDiff(blended[k], classical[k]), `frame ${k}`).toBeLessThanOrEqual(1);

  // 3. full image-to-video: neural motion + neural render in one job
  await page.getByTestId('inspect-motion').uncheck();
  await page.getByTestId('render-neural').click();
  await expect(page.getByTestId('generate-button')).toHaveText(/Generate/);
  await watchStages(page);
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 800_000 });
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  const seen = await stagesSeen(page);
  expect(
    seen.some((s) => s.includes('Predicting motion, step 1 of 1')),
    seen.join(' | '),
  ).toBe(true);
  expect(
    seen.some((s) => s.includes('Rendering frames, step 1 of 1')),
    seen.join(' | '),
  ).toBe(true);
  await capturePlayerFrames(page, 4);
  const neural = await playerFrames(page);
  // frame 0 is the photo itself (the Frames contract), the rendered frames are not
  expect(maxDiff(neural[0], classical[0])).toBeLessThanOrEqual(1);
  for (let k = 1; k < 4; k++) expect(maxDiff(neural[k], neural[0]), `frame ${k}`).toBeGreaterThan(8);
  await page.screenshot({ path: test.info().outputPath('neural-i2v.png') });
});
