/**
 * Exported files checked by an independent decoder (ffmpeg) against the PNG frames of the same
 * result, as a user makes them: a real photo, trajectories and brush drawn with the mouse,
 * Generate, then each format exported with the panel's controls at the default quality.
 *
 * The MP4 is encoded by Chromium's WebCodecs from RGB frames and tagged full range (yuvj420p).
 * Its frames decoded to RGB by ffmpeg (what VLC/mpv do with the tag) must match the PNG frames:
 * a player that ignored the tag would stretch luma by 255/219 around 16 and fall far below the
 * 40 dB asked here. RGB PSNR is bounded by 4:2:0 chroma on a colourful photo (about 30 dB).
 */
import { test, expect, type Page, type TestInfo } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { mediaPath } from '../fixtures';
import { loadImage, openApp, project } from './editor-helpers';
import { drawMotion, generateAndWatch } from './generate.helpers';
import { decodeRgb, ffprobe, lumaPsnr, rgbPsnr } from './ffmpeg';

type Format = 'mp4' | 'webm' | 'gif' | 'png-zip';

async function exportAs(page: Page, testInfo: TestInfo, format: Format): Promise<{ path: string; name: string }> {
  await page.getByTestId('export-format').selectOption(format);
  const downloadPromise = page.waitForEvent('download');
  await page.getByTestId('export-button').click();
  const download = await downloadPromise;
  const name = download.suggestedFilename();
  const path = testInfo.outputPath(name);
  await download.saveAs(path);
  await expect(page.getByTestId('export-status')).toHaveAttribute('data-status', 'done');
  return { path, name };
}

/**
 * Frames of a video file as Chromium's own <video> element shows them (seeked to the middle of
 * each frame, drawn on a canvas), packed RGB: the other decoder whose colours must agree.
 */
