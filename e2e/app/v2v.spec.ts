/**
 * Video-to-video as a user does it, with the mouse and keyboard: open a real video (cat.mp4),
 * choose start, frame step and frame count, scrub the source frames, refuse a bad file without
 * losing anything, reload (the video is kept), load a restyled first frame, Generate, export an
 * MP4. References are independent: ffmpeg's decode and scaling of the same video frames and of
 * the restyled picture, and ffmpeg's decode of the exported MP4.
 *
 * Generate runs on a still video (a real frame held for 8 frames): whatever tracker runs, the
 * true motion is zero, so every output frame must show the restyled frame.
 */
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mediaPath } from '../fixtures';
import { openApp, project } from './editor-helpers';
import { exportFile } from './generate.helpers';
import { decodeRgb, ffprobe, rgbPsnr } from './ffmpeg';

const W = 512;
const H = 320;
/** cat.mp4 (ffprobe): 368x480, 20 fps, 87 frames. */
const CAT = { width: 368, height: 480, fps: 20 };

function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { maxBuffer: 1 << 28 });
}

/** `input` (a video's frames `indices`, or a picture) as ffmpeg scales it to cover W x H, centred, packed RGB. */
function coverRgb(input: string, indices?: number[]): Uint8Array[] {
  const scaledH = Math.round((CAT.height * W) / CAT.width);
  const pick = indices ? `select='${indices.map((n) => `eq(n\\,${n})`).join('+')}',` : '';
  const raw = ffmpeg([
    '-i',
    input,
    '-vf',
    `${pick}scale=${W}:${scaledH}:flags=bicubic,crop=${W}:${H}`,
    '-fps_mode',
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-',
  ]);
  const size = W * H * 3;
  return Array.from({ length: raw.length / size }, (_, k) => new Uint8Array(raw.buffer, raw.byteOffset + k * size, size));
}

/** What a canvas of the panel shows, packed RGB. */
async function canvasRgb(page: Page, testId: string): Promise<Uint8Array> {
  const b64 = await page.getByTestId(testId).evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let bin = '';
    for (let i = 0; i < d.length; i += 4) bin += String.fromCharCode(d[i], d[i + 1], d[i + 2]);
    return btoa(bin);
  });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

async function pick(page: Page, button: string, path: string): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId(button).click();
  await (await chooser).setFiles(path);
}

async function typeNumber(page: Page, testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(value);
  await page.keyboard.press('Enter');
}

