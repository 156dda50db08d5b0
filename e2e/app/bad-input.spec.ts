/**
 * Bad input on the production page, used as a user would (real clicks, a folder picked from
 * disk), each ending in a plain-language message, never a kernel's, with the project untouched:
 * - broken flows (NaN, infinite and absurd values written into the motion by the worker's test
 *   hook, as a broken stage 1 would make them): the render completes and a notice says the
 *   motion was repaired;
 * - a model pack whose manifest and ONNX files do not belong together (a tensor renamed in the
 *   manifest only): refused at install, naming the part of the pack, nothing installed;
 * - GPU memory exhausted in the middle of a neural job, as ORT throws it (the worker's hook fails
 *   its second model session) and as WebGPU reports it (a real allocation the GPU cannot back,
 *   seen by the job's error scope): a message suggesting a smaller precision, the job stopped
 *   before its first step, and the next Generate works.
 * The full neural job is not run here (minutes on a software GPU: neural.spec.ts runs it).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { mediaPath } from '../fixtures';
import { TINY_DIR } from '../packServer';
import { loadImage, openApp, project } from './editor-helpers';
import { drawMotion } from './generate.helpers';

/** Nothing a kernel or a tensor would say is on the page. */
async function expectNoInternals(page: Page): Promise<void> {
  const text = await page.locator('body').innerText();
  expect(text).not.toMatch(/has shape \[|KernelInput|FlowSanitize|GPUOutOfMemoryError|Failed to allocate|\(simulated\)|NaN/);
}

test('bad input: broken flows are repaired and said, a mismatched pack is refused, GPU memory exhausted is said', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  await openApp(page);
  await expect(page.getByTestId('gpu-status')).toHaveAttribute('data-status', 'ready');
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawMotion(page);
  const before = await project(page);

  // 1. Broken flows: the render completes with the repaired motion and the page says so.
  await page.evaluate(() => window.__motionI2V!.simulateFault('bad-flows'));
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  const notice = page.getByTestId('job-notice');
  await expect(notice).toContainText('The motion was partly broken and was repaired before rendering');
  await expect(notice).toContainText('had no valid value (they stay still)');
  await expect(notice).toContainText("moved absurdly far (limited to 4 times the picture's size)");
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  await expect(page.getByTestId('player-canvas')).toBeVisible();
  await expectNoInternals(page);
  await notice.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('bad-flows.png') });
  expect(await project(page)).toEqual(before);

  // 2. A pack whose manifest renames a tensor its ONNX file keeps: refused at install, in words.
  const forged = mkdtempSync(join(tmpdir(), 'forged-pack-'));
  try {
    for (const f of readdirSync(TINY_DIR)) if (f.endsWith('.q8.onnx')) cpSync(resolve(TINY_DIR, f), join(forged, f));
    cpSync(resolve(TINY_DIR, 'tokenizer'), join(forged, 'tokenizer'), { recursive: true });
    const manifest = readFileSync(resolve(TINY_DIR, 'manifest.json'), 'utf8').replaceAll('"qkv_3"', '"renamed"');
    writeFileSync(join(forged, 'manifest.json'), manifest);
    const panel = page.getByTestId('pack-manager');
    await panel.getByTestId('pack-variant').selectOption('q8');
    await panel.getByTestId('pack-folder-input').setInputFiles(forged);
    const packError = panel.getByTestId('pack-error');
    await expect(packError).toContainText(
      'The model pack "motion-i2v-tiny" cannot be used: the manifest says part 4 of 15 of the video model (stage-2 UNet) makes "renamed", but its file stage2_unet.seg03.q8.onnx has no such output.',
      { timeout: 60_000 },
    );
    await expect(packError).toContainText('Your project is not affected.');
    await expect(panel.getByText('No model pack installed')).toBeVisible();
    await packError.scrollIntoViewIfNeeded();
    await page.screenshot({ path: testInfo.outputPath('pack-refused.png') });
    await packError.getByRole('button', { name: 'Dismiss' }).click();
  } finally {
    rmSync(forged, { recursive: true, force: true });
  }
  expect(await project(page)).toEqual(before);

  // 3. GPU memory exhausted in the middle of a neural job.
  const panel = page.getByTestId('pack-manager');
  await panel.getByTestId('pack-variant').selectOption('auto'); // fp32 on SwiftShader (no shader-f16)
  await panel.getByRole('button', { name: 'Install the test pack' }).click();
  await expect(panel.getByTestId('pack-row')).toHaveAttribute('data-state', 'installed', { timeout: 60_000 });
  await page.getByTestId('engine-neural').click();
  await expect(page.getByTestId('neural-settings')).toBeVisible();
  await page.getByTestId('inspect-motion').uncheck();
  await page.evaluate(() => window.__motionI2V!.simulateFault('out-of-memory', 2));
  await page.getByTestId('generate-button').click();
  const error = page.getByTestId('job-error');
  await expect(error).toContainText('The GPU ran out of memory during the job. Your image, trajectories and brush are kept.', {
    timeout: 60_000,
  });
  await expect(error).toContainText(
    'The model pack runs in fp32 here: install a smaller precision of it (q4 or q8 or q4c8) in Model packs',
  );
  await expectNoInternals(page);
  await error.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('out-of-memory.png') });
  expect(await project(page)).toEqual(before);
  // 4. The same as WebGPU reports it: a real allocation the GPU cannot back (the device's largest
  // buffer, which SwiftShader cannot allocate) next to the second model session. Nothing throws;
  // the job's out-of-memory scope, checked at every progress report, stops the job before its
  // first denoising step (with the scope read only at the end, the whole job would run first).
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { progressSeen: string[] }).progressSeen = seen;
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="job-stage"]')?.textContent;
      if (t && seen.at(-1) !== t) seen.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.evaluate(() => window.__motionI2V!.simulateFault('webgpu-out-of-memory', 2));
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'running');
  await expect(error).toContainText('The GPU ran out of memory during the job. Your image, trajectories and brush are kept.', {
    timeout: 90_000,
  });
  await expect(error).toContainText('install a smaller precision of it (q4 or q8 or q4c8) in Model packs');
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
  expect(seen.some((t) => t.includes('loading the model'))).toBe(true);
  expect(seen.filter((t) => /step \d+ of/.test(t))).toEqual([]);
  await expectNoInternals(page);
  expect(await project(page)).toEqual(before);

  // The previous video is kept; the next Generate works (the classical engine: a neural job takes minutes here).
  await expect(page.getByTestId('player-canvas')).toBeVisible();
  await page.getByTestId('engine-classical').click();
  // 5. A classical job meets the same real allocation failure at its start: the same words, without a pack to suggest.
  await page.evaluate(() => window.__motionI2V!.simulateFault('webgpu-out-of-memory', 0));
  await page.getByTestId('generate-button').click();
  await expect(error).toContainText('The GPU ran out of memory during the job. Your image, trajectories and brush are kept.', {
    timeout: 60_000,
  });
  await expectNoInternals(page);
  expect(await project(page)).toEqual(before);
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(error).toHaveCount(0);
  await expect(page.getByTestId('job-notice')).toHaveCount(0);
  expect(await project(page)).toEqual(before);
});
