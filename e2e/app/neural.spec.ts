/**
 * Neural motion in the production build, used as a user would (real clicks): install the test
 * pack in the Model packs panel, load a sample picture, draw a trajectory, choose Neural, see
 * the progress name the denoising steps, get a video; the neural settings survive a reload;
 * Cancel during a step ends as cancelled; Neural without a pack is impossible and says what to
 * do; a pack removed after it was chosen gives a clear message and leaves the project as it was.
 */
import { expect, test, type Page } from '@playwright/test';
import { drawMotion } from './generate.helpers';
import { openApp, project, waitSaved } from './editor-helpers';

async function installTestPack(page: Page): Promise<void> {
  const panel = page.getByTestId('pack-manager');
  await panel.getByRole('button', { name: 'Install the test pack' }).click();
  await expect(panel.getByTestId('pack-row')).toHaveAttribute('data-state', 'installed', { timeout: 60_000 });
}

async function loadSample(page: Page): Promise<void> {
  await page.getByTestId('sample-lake').click();
  await expect(page.getByTestId('image-canvas')).toHaveAttribute('data-drawn', /.+/);
}

/** Few steps: each one is a UNet + ControlNet pass on a software GPU. */
async function chooseNeural(page: Page, steps: number): Promise<void> {
  await page.getByTestId('engine-neural').click();
  await expect(page.getByTestId('neural-settings')).toBeVisible();
  await page.getByTestId('neural-steps').fill(String(steps));
}

test('Neural without a pack cannot be chosen and says to install one', async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId('engine-neural')).toBeDisabled();
  await expect(page.getByTestId('engine-neural-hint')).toHaveText(/install a model pack in Model packs/);
});

test('install the test pack, choose Neural, generate with step-by-step progress, settings kept after a reload', async ({ page }) => {
  test.setTimeout(600_000);
  await openApp(page);
  await installTestPack(page);
  await expect(page.getByTestId('engine-neural-hint')).toContainText('random weights: proves the pipeline, its motion is noise');
  await loadSample(page);
  await drawMotion(page);
  await chooseNeural(page, 2);
  // Straight to the video (the motion check has its own test: neural-i2v.spec.ts); no guidance
  // halves the work of each step on a software GPU.
  await page.getByTestId('inspect-motion').uncheck();
  await page.getByTestId('neural-guidance').fill('1');
  await page.getByTestId('clip-seed').fill('1234');
  await page.getByTestId('clip-seed').press('Enter');
  await page.getByTestId('neural-stride').fill('6');
  await page.getByTestId('neural-control-scale').fill('0.5');
  await expect(page.getByTestId('neural-frames-note')).toContainText('4-frame videos');

  const stages: string[] = [];
  await page.exposeFunction('__stage', (s: string) => stages.push(s));
  await page.evaluate(() => {
    let last = '';
    const poll = () => {
      const s = document.querySelector('[data-testid="job-stage"]')?.textContent ?? '';
      if (s !== last) (window as unknown as { __stage(s: string): void }).__stage((last = s));
      if (!s.startsWith('Done')) requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 540_000 });
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  for (const k of [1, 2])
    expect(
      stages.some((s) => s.includes(`Predicting motion, step ${k} of 2`)),
      stages.join(' | '),
    ).toBe(true);
  // While the sessions load (the first run's long wait) the bar says which part of the model is loading.
  for (const part of ['text encoder (1 of 6)', 'motion UNet (6 of 6)'])
    expect(
      stages.some((s) => s.includes(`Preparing: loading the model: ${part}`)),
      stages.join(' | '),
    ).toBe(true);
  // The video has the pack's 4 frames (the project's Frames setting stays 16).
  await expect(page.getByTestId('player-canvas')).toBeVisible();
  await expect(page.getByTestId('player-frame')).toContainText(/\/4$/);
  expect((await project(page)).settings.frames).toBe(16);
  await page.screenshot({ path: test.info().outputPath('neural-done.png') });

  await waitSaved(page);
  await page.reload();
  await expect(page.getByTestId('app')).toBeVisible();
  const s = (await project(page)).settings;
  expect({ seed: s.seed, steps: s.steps, guidance: s.guidance, motionStride: s.motionStride, controlScale: s.controlScale }).toEqual({
    seed: 1234,
    steps: 2,
    guidance: 1,
    motionStride: 6,
    controlScale: 0.5,
  });
  await page.getByTestId('engine-neural').click();
  await expect(page.getByTestId('clip-seed')).toHaveValue('1234');
  await page.getByTestId('clip-new-seed').click();
  await expect(page.getByTestId('clip-seed')).not.toHaveValue('1234');
});

test('Cancel during a denoising step ends as cancelled, without an error', async ({ page }) => {
  test.setTimeout(480_000);
  await openApp(page);
  await installTestPack(page);
  await loadSample(page);
  await drawMotion(page);
  await chooseNeural(page, 50);
  await page.getByTestId('neural-guidance').fill('1');
  const before = await project(page);
  await page.getByTestId('generate-button').click();
  // A step is reported once the GPU has finished it (after the sessions load): minutes here.
  await expect(page.getByTestId('job-stage')).toContainText(/step \d+ of 50/, { timeout: 300_000 });
  await page.getByTestId('cancel-button').click();
  // Cancel lands at once in the page; the worker stops after the step it is on.
  await expect(page.getByTestId('job-cancelled')).toBeVisible();
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  expect(await project(page)).toEqual(before);
});

test('a pack removed after it was chosen: a clear message, the project untouched', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page);
  await installTestPack(page);
  await loadSample(page);
  await drawMotion(page);
  await chooseNeural(page, 2);
  await page.getByTestId('pack-remove').click();
  await expect(page.getByTestId('pack-row')).toHaveCount(0);
  await expect(page.getByTestId('neural-pack-gone')).toBeVisible();
  const before = await project(page);
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-error')).toContainText(/not installed\. Install it in Model packs/, { timeout: 60_000 });
  expect(await project(page)).toEqual(before);
});
