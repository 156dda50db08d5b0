/**
 * Acceptance test of issue 4 (product part), as a new user would do it: load a real photo, draw
 * trajectories and paint the brush with the mouse, Generate (the progress bar moves and
 * completes), play the result, export MP4 and WebM, and check both files outside the app's own
 * video code (Node demux + a bare WebCodecs decoder; see generate.helpers.ts).
 */
import { test, expect } from '@playwright/test';
import { mediaPath } from '../fixtures';
import { loadImage, openApp, project } from './editor-helpers';
import { capturePlayerFrames, drawMotion, exportFile, generateAndWatch, verifyExport } from './generate.helpers';

test('photo -> trajectories + brush -> Generate -> play -> MP4 and WebM that match the player', async ({ page }, testInfo) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawMotion(page);
  const before = await project(page);
  expect(before.trajectories).toHaveLength(3);
  expect(before.brush.length).toBeGreaterThan(0);

  const { samples, stages } = await generateAndWatch(page);
  // The bar showed progress on the way (some value strictly between 0 and 1) and completed.
  expect(samples.some((p) => p > 0 && p < 1)).toBe(true);
  expect(samples.at(-1)).toBe(1);
  for (let i = 1; i < samples.length; i++) expect(samples[i]).toBeGreaterThanOrEqual(samples[i - 1]);
  expect(stages.join(' | ')).toMatch(/\d+%/);
  // Generating never edits the project.
  expect(await project(page)).toEqual(before);

  // It plays: the frame shown changes by itself.
  const frameAttr = () => page.getByTestId('player-canvas').getAttribute('data-frame');
  const seen = new Set<string | null>();
  for (let i = 0; i < 12 && seen.size < 3; i++) {
    seen.add(await frameAttr());
    await page.waitForTimeout(150);
  }
  expect(seen.size).toBeGreaterThanOrEqual(3);
  await expect(page.getByTestId('player-frame')).toContainText('/16');

  await page.screenshot({ path: testInfo.outputPath('generated.png') });

  // The frames differ from the still (something moved) but frame 0 is the still.
  await capturePlayerFrames(page, 16);
  const motion = await page.evaluate(() => {
    const f = (window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames;
    const mad = (a: ImageData, b: ImageData) => {
      let s = 0;
      for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i] - b.data[i]);
      return s / a.data.length;
    };
    return { last: mad(f[0], f[15]), mid: mad(f[0], f[8]) };
  });
  expect(motion.last).toBeGreaterThan(0.5);

  // Compare with the still: divider at 100% shows the still (frame 0), at 0% the video frame.
  await page.getByTestId('player-scrub').fill('15');
  await expect(page.getByTestId('player-canvas')).toHaveAttribute('data-frame', '15');
  await page.getByTestId('player-compare').check();
  const canvasDiff = (k: number) =>
    page.evaluate((k) => {
      const c = document.querySelector('[data-testid="player-canvas"]') as HTMLCanvasElement;
      const now = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const ref = (window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames[k].data;
      let max = 0;
      for (let i = 0; i < now.length; i++) max = Math.max(max, Math.abs(now[i] - ref[i]));
      return max;
    }, k);
  await page.getByTestId('player-split').fill('100');
  await expect.poll(() => canvasDiff(0)).toBe(0);
  await page.getByTestId('player-split').fill('0');
  await expect.poll(() => canvasDiff(15)).toBe(0);
  await page.getByTestId('player-split').fill('50');
  await page.screenshot({ path: testInfo.outputPath('compare.png') });
  await page.getByTestId('player-compare').uncheck();

  const fps = before.settings.fps;
  const mp4 = await exportFile(page, testInfo, 'mp4');
  expect(mp4.name).toBe(`motion-i2v_one_512x320_16f_${fps}fps_h264.mp4`);
  await verifyExport(page, mp4, { codec: 'avc', frames: 16, fps, width: 512, height: 320 });

  const webm = await exportFile(page, testInfo, 'webm');
  expect(webm.name).toBe(`motion-i2v_one_512x320_16f_${fps}fps_vp9.webm`);
  await verifyExport(page, webm, { codec: 'vp9', frames: 16, fps, width: 512, height: 320 });

  // A different speed: 12 fps gives a 16/12 s file.
  await page.getByTestId('player-fps').selectOption('12');
  const mp4At12 = await exportFile(page, testInfo, 'mp4');
  expect(mp4At12.name).toBe('motion-i2v_one_512x320_16f_12fps_h264.mp4');
  await capturePlayerFrames(page, 16);
  await verifyExport(page, mp4At12, { codec: 'avc', frames: 16, fps: 12, width: 512, height: 320 });
});

test('cancel stops a generation without touching the project; the engine works afterwards; live preview switch', async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId('generate-button')).toBeDisabled();
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawMotion(page);
  const before = await project(page);
  await page.getByTestId('generate-button').click();
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('job-cancelled')).toBeVisible();
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  expect(await project(page)).toEqual(before);
  // The engine still works after a cancel.
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(page.getByTestId('engine-neural')).toBeDisabled();
  // The live preview is off by default on this software GPU, and works when switched on.
  await expect(page.getByTestId('live-preview-toggle')).not.toBeChecked();
  await page.getByTestId('live-preview-toggle').check();
  await expect(page.getByTestId('preview-ms')).toBeVisible({ timeout: 60_000 });
});
