/**
 * src/video in real Chromium: encode frames to MP4/WebM, demux and decode them back, compare
 * decoded frame k with source frame k (PSNR, computed here on the CPU, not by src), read a real
 * camera video, write PNG frames losslessly. Container bytes are also checked by their magic
 * numbers so a wrong container is caught without trusting mediabunny's own reader.
 */
import { test, expect } from '../fixtures';

/** Values measured with ffprobe on ../shared/media/videos/apple.mp4 (an independent reader). */
const APPLE = { width: 1296, height: 720, frames: 50, fps: 10, duration: 5, codec: 'avc' };

// Helpers injected into the page (the page cannot import from the test tree's node side).
const PAGE_HELPERS = `
window.__psnr = (a, b) => {
  if (a.width !== b.width || a.height !== b.height) throw new Error('size mismatch ' + a.width + 'x' + a.height + ' vs ' + b.width + 'x' + b.height);
  let se = 0, n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) { const d = a.data[i + c] - b.data[i + c]; se += d * d; }
    n += 3;
  }
  const mse = se / n;
  return mse === 0 ? 99 : 10 * Math.log10(255 * 255 / mse);
};
// Smooth gradient background plus shapes that move with k: structure an encoder must keep.
window.__syntheticFrames = (w, h, count) => {
  const out = [];
  const c = new OffscreenCanvas(w, h);
  const g = c.getContext('2d', { willReadFrequently: true });
  for (let k = 0; k < count; k++) {
    const grad = g.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, 'rgb(30,60,120)');
    grad.addColorStop(1, 'rgb(230,190,90)');
    g.fillStyle = grad; g.fillRect(0, 0, w, h);
    const rad = g.createRadialGradient(60 + 18 * k, h / 2, 4, 60 + 18 * k, h / 2, 50);
    rad.addColorStop(0, 'rgb(250,250,240)'); rad.addColorStop(1, 'rgba(200,40,40,0.0)');
    g.fillStyle = rad; g.beginPath(); g.arc(60 + 18 * k, h / 2, 50, 0, 2 * Math.PI); g.fill();
    g.fillStyle = 'rgb(40,160,80)'; g.fillRect(w - 120, 20 + 12 * k, 70, 50);
    g.strokeStyle = 'rgb(20,20,20)'; g.lineWidth = 3; g.beginPath(); g.moveTo(0, h - 30 - 4 * k); g.lineTo(w, h - 60 + 3 * k); g.stroke();
    out.push(g.getImageData(0, 0, w, h));
  }
  return out;
};
`;

