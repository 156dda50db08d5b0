/**
 * Helpers for the generate/export acceptance tests (generate.spec.ts, offline.spec.ts).
 *
 * Exported files are checked without the app's own video code: Node demuxes them with
 * mediabunny (codec, packet count, duration, size, the raw packets), and the page decodes those
 * packets with a bare WebCodecs VideoDecoder written here, then compares decoded frame k with
 * the pixels the player's canvas showed for frame k (PSNR computed here).
 */
import { expect, type Page, type TestInfo } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { BufferSource, EncodedPacketSink, Input, ALL_FORMATS } from 'mediabunny';
import { canvasBox, clickAt, dragThrough } from './editor-helpers';

/** Two trajectories (clicked and sketched), an anchor, and a brush stroke over the moving part. */
export async function drawMotion(page: Page): Promise<void> {
  const b = await canvasBox(page);
  await page.getByTestId('tool-trajectory').click();
  await clickAt(page, b, 140, 150);
  await clickAt(page, b, 190, 170);
  await clickAt(page, b, 240, 150);
  await page.keyboard.press('Enter');
  await dragThrough(page, b, [
    [330, 200],
    [360, 220],
    [400, 230],
  ]);
  await clickAt(page, b, 470, 60);
  await page.keyboard.press('Enter');
  await page.getByTestId('tool-brush').click();
  await page.getByTestId('brush-size').fill('60');
  await dragThrough(page, b, [
    [120, 140],
    [250, 170],
    [400, 220],
  ]);
  await page.getByTestId('tool-trajectory').click();
}

