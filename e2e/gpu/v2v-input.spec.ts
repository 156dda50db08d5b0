/**
 * Video-to-video input (src/video/decode.ts: probeVideo, readVideoFrames) in real Chromium:
 * a real video's frames chosen by start time and stride, covering a small canvas, compared
 * with ffmpeg's decode of the same frame numbers (an independent decoder and scaler); and
 * every kind of bad input, made here with ffmpeg, refused with its own error code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test, expect, mediaPath } from '../fixtures';

const W = 128;
const H = 80;
/** cat.mp4 (ffprobe): 368x480, 20 fps, 87 frames. */
const CAT = { width: 368, height: 480, fps: 20, frames: 87 };

function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { maxBuffer: 1 << 28 });
}

/** Frames `indices` of a video as ffmpeg decodes them, scaled to cover W x H and centre-cropped, RGBA. */
function ffmpegFrames(path: string, indices: number[]): Uint8Array[] {
  const scaledH = Math.round((CAT.height * W) / CAT.width);
  const select = indices.map((n) => `eq(n\\,${n})`).join('+');
  const raw = ffmpeg([
    '-i',
    path,
    '-vf',
    `select='${select}',scale=${W}:${scaledH}:flags=bicubic,crop=${W}:${H}`,
    '-fps_mode',
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    '-',
  ]);
  const size = W * H * 4;
  return indices.map((_, k) => new Uint8Array(raw.buffer, raw.byteOffset + k * size, size));
}

function psnr(a: Uint8Array | number[], b: Uint8Array | number[]): number {
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) se += (a[i + c] - b[i + c]) ** 2;
    n += 3;
  }
  return se === 0 ? 99 : 10 * Math.log10((255 * 255) / (se / n));
}

test('a real video: start time + stride pick the frames ffmpeg numbers the same, covering the canvas', async ({ harness }) => {
  const b64 = readFileSync(mediaPath('videos/cat.mp4')).toString('base64');
  const r = await harness.evaluate(
    async ({ b64, W, H }) => {
      const v = (await import(/* @vite-ignore */ '/src/video/decode.ts' as string)) as typeof import('../../src/video/decode');
      const blob = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'video/mp4' });
      const info = await v.probeVideo(blob, 'cat.mp4');
      const progress: number[] = [];
      // 0.5 s at 20 fps is frame 10; every 3rd frame: 10, 13, 16, 19.
      const { frames, timestamps } = await v.readVideoFrames(blob, 'cat.mp4', {
        startTime: 0.5,
        stride: 3,
        count: 4,
        width: W,
        height: H,
        onProgress: (p) => progress.push(p.fraction),
      });
      return {
        info,
        timestamps,
        sizes: frames.map((f) => `${f.width}x${f.height}`),
        pixels: frames.map((f) => Array.from(f.data)),
        progress,
      };
    },
    { b64, W, H },
  );
  expect(r.info).toMatchObject({ width: CAT.width, height: CAT.height, frameCount: CAT.frames, codec: 'avc' });
  expect(r.info.fps).toBeCloseTo(CAT.fps, 0);
  expect(r.sizes).toEqual(Array(4).fill(`${W}x${H}`));
  expect(r.timestamps.map((t) => Math.round(t * CAT.fps))).toEqual([10, 13, 16, 19]);
  expect(r.progress.at(-1)).toBe(1);
  const path = mediaPath('videos/cat.mp4');
  const want = ffmpegFrames(path, [10, 13, 16, 19]);
  const neighbours = ffmpegFrames(path, [9, 12, 15, 18]);
  for (let k = 0; k < 4; k++) {
    const right = psnr(r.pixels[k], want[k]);
    // Same frame through two decoders and two scalers: close; the frame before is further away.
    expect(right, `frame ${k}`).toBeGreaterThan(26);
    expect(right, `frame ${k} vs its neighbour`).toBeGreaterThan(psnr(r.pixels[k], neighbours[k]));
  }
});