test.describe('video encode/decode', () => {
  test.beforeEach(async ({ harness }) => {
    // Edits elsewhere in a shared checkout make Vite's HMR reload the page mid-test: mute its socket.
    await harness.routeWebSocket(/./, () => {});
    await harness.reload();
    await harness.evaluate(PAGE_HELPERS);
  });

  for (const container of ['mp4', 'webm'] as const) {
    test(`synthetic 16 frames 512x320 -> ${container} -> decoded back frame by frame`, async ({ harness }) => {
      const r = await harness.evaluate(async (container) => {
        const v = (await import(/* @vite-ignore */ '/src/video/index.ts' as string)) as typeof import('../../src/video/index');
        const w = window as unknown as {
          __syntheticFrames: (w: number, h: number, n: number) => ImageData[];
          __psnr: (a: ImageData, b: ImageData) => number;
        };
        const frames = w.__syntheticFrames(512, 320, 16);
        const progress: number[] = [];
        const t0 = performance.now();
        const enc = await v.encodeVideo(frames, {
          container,
          fps: 8,
          baseName: v.videoBaseName({ imageName: 'synthetic.png', width: 512, height: 320, frames: 16, fps: 8 }),
          onProgress: (p: { fraction: number }) => progress.push(p.fraction),
        });
        const encodeMs = performance.now() - t0;
        const head = new Uint8Array(await enc.blob.slice(0, 12).arrayBuffer());
        const dec = await v.decodeVideo(enc.blob);
        const psnr: number[] = dec.frames.map((f: ImageData, k: number) => w.__psnr(f, frames[k]));
        // A decoded frame must match ITS source frame better than its neighbour (no shift in time).
        const shifted = w.__psnr(dec.frames[5], frames[6]);
        return {
          encodeMs,
          codec: enc.codec,
          mime: enc.mimeType,
          fileName: enc.fileName,
          size: enc.blob.size,
          head: Array.from(head),
          progress,
          dec: {
            codec: dec.codec,
            frameCount: dec.frameCount,
            n: dec.frames.length,
            fps: dec.fps,
            duration: dec.duration,
            width: dec.width,
            height: dec.height,
            timestamps: dec.timestamps,
          },
          psnr,
          shifted,
        };
      }, container);
      console.log(
        `${container}: ${r.codec} ${r.size} bytes, encode ${r.encodeMs.toFixed(0)} ms, PSNR min ${Math.min(...r.psnr).toFixed(1)} dB mean ${(r.psnr.reduce((a, b) => a + b, 0) / r.psnr.length).toFixed(1)} dB, neighbour ${r.shifted.toFixed(1)} dB`,
      );
      const expectedCodec = container === 'mp4' ? 'avc' : 'vp9'; // platform-facts: this Chromium has both encoders
      expect(r.codec).toBe(expectedCodec);
      expect(r.dec.codec).toBe(expectedCodec);
      expect(r.mime).toContain(container === 'mp4' ? 'video/mp4' : 'video/webm');
      expect(r.fileName).toBe(`motion-i2v_synthetic_512x320_16f_8fps_${container === 'mp4' ? 'h264' : 'vp9'}.${container}`);
      if (container === 'mp4') expect(String.fromCharCode(...r.head.slice(4, 8))).toBe('ftyp');
      else expect(r.head.slice(0, 4)).toEqual([0x1a, 0x45, 0xdf, 0xa3]); // EBML magic
      expect(r.dec.frameCount).toBe(16);
      expect(r.dec.n).toBe(16);
      expect(r.dec.width).toBe(512);
      expect(r.dec.height).toBe(320);
      expect(r.dec.duration).toBeCloseTo(2, 3);
      expect(r.dec.fps).toBeCloseTo(8, 3);
      r.dec.timestamps.forEach((t: number, k: number) => expect(t).toBeCloseTo(k / 8, 3));
      expect(Math.min(...r.psnr)).toBeGreaterThanOrEqual(35);
      expect(r.shifted).toBeLessThan(r.psnr[5] - 3);
      expect(r.progress.at(-1)).toBe(1);
      for (let i = 1; i < r.progress.length; i++) expect(r.progress[i]).toBeGreaterThanOrEqual(r.progress[i - 1]);
    });
  }

  test('real Sintel frames resized to 512x320 survive H.264 at >= 35 dB; fps 12 gives duration 10/12', async ({ harness }) => {
    const r = await harness.evaluate(async () => {
      const v = (await import(/* @vite-ignore */ '/src/video/index.ts' as string)) as typeof import('../../src/video/index');
      const w = window as unknown as { __psnr: (a: ImageData, b: ImageData) => number };
      const c = new OffscreenCanvas(512, 320);
      const g = c.getContext('2d', { willReadFrequently: true })!;
      const bitmaps: ImageBitmap[] = [];
      const refs: ImageData[] = [];
      for (let i = 16; i <= 25; i++) {
        const blob = await (await fetch(`/__media/sintel-raft/frame_${String(i).padStart(4, '0')}.png`)).blob();
        const src = await createImageBitmap(blob);
        // cover-crop 1024x436 -> 512x320: scale to height, centre horizontally
        const s = 320 / src.height;
        const sw = 512 / s;
        g.drawImage(src, (src.width - sw) / 2, 0, sw, src.height, 0, 0, 512, 320);
        refs.push(g.getImageData(0, 0, 512, 320));
        bitmaps.push(await createImageBitmap(c));
      }
      const enc = await v.encodeVideo(bitmaps, { container: 'mp4', fps: 12 });
      const dec = await v.decodeVideo(enc.blob);
      return {
        codec: dec.codec,
        n: dec.frames.length,
        duration: dec.duration,
        fps: dec.fps,
        psnr: dec.frames.map((f: ImageData, k: number) => w.__psnr(f, refs[k])) as number[],
      };
    });
    console.log(`sintel mp4: PSNR min ${Math.min(...r.psnr).toFixed(1)} dB`);
    expect(r.codec).toBe('avc');
    expect(r.n).toBe(10);
    expect(r.duration).toBeCloseTo(10 / 12, 3);
    expect(r.fps).toBeCloseTo(12, 2);
    expect(Math.min(...r.psnr)).toBeGreaterThanOrEqual(35);
  });

  test('decodes the real apple.mp4 with the size, frame count and rate ffprobe reports', async ({ harness }) => {
    const r = await harness.evaluate(async () => {
      const v = (await import(/* @vite-ignore */ '/src/video/index.ts' as string)) as typeof import('../../src/video/index');
      const blob = await (await fetch('/__media/videos/apple.mp4')).blob();
      const dec = await v.decodeVideo(blob, { maxFrames: 6 });
      const f = dec.frames[3];
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < f.data.length; i += 4) {
        const y = 0.299 * f.data[i] + 0.587 * f.data[i + 1] + 0.114 * f.data[i + 2];
        sum += y;
        sq += y * y;
      }
      const n = f.data.length / 4;
      return {
        ...dec,
        frames: dec.frames.length,
        frameSize: [f.width, f.height],
        lumaMean: sum / n,
        lumaStd: Math.sqrt(sq / n - (sum / n) ** 2),
      };
    });
    expect(r.codec).toBe(APPLE.codec);
    expect(r.codecString).toMatch(/^avc1\./);
    expect(r.mimeType).toContain('video/mp4');
    expect([r.width, r.height]).toEqual([APPLE.width, APPLE.height]);
    expect(r.frameSize).toEqual([APPLE.width, APPLE.height]);
    expect(r.frameCount).toBe(APPLE.frames);
    expect(r.frames).toBe(6); // maxFrames honoured
    expect(r.fps).toBeCloseTo(APPLE.fps, 1);
    expect(r.duration).toBeCloseTo(APPLE.duration, 1);
    expect(r.metadataDuration).toBeCloseTo(r.duration, 1); // header agrees with the packets
    // A real picture, not a black or flat frame.
    expect(r.lumaMean).toBeGreaterThan(20);
    expect(r.lumaMean).toBeLessThan(235);
    expect(r.lumaStd).toBeGreaterThan(10);
  });

  test('MP4 falls back to VP9 when the browser has no H.264 encoder', async ({ harness }) => {
    const r = await harness.evaluate(async () => {
      // A browser without H.264 encoding (e.g. some Linux builds): every avc1 config is unsupported.
      const real = VideoEncoder.isConfigSupported.bind(VideoEncoder);
      VideoEncoder.isConfigSupported = async (config: VideoEncoderConfig) =>
        config.codec.startsWith('avc1') ? { supported: false, config } : real(config);
      const v = (await import(/* @vite-ignore */ '/src/video/index.ts' as string)) as typeof import('../../src/video/index');
      const w = window as unknown as {
        __syntheticFrames: (w: number, h: number, n: number) => ImageData[];
        __psnr: (a: ImageData, b: ImageData) => number;
      };
      const frames = w.__syntheticFrames(320, 512, 8);
      const enc = await v.encodeVideo(frames, { container: 'mp4', fps: 8, baseName: 'clip' });
      const head = new Uint8Array(await enc.blob.slice(4, 8).arrayBuffer());
      const dec = await v.decodeVideo(enc.blob);
      const forced = await v.encodeVideo(frames, { container: 'mp4', codec: 'avc', fps: 8 }).then(
        () => 'resolved',
        (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
      );
      return {
        codec: enc.codec,
        fileName: enc.fileName,
        box: String.fromCharCode(...head),
        dec: { codec: dec.codec, n: dec.frames.length, w: dec.width, h: dec.height },
        psnr: Math.min(...dec.frames.map((f: ImageData, k: number) => w.__psnr(f, frames[k]))),
        forced,
      };
    });
    expect(r.codec).toBe('vp9');
    expect(r.fileName).toBe('clip_vp9.mp4');
    expect(r.box).toBe('ftyp');
    expect(r.dec).toEqual({ codec: 'vp9', n: 8, w: 320, h: 512 });
    expect(r.psnr).toBeGreaterThanOrEqual(35);
    expect(r.forced).toMatch(/^encode: This browser cannot encode h264 at 320x512/);
  });

  test('PNG zip holds every frame losslessly', async ({ harness }) => {
    const r = await harness.evaluate(async () => {
      const v = (await import(/* @vite-ignore */ '/src/video/index.ts' as string)) as typeof import('../../src/video/index');
      const w = window as unknown as { __syntheticFrames: (w: number, h: number, n: number) => ImageData[] };
      const frames = w.__syntheticFrames(320, 320, 4);
      const zipped = await v.encodePngZip(frames, 'motion-i2v_x_320x320_4f_8fps');
      // Read the zip with a reader written here (stored entries: local header, name, raw bytes).
      const bytes = new Uint8Array(await zipped.blob.arrayBuffer());
      const view = new DataView(bytes.buffer);
      const files: Record<string, Uint8Array> = {};
      let at = 0;
      while (view.getUint32(at, true) === 0x04034b50) {
        const method = view.getUint16(at + 8, true);
        const size = view.getUint32(at + 18, true);
        const nameLen = view.getUint16(at + 26, true);
        const extraLen = view.getUint16(at + 28, true);
        const name = new TextDecoder().decode(bytes.subarray(at + 30, at + 30 + nameLen));
        if (method !== 0) throw new Error(`entry ${name} is compressed (method ${method})`);
        const start = at + 30 + nameLen + extraLen;
        files[name] = bytes.slice(start, start + size);
        at = start + size;
      }
      const names = Object.keys(files).sort();
      const c = new OffscreenCanvas(320, 320);
      const g = c.getContext('2d', { willReadFrequently: true })!;
      let maxDiff = 0;
      for (let k = 0; k < names.length; k++) {
        const bmp = await createImageBitmap(new Blob([files[names[k]] as BlobPart], { type: 'image/png' }));
        g.clearRect(0, 0, 320, 320);
        g.drawImage(bmp, 0, 0);
        const d = g.getImageData(0, 0, 320, 320).data;
        for (let i = 0; i < d.length; i++) maxDiff = Math.max(maxDiff, Math.abs(d[i] - frames[k].data[i]));
      }
      return { fileName: zipped.fileName, names, maxDiff };
    });
    expect(r.fileName).toBe('motion-i2v_x_320x320_4f_8fps_png.zip');
    expect(r.names).toEqual([0, 1, 2, 3].map((k) => `motion-i2v_x_320x320_4f_8fps_frame0${k}.png`));
    expect(r.maxDiff).toBe(0);
  });

  test('rejects bad input before encoding and cancels cleanly', async ({ harness }) => {
    const r = await harness.evaluate(async () => {
      const v = (await import(/* @vite-ignore */ '/src/video/index.ts' as string)) as typeof import('../../src/video/index');
      const w = window as unknown as { __syntheticFrames: (w: number, h: number, n: number) => ImageData[] };
      const code = async (p: Promise<unknown>) =>
        p.then(
          () => 'resolved',
          (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
        );
      const odd = [new ImageData(321, 320)];
      const mixed = [new ImageData(320, 320), new ImageData(512, 320)];
      const frames = w.__syntheticFrames(320, 320, 16);
      const ac = new AbortController();
      const cancelled = code(
        v.encodeVideo(frames, {
          container: 'mp4',
          fps: 8,
          signal: ac.signal,
          onProgress: (p: { fraction: number }) => {
            if (p.fraction > 0.2) ac.abort();
          },
        }),
      );
      return {
        odd: await code(v.encodeVideo(odd, { container: 'mp4', fps: 8 })),
        mixed: await code(v.encodeVideo(mixed, { container: 'webm', fps: 8 })),
        empty: await code(v.encodeVideo([], { container: 'mp4', fps: 8 })),
        fps: await code(v.encodeVideo(frames, { container: 'mp4', fps: 0 })),
        wrongCodec: await code(v.encodeVideo(frames, { container: 'webm', codec: 'avc', fps: 8 })),
        cancelled: await cancelled,
        notVideo: await code(v.decodeVideo(new Blob([new Uint8Array(1000)]))),
      };
    });
    expect(r.odd).toMatch(/^encode: .*321x320 must be even/);
    expect(r.mixed).toMatch(/^encode: Frame 1 is 512x320/);
    expect(r.empty).toMatch(/^encode: There are no frames/);
    expect(r.fps).toMatch(/^encode: Frame rate 0/);
    expect(r.wrongCodec).toMatch(/^encode: h264 cannot go into WEBM/);
    expect(r.cancelled).toBe('aborted: Cancelled.');
    expect(r.notVideo).toMatch(/^video-decode: /);
  });
});