test('video to video: real video in, scrubbed source matches ffmpeg, restyled frame animated and exported', async ({ page }, testInfo) => {
  const cat = mediaPath('videos/cat.mp4');
  // A real frame (0.5 s = frame 10) held still, its negative as the "restyled" frame, and a sound-only file.
  const first = testInfo.outputPath('first.png');
  const still = testInfo.outputPath('still.mp4');
  const restyled = testInfo.outputPath('restyled.png');
  const sound = testInfo.outputPath('sound.m4a');
  ffmpeg(['-i', cat, '-vf', "select='eq(n\\,10)'", '-frames:v', '1', first]);
  ffmpeg(['-loop', '1', '-framerate', '8', '-i', first, '-frames:v', '8', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', still]);
  ffmpeg(['-i', first, '-vf', 'negate', restyled]);
  ffmpeg(['-f', 'lavfi', '-i', 'sine=d=0.5', '-c:a', 'aac', sound]);

  await openApp(page);
  await pick(page, 'v2v-open-video', cat);
  await expect(page.getByTestId('v2v-video-name')).toHaveText('cat.mp4');
  await typeNumber(page, 'v2v-frames', '4');
  await typeNumber(page, 'v2v-start', '0.5');
  await typeNumber(page, 'v2v-stride', '2');
  expect((await project(page)).video).toMatchObject({ name: 'cat.mp4', width: CAT.width, height: CAT.height, startTime: 0.5, stride: 2 });
  expect((await project(page)).settings.frames).toBe(4);

  // Scrub with the keyboard to the last source frame: 10 + 3 * 2 = frame 16 of the file.
  await expect(page.getByTestId('v2v-source')).toHaveAttribute('data-ready', 'true');
  await page.getByTestId('v2v-scrub').focus();
  await page.keyboard.press('End');
  await expect(page.getByTestId('v2v-frame-label')).toContainText('Frame 3 of 3');
  const [f15, f16, f17] = coverRgb(cat, [15, 16, 17]);
  const shown = await canvasRgb(page, 'v2v-source');
  const right = rgbPsnr(shown, f16);
  console.log(
    `source frame 16: ${right.toFixed(2)} dB against ffmpeg (15: ${rgbPsnr(shown, f15).toFixed(2)}, 17: ${rgbPsnr(shown, f17).toFixed(2)})`,
  );
  expect(right).toBeGreaterThan(32);
  expect(right).toBeGreaterThan(rgbPsnr(shown, f15));
  expect(right).toBeGreaterThan(rgbPsnr(shown, f17));

  // A sound-only file is refused in words; the project keeps its video.
  await pick(page, 'v2v-open-video', sound);
  await expect(page.getByTestId('error-banner')).toContainText('has no video in it');
  await expect(page.getByTestId('v2v-video-name')).toHaveText('cat.mp4');

  // Reload: the video (stored by content hash) and its range come back.
  await expect(page.getByTestId('save-status')).toHaveAttribute('data-status', 'saved');
  await page.reload();
  await expect(page.getByTestId('v2v-video-name')).toHaveText('cat.mp4');
  await expect(page.getByTestId('v2v-source')).toHaveAttribute('data-ready', 'true');
  expect((await project(page)).video).toMatchObject({ startTime: 0.5, stride: 2 });

  // The source's first frame as the picture: frame 10 of the file.
  await page.getByTestId('v2v-use-first-frame').click();
  await expect(page.getByTestId('v2v-restyled')).toHaveAttribute('data-ready', 'true');
  const firstFrame = coverRgb(cat, [10])[0];
  await expect.poll(async () => rgbPsnr(await canvasRgb(page, 'v2v-restyled'), firstFrame)).toBeGreaterThan(26);

  // Generate on the still video with the restyled (negated) frame.
  await pick(page, 'v2v-open-video', still);
  await expect(page.getByTestId('v2v-video-name')).toHaveText('still.mp4');
  await typeNumber(page, 'v2v-start', '0');
  await typeNumber(page, 'v2v-stride', '1');
  await expect(page.getByTestId('v2v-source')).toHaveAttribute('data-ready', 'true');
  await pick(page, 'v2v-open-restyled', restyled);
  await expect(page.getByTestId('v2v-restyled')).toHaveAttribute('data-ready', 'true');
  const want = coverRgb(restyled)[0];
  await expect.poll(async () => rgbPsnr(await canvasRgb(page, 'v2v-restyled'), want)).toBeGreaterThan(30);
  // The source's first frame over a picture the user chose: the page says it was replaced, Undo brings it back.
  await page.getByTestId('v2v-use-first-frame').click();
  await expect(page.getByTestId('info-banner')).toHaveAttribute('data-code', 'photo-replaced');
  await expect(page.getByTestId('info-banner')).toContainText('Undo');
  await page.keyboard.press('Control+z');
  await expect.poll(async () => rgbPsnr(await canvasRgb(page, 'v2v-restyled'), want)).toBeGreaterThan(30);

  await page.getByTestId('v2v-generate').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  // The tracked motion of the last frame is shown.
  await page.getByTestId('v2v-scrub').focus();
  await page.keyboard.press('End');
  await expect(page.getByTestId('v2v-motion')).toHaveAttribute('data-ready', 'true');

  await page.getByTestId('v2v-panel').screenshot({ path: testInfo.outputPath('v2v-panel.png') });
  const mp4 = await exportFile(page, testInfo, 'mp4');
  expect(ffprobe(mp4.path)).toMatchObject({ codec: 'h264', width: W, height: H, frames: 4 });
  const out = decodeRgb(mp4.path, W, H);
  const psnrs = out.map((f) => rgbPsnr(f, want));
  console.log(`exported frames vs the restyled frame (ffmpeg both sides): ${psnrs.map((p) => p.toFixed(2)).join(', ')} dB`);
  expect(out).toHaveLength(4);
  for (const p of psnrs) expect(p).toBeGreaterThan(35);
});
