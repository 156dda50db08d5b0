/**
 * Export encoding: 16 real frames (Sintel, cover-cropped to 512x320) to MP4 (H.264) and WebM
 * (VP9) with src/video/encode.ts, versus mediabunny's own VideoSampleSource pipeline at the same
 * codec and bitrate, same page. Time per frame = wall time of the whole encode (including mux
 * and finalize) / 16; median of `repeats` after a warm-up. The note gives the mean and minimum
 * PSNR of the decoded frames against the source for both (our warm-up frame should lift the
 * first key frame). Writes bench/results/encode.json (format: bench/report.mjs).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '../e2e/fixtures';

const REPEATS = 5;

test('encode 16 frames 512x320: ours vs mediabunny VideoSampleSource', async ({ harness }) => {
  test.setTimeout(600_000);
  // Other engineers' edits must not reload the page mid-run (Vite HMR).
  await harness.routeWebSocket(/./, () => {});
  await harness.reload();
  const r = await harness.evaluate(async (repeats) => {
    const v = (await import(/* @vite-ignore */ '/src/video/index.ts' as string)) as typeof import('../src/video/index');
    const mb = (await import(
      /* @vite-ignore */ '/node_modules/mediabunny/dist/modules/src/index.js' as string
    )) as typeof import('mediabunny');
    const W = 512;
    const H = 320;
    const c = new OffscreenCanvas(W, H);
    const g = c.getContext('2d', { willReadFrequently: true })!;
    const bitmaps: ImageBitmap[] = [];
    const refs: ImageData[] = [];
    const order = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 24, 23, 22, 21, 20, 19]; // 16 frames, ping-pong
    for (const i of order) {
      const src = await createImageBitmap(await (await fetch(`/__media/sintel-raft/frame_${String(i).padStart(4, '0')}.png`)).blob());
      const sw = (W / H) * src.height;
      g.drawImage(src, (src.width - sw) / 2, 0, sw, src.height, 0, 0, W, H);
      refs.push(g.getImageData(0, 0, W, H));
      bitmaps.push(await createImageBitmap(c));
    }
    const psnr = (a: ImageData, b: ImageData) => {
      let se = 0;
      for (let i = 0; i < a.data.length; i += 4) for (let k = 0; k < 3; k++) se += (a.data[i + k] - b.data[i + k]) ** 2;
      return 10 * Math.log10((255 * 255) / (se / ((a.data.length / 4) * 3)));
    };
    const quality = async (blob: Blob) => {
      const d = await v.decodeVideo(blob);
      const p: number[] = d.frames.map((f: ImageData, k: number) => psnr(f, refs[k]));
      return { mean: p.reduce((a, b) => a + b, 0) / p.length, min: Math.min(...p), frames: d.frames.length };
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

    const ours = async (container: 'mp4' | 'webm') => (await v.encodeVideo(bitmaps, { container, fps: 8 })).blob as Blob;
    const theirs = async (container: 'mp4' | 'webm', codec: 'avc' | 'vp9', bitrate: number) => {
      const output = new mb.Output({
        format: container === 'mp4' ? new mb.Mp4OutputFormat({ fastStart: 'in-memory' }) : new mb.WebMOutputFormat(),
        target: new mb.BufferTarget(),
      });
      const source = new mb.VideoSampleSource({ codec, quality: new mb.Quality({ bitrate }), keyFrameInterval: 2 });
      output.addVideoTrack(source, { frameRate: 8 });
      await output.start();
      for (let i = 0; i < bitmaps.length; i++) {
        const s = new mb.VideoSample(bitmaps[i], { timestamp: i / 8, duration: 1 / 8 });
        await source.add(s);
        s.close();
      }
      source.close();
      await output.finalize();
      return new Blob([output.target.buffer as ArrayBuffer]);
    };

    const rows = [];
    for (const [container, codec] of [
      ['mp4', 'avc'],
      ['webm', 'vp9'],
    ] as const) {
      const bitrate: number = v.targetBitrate('very-high', codec, W, H, 8);
      const time = async (f: () => Promise<Blob>) => {
        let blob = await f(); // warm-up
        const ms: number[] = [];
        for (let i = 0; i < repeats; i++) {
          const t0 = performance.now();
          blob = await f();
          ms.push(performance.now() - t0);
        }
        return { ms: median(ms), blob };
      };
      const a = await time(() => ours(container));
      const b = await time(() => theirs(container, codec, bitrate));
      rows.push({
        container,
        codec,
        bitrate,
        ours: a.ms,
        base: b.ms,
        oursQ: await quality(a.blob),
        baseQ: await quality(b.blob),
        oursBytes: a.blob.size,
        baseBytes: b.blob.size,
      });
    }
    const adapter = await navigator.gpu?.requestAdapter();
    const info = adapter?.info;
    return {
      rows,
      device: info
        ? `${info.vendor} ${info.architecture || info.device || ''}`.trim() + (info.isFallbackAdapter ? ' (fallback adapter)' : '')
        : 'unknown',
    };
  }, REPEATS);

  const rows = r.rows.map((x) => ({
    case: `${x.container.toUpperCase()} ${x.codec === 'avc' ? 'H.264' : 'VP9'}, 16 frames 512x320 @ 8 fps, ${(x.bitrate / 1e6).toFixed(2)} Mbit/s (ms per frame)`,
    ours_ms: x.ours / 16,
    baseline: 'mediabunny VideoSampleSource, same codec + bitrate',
    baseline_ms: x.base / 16,
    ratio: x.base / x.ours,
    target: 'well under 1 frame time (125 ms)',
    note:
      `whole encode+mux ${x.ours.toFixed(0)} ms vs ${x.base.toFixed(0)} ms, median of ${REPEATS}; PSNR vs source mean/min ${x.oursQ.mean.toFixed(1)}/${x.oursQ.min.toFixed(1)} dB vs ` +
      `${x.baseQ.mean.toFixed(1)}/${x.baseQ.min.toFixed(1)} dB; ${x.oursBytes} vs ${x.baseBytes} bytes; software encoders in headless Chromium (CPU, not the GPU)`,
  }));
  for (const row of rows) console.log(`${row.case}: ${row.ours_ms.toFixed(1)} vs ${row.baseline_ms.toFixed(1)} ms/frame; ${row.note}`);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'encode.json'),
    JSON.stringify({ name: 'encode', device: r.device, date: new Date().toISOString(), rows }, null, 2) + '\n',
  );
});