async function browserPlayerFrames(page: Page, path: string, mime: string, fps: number, count: number): Promise<Uint8Array[]> {
  const b64 = readFileSync(path).toString('base64');
  const frames = await page.evaluate(
    async ({ b64, mime, fps, count }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const v = document.createElement('video');
      v.muted = true;
      v.src = URL.createObjectURL(new Blob([bytes], { type: mime }));
      await new Promise((resolve, reject) => {
        v.onloadeddata = resolve;
        v.onerror = () => reject(new Error(`<video> cannot play ${mime}: ${v.error?.message}`));
      });
      const g = new OffscreenCanvas(v.videoWidth, v.videoHeight).getContext('2d', { willReadFrequently: true })!;
      const out: string[] = [];
      for (let k = 0; k < count; k++) {
        // 'seeked' can fire before the frame at the new time is what drawImage draws (seen on a
        // loaded machine: it drew the previous frame, or nothing). requestVideoFrameCallback
        // reports the media time of the frame actually presented: wait for frame k's.
        const presented = new Promise<number>((r) => v.requestVideoFrameCallback((_now, meta) => r(meta.mediaTime)));
        v.currentTime = (k + 0.5) / fps;
        await new Promise((r) => (v.onseeked = r));
        let mediaTime = await Promise.race([presented, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
        let rgba = new Uint8ClampedArray(0);
        for (let attempt = 0; attempt < 100; attempt++) {
          if (Math.floor(mediaTime * fps + 1e-3) !== k) {
            mediaTime = await new Promise<number>((r) => {
              v.requestVideoFrameCallback((_now, meta) => r(meta.mediaTime));
              setTimeout(() => r(-1), 100);
            });
            continue;
          }
          g.clearRect(0, 0, v.videoWidth, v.videoHeight);
          g.drawImage(v, 0, 0);
          rgba = g.getImageData(0, 0, v.videoWidth, v.videoHeight).data;
          if (rgba[3] === 255 && rgba[rgba.length - 1] === 255) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        let bin = '';
        for (let i = 0; i < rgba.length; i += 4) bin += String.fromCharCode(rgba[i], rgba[i + 1], rgba[i + 2]);
        out.push(btoa(bin));
      }
      URL.revokeObjectURL(v.src);
      return out;
    },
    { b64, mime, fps, count },
  );
  return frames.map((f) => new Uint8Array(Buffer.from(f, 'base64')));
}

const W = 512;
const H = 320;
const N = 16;

test('MP4, WebM and GIF decoded by ffmpeg match the PNG frames of the same result', async ({ page }, testInfo) => {
  await openApp(page);
  await loadImage(page, mediaPath('softsplat/one.png'));
  await drawMotion(page);
  await generateAndWatch(page);
  const fps = (await project(page)).settings.fps;
  const base = `motion-i2v_one_${W}x${H}_${N}f_${fps}fps`;

  // The reference: the lossless PNG frames, decoded by ffmpeg too.
  const zip = await exportAs(page, testInfo, 'png-zip');
  expect(zip.name).toBe(`${base}_png.zip`);
  const dir = testInfo.outputPath('png');
  mkdirSync(dir, { recursive: true });
  const entries = unzipSync(new Uint8Array(readFileSync(zip.path)));
  expect(Object.keys(entries).sort()).toEqual(Array.from({ length: N }, (_, k) => `${base}_frame${String(k).padStart(2, '0')}.png`));
  for (const [name, bytes] of Object.entries(entries)) writeFileSync(join(dir, name), bytes);
  const png = decodeRgb(join(dir, `${base}_frame%02d.png`), W, H);
  expect(png).toHaveLength(N);
  // Something moved, so a file stuck on one frame cannot pass.
  expect(rgbPsnr(png[0], png[N - 1])).toBeLessThan(35);

  const report: string[] = [];
  const compare = (name: string, frames: Uint8Array[]) => {
    expect(frames).toHaveLength(N);
    const luma = frames.map((f, k) => lumaPsnr(f, png[k]));
    const rgb = frames.map((f, k) => rgbPsnr(f, png[k]));
    // The frames are in order: frame k is closer to PNG k than to PNG k+1 wherever they differ.
    for (let k = 0; k + 1 < N; k++) if (rgbPsnr(png[k], png[k + 1]) < 40) expect(luma[k]).toBeGreaterThan(lumaPsnr(frames[k], png[k + 1]));
    report.push(`${name}: luma PSNR min ${Math.min(...luma).toFixed(2)} dB, RGB PSNR min ${Math.min(...rgb).toFixed(2)} dB`);
    return { luma: Math.min(...luma), rgb: Math.min(...rgb) };
  };

  const mp4 = await exportAs(page, testInfo, 'mp4');
  expect(mp4.name).toBe(`${base}_h264.mp4`);
  const mp4Probe = ffprobe(mp4.path);
  report.push(`${mp4.name}: ${JSON.stringify(mp4Probe)}`);
  expect(mp4Probe).toMatchObject({ codec: 'h264', width: W, height: H, frames: N });
  expect(mp4Probe.duration).toBeCloseTo(N / fps, 2);
  const mp4Psnr = compare(mp4.name, decodeRgb(mp4.path, W, H));
  expect(mp4Psnr.luma).toBeGreaterThanOrEqual(40);
  expect(mp4Psnr.rgb).toBeGreaterThanOrEqual(30);
  // Full range kept: Chromium's <video> shows the same colours as ffmpeg's decode.
  const shown = compare(`${mp4.name} in <video>`, await browserPlayerFrames(page, mp4.path, 'video/mp4', fps, N));
  expect(shown.luma).toBeGreaterThanOrEqual(40);

  const webm = await exportAs(page, testInfo, 'webm');
  expect(webm.name).toBe(`${base}_vp9.webm`);
  const webmProbe = ffprobe(webm.path);
  report.push(`${webm.name}: ${JSON.stringify(webmProbe)}`);
  expect(webmProbe).toMatchObject({ codec: 'vp9', width: W, height: H, frames: N });
  const webmPsnr = compare(webm.name, decodeRgb(webm.path, W, H));
  expect(webmPsnr.luma).toBeGreaterThanOrEqual(40);
  expect(webmPsnr.rgb).toBeGreaterThanOrEqual(30);

  const gif = await exportAs(page, testInfo, 'gif');
  expect(gif.name).toBe(`${base}.gif`);
  const gifProbe = ffprobe(gif.path);
  report.push(`${gif.name}: ${readFileSync(gif.path).length} bytes ${JSON.stringify(gifProbe)}`);
  expect(gifProbe).toMatchObject({ codec: 'gif', width: W, height: H, frames: N });
  expect(gifProbe.duration).toBeCloseTo(N / fps, 2);
  const gifPsnr = compare(gif.name, decodeRgb(gif.path, W, H));
  // Palette quantisation bounds a GIF: 255 colours plus an ordered dither of +-6 levels (see
  // src/video/gif.ts). Measured 35.2 dB RGB, 36.0 dB luma on this photo; 33 dB leaves room for
  // other pictures' palettes, and a lost, repeated or misplaced frame falls far below it.
  expect(gifPsnr.rgb).toBeGreaterThanOrEqual(33);

  // A GIF export shows its progress and stops on Cancel, without a download or an error.
  let downloads = 0;
  page.on('download', () => downloads++);
  // The GIF can finish before a test's next round-trip on a fast run: the page clicks Cancel the
  // moment it appears (a person's click during the export), then the test checks the outcome.
  await page.evaluate(() => {
    new MutationObserver((_records, observer) => {
      const cancel = document.querySelector<HTMLButtonElement>('[data-testid="export-cancel"]');
      if (cancel && document.querySelector('[data-testid="export-progress"]')) {
        observer.disconnect();
        cancel.click();
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
  await page.getByTestId('export-button').click();
  await expect(page.getByTestId('export-status')).toHaveAttribute('data-status', 'cancelled');
  await expect(page.getByTestId('export-status')).toHaveText('Export cancelled.');
  await page.waitForTimeout(500);
  expect(downloads).toBe(0);
  console.log(report.join('\n'));
  writeFileSync(testInfo.outputPath('report.txt'), report.join('\n'));
});