test('bad input: each kind is refused with its own code and a message that says what to do', async ({ harness }, testInfo) => {
  const make = (name: string, args: string[]) => {
    const out = testInfo.outputPath(name);
    ffmpeg([...args, out]);
    return readFileSync(out).toString('base64');
  };
  const good = make('good.mp4', [
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=64x64:rate=8',
    '-frames:v',
    '8',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
  ]);
  const goodBytes = Buffer.from(good, 'base64');
  // Damaged: the first 60 % of a file whose index (moov) comes last.
  const truncatedPath = testInfo.outputPath('truncated.mp4');
  writeFileSync(truncatedPath, goodBytes.subarray(0, Math.floor(goodBytes.length * 0.6)));
  // Damaged frames: index first (faststart), the last 40 % of the frame data cut off.
  const fastPath = testInfo.outputPath('fast.mp4');
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=64x64:rate=8',
    '-frames:v',
    '8',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    fastPath,
  ]);
  const fast = readFileSync(fastPath);
  const files = {
    good,
    webm: make('good.webm', ['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=8', '-frames:v', '8', '-c:v', 'libvpx-vp9', '-b:v', '200k']),
    mov: make('good.mov', ['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=8', '-frames:v', '8', '-c:v', 'libx264', '-pix_fmt', 'yuv420p']),
    cutFrames: fast.subarray(0, Math.floor(fast.length * 0.6)).toString('base64'),
    audioOnly: make('audio.m4a', ['-f', 'lavfi', '-i', 'sine=d=0.5', '-c:a', 'aac']),
    mpeg4: make('mpeg4.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=8', '-frames:v', '8', '-c:v', 'mpeg4']),
    truncated: readFileSync(truncatedPath).toString('base64'),
  };
  const r = await harness.evaluate(async (files) => {
    const v = (await import(/* @vite-ignore */ '/src/video/decode.ts' as string)) as typeof import('../../src/video/decode');
    const errors = (await import(/* @vite-ignore */ '/src/errors.ts' as string)) as typeof import('../../src/errors');
    const blob = (b64: string) => new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]);
    const outcome = async (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => {
          const u = errors.toUserError(e);
          return `${u.code} ${(e as Error).name}: ${u.message}`;
        },
      );
    const read = (b: Blob, count: number, startTime = 0, stride = 1) =>
      v.readVideoFrames(b, 'clip.mp4', { count, startTime, stride, width: 64, height: 40 });
    const ac = new AbortController();
    ac.abort();
    return {
      good: await outcome(v.probeVideo(blob(files.good), 'good.mp4')),
      goodFrames: await outcome(read(blob(files.good), 8)),
      webm: await outcome(read(blob(files.webm), 8)),
      mov: await outcome(read(blob(files.mov), 8)),
      empty: await outcome(v.probeVideo(new Blob([]), 'empty.mp4')),
      garbage: await outcome(v.probeVideo(new Blob([new Uint8Array(4096).fill(7)]), 'noise.mp4')),
      truncated: await outcome(v.probeVideo(blob(files.truncated), 'cut.mp4')),
      cutFrames: await outcome(read(blob(files.cutFrames), 8)),
      audioOnly: await outcome(v.probeVideo(blob(files.audioOnly), 'song.m4a')),
      mpeg4: await outcome(v.probeVideo(blob(files.mpeg4), 'old.mp4')),
      tooShort: await outcome(read(blob(files.good), 16)),
      tooShortStride: await outcome(read(blob(files.good), 4, 0, 3)),
      startPastEnd: await outcome(read(blob(files.good), 2, 0.95)),
      cancelled: await outcome(v.readVideoFrames(blob(files.good), 'clip.mp4', { count: 4, width: 64, height: 40, signal: ac.signal })),
    };
  }, files);
  expect(r.good).toBe('resolved');
  expect(r.goodFrames).toBe('resolved');
  expect(r.webm).toBe('resolved');
  expect(r.mov).toBe('resolved');
  expect(r.empty).toMatch(/^video-empty VideoEmptyError: "empty.mp4" has no frames/);
  expect(r.garbage).toMatch(/^video-decode VideoDecodeError: "noise.mp4" is not a video .*MP4, WebM or MOV/);
  expect(r.truncated).toMatch(/^video-decode VideoDecodeError: "cut.mp4" is damaged/);
  expect(r.cutFrames).toMatch(/^video-decode VideoDecodeError: "clip.mp4" could not be decoded; the file may be damaged/);
  expect(r.audioOnly).toMatch(/^video-no-track VideoNoTrackError: "song.m4a" has no video in it/);
  expect(r.mpeg4).toMatch(/^video-codec VideoCodecError: .*Convert it to H.264 MP4/);
  expect(r.tooShort).toMatch(/^video-too-short VideoTooShortError: The video has only 8 frames .* needs 16/);
  // 8 frames, every 3rd: 0, 3, 6 = 3 frames.
  expect(r.tooShortStride).toMatch(/^video-too-short .*only 3 frames/);
  // 0.95 s of a 1 s clip at 8 fps: the last frame only.
  expect(r.startPastEnd).toMatch(/^video-too-short .*only 1 frame from/);
  expect(r.cancelled).toMatch(/^aborted /);
});

test('a project file carries its source video; its id is recomputed from the bytes; a file without it opens without it', async ({
  harness,
}, testInfo) => {
  const path = testInfo.outputPath('clip.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=8', '-frames:v', '8', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path]);
  const b64 = readFileSync(path).toString('base64');
  const r = await harness.evaluate(async (b64) => {
    const video = (await import(/* @vite-ignore */ '/src/state/video.ts' as string)) as typeof import('../../src/state/video');
    const files = (await import(/* @vite-ignore */ '/src/state/projectFile.ts' as string)) as typeof import('../../src/state/projectFile');
    const { emptyProject } = (await import(/* @vite-ignore */ '/src/motion/types.ts' as string)) as typeof import('../../src/motion/types');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const ref = await video.importVideo(new Blob([bytes], { type: 'video/mp4' }), 'clip.mp4');
    const project = { ...emptyProject(), video: { ...ref, startTime: 0.25, stride: 2 } };
    const text = await (await files.serializeProject(project)).text();
    const doc = JSON.parse(text);
    const opened = await files.readProjectFile(new Blob([text]), 'p.json');
    doc.project.video.id = 'sha256-someone-elses';
    const claimed = await files.readProjectFile(new Blob([JSON.stringify(doc)]), 'p.json');
    delete doc.video;
    const without = await files.readProjectFile(new Blob([JSON.stringify(doc)]), 'p.json');
    return {
      ref,
      embedded: typeof doc.project === 'object' && text.includes('"video":"data:video/mp4;base64,'),
      opened: opened.project.video,
      claimedId: claimed.project.video?.id,
      without: { video: without.project.video ?? null, repairs: without.repairs },
    };
  }, b64);
  expect(r.ref).toMatchObject({ name: 'clip.mp4', width: 64, height: 48, frameCount: 8, startTime: 0, stride: 1 });
  expect(r.ref.id).toMatch(/^sha256-[0-9a-f]{64}$/);
  expect(r.embedded).toBe(true);
  expect(r.opened).toEqual({ ...r.ref, startTime: 0.25, stride: 2 });
  expect(r.claimedId).toBe(r.ref.id);
  expect(r.without.video).toBeNull();
  expect(r.without.repairs.join(' ')).toMatch(/refers to a source video but does not contain it/);
});