/** Presses Generate, samples the progress bar while it runs, and waits for the result. */
export async function generateAndWatch(page: Page): Promise<{ samples: number[]; stages: string[] }> {
  // Sample the progress bar from inside the page (every animation frame) so short stages are seen.
  await page.evaluate(() => {
    const w = window as unknown as { __progress: number[]; __stages: string[] };
    w.__progress = [];
    w.__stages = [];
    const poll = () => {
      const el = document.querySelector('[data-testid="job-progress"]') as HTMLElement | null;
      if (el) {
        const p = Number(el.dataset.progress);
        if (w.__progress.at(-1) !== p) w.__progress.push(p);
        const s = document.querySelector('[data-testid="job-stage"]')?.textContent ?? '';
        if (el.dataset.status === 'running' && w.__stages.at(-1) !== s) w.__stages.push(s);
        if (el.dataset.status === 'done') return;
      }
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
  await page.getByTestId('generate-button').click();
  await expect(page.getByTestId('job-progress')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(page.getByTestId('player-canvas')).toBeVisible();
  return page.evaluate(() => {
    const w = window as unknown as { __progress: number[]; __stages: string[] };
    return { samples: w.__progress, stages: w.__stages };
  });
}

/** Pauses the player and steps through every frame, keeping what its canvas shows (in the page). */
export async function capturePlayerFrames(page: Page, count: number): Promise<void> {
  const play = page.getByTestId('player-play');
  if ((await play.getAttribute('data-playing')) === 'true') await play.click();
  await page.evaluate(() => ((window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames = {}));
  for (let i = 0; i < count; i++) {
    await page.evaluate(() => {
      const c = document.querySelector('[data-testid="player-canvas"]') as HTMLCanvasElement;
      const k = Number(c.dataset.frame);
      (window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames[k] = c
        .getContext('2d')!
        .getImageData(0, 0, c.width, c.height);
    });
    await page.getByTestId('player-next').click();
  }
  const have = await page.evaluate(
    () => Object.keys((window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames).length,
  );
  expect(have).toBe(count);
}

/** Chooses a format in the export panel, exports, and saves the download. */
export async function exportFile(page: Page, testInfo: TestInfo, format: 'mp4' | 'webm'): Promise<{ path: string; name: string }> {
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

export interface Demuxed {
  codec: string | null;
  codecString: string | null;
  width: number;
  height: number;
  duration: number;
  packetCount: number;
  decoderConfig: { codec: string; codedWidth?: number; codedHeight?: number; description?: number[] };
  packets: { data: number[]; timestamp: number; duration: number; key: boolean }[];
}

/** Demuxes a file in Node with mediabunny: metadata and every packet. */
export async function demux(path: string): Promise<Demuxed> {
  const bytes = readFileSync(path);
  const input = new Input({ source: new BufferSource(new Uint8Array(bytes)), formats: ALL_FORMATS });
  const track = await input.getPrimaryVideoTrack();
  if (!track) throw new Error(`${path}: no video track`);
  const cfg = await track.getDecoderConfig();
  if (!cfg) throw new Error(`${path}: no decoder config`);
  const packets: Demuxed['packets'] = [];
  const sink = new EncodedPacketSink(track);
  for await (const p of sink.packets())
    packets.push({ data: Array.from(p.data), timestamp: p.timestamp, duration: p.duration, key: p.type === 'key' });
  const desc = cfg.description
    ? new Uint8Array(
        ArrayBuffer.isView(cfg.description)
          ? cfg.description.buffer.slice(cfg.description.byteOffset, cfg.description.byteOffset + cfg.description.byteLength)
          : cfg.description,
      )
    : undefined;
  const out: Demuxed = {
    codec: await track.getCodec(),
    codecString: await track.getCodecParameterString(),
    width: await track.getDisplayWidth(),
    height: await track.getDisplayHeight(),
    duration: await track.computeDuration(),
    packetCount: packets.length,
    decoderConfig: {
      codec: cfg.codec,
      codedWidth: cfg.codedWidth,
      codedHeight: cfg.codedHeight,
      description: desc ? Array.from(desc) : undefined,
    },
    packets,
  };
  input.dispose();
  return out;
}

/** Decodes the packets in the page with WebCodecs and returns PSNR of decoded frame k vs the player's frame k. */
export async function psnrAgainstPlayer(page: Page, d: Demuxed): Promise<number[]> {
  return page.evaluate(async (d) => {
    const shown = (window as unknown as { __playerFrames: Record<number, ImageData> }).__playerFrames;
    const canvas = new OffscreenCanvas(d.width, d.height);
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    const decoded: ImageData[] = [];
    const decoder = new VideoDecoder({
      output: (f) => {
        g.drawImage(f, 0, 0, d.width, d.height);
        decoded.push(g.getImageData(0, 0, d.width, d.height));
        f.close();
      },
      error: (e) => {
        throw e;
      },
    });
    decoder.configure({
      codec: d.decoderConfig.codec,
      codedWidth: d.decoderConfig.codedWidth,
      codedHeight: d.decoderConfig.codedHeight,
      description: d.decoderConfig.description ? new Uint8Array(d.decoderConfig.description) : undefined,
    });
    for (const p of d.packets)
      decoder.decode(
        new EncodedVideoChunk({
          type: p.key ? 'key' : 'delta',
          timestamp: Math.round(p.timestamp * 1e6),
          duration: Math.round(p.duration * 1e6),
          data: new Uint8Array(p.data),
        }),
      );
    await decoder.flush();
    decoder.close();
    return decoded.map((a, k) => {
      const b = shown[k];
      if (!b || b.width !== a.width || b.height !== a.height) return -1;
      let se = 0;
      let n = 0;
      for (let i = 0; i < a.data.length; i += 4) {
        for (let c = 0; c < 3; c++) {
          const diff = a.data[i + c] - b.data[i + c];
          se += diff * diff;
        }
        n += 3;
      }
      return se === 0 ? 99 : 10 * Math.log10((255 * 255) / (se / n));
    });
  }, d);
}

/** Everything the acceptance test asks of an exported file. */
export async function verifyExport(
  page: Page,
  file: { path: string; name: string },
  want: { codec: string; frames: number; fps: number; width: number; height: number },
): Promise<number[]> {
  const d = await demux(file.path);
  expect(d.codec).toBe(want.codec);
  expect(d.packetCount).toBe(want.frames);
  expect(d.duration).toBeCloseTo(want.frames / want.fps, 3);
  expect([d.width, d.height]).toEqual([want.width, want.height]);
  const psnr = await psnrAgainstPlayer(page, d);
  expect(psnr).toHaveLength(want.frames);
  console.log(`${file.name}: ${readFileSync(file.path).length} bytes, PSNR vs player min ${Math.min(...psnr).toFixed(1)} dB`);
  expect(Math.min(...psnr)).toBeGreaterThanOrEqual(35);
  return psnr;
}
