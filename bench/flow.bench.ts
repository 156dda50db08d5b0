/**
 * Dense tracking (src/motion/track, the DIS-style GPU optical flow) on real data. Writes
 * bench/results/flow.json:
 *  - time per frame pair at 512x320 (Sintel frame_0016/17 cover-cropped) and 1024x436 (full
 *    Sintel), GPU (wall time to onSubmittedWorkDone, median of 2 after a warm-up) against the
 *    same algorithm on the CPU in the same page (e2e/reference/dis.ts), 'medium' preset;
 *  - Middlebury halfway interpolation (4 sequences, 'high' preset): the flows are written as
 *    .flo files to bench/results/tmp/ and scored by bench/middlebury_interp.py, which also
 *    scores OpenCV's DIS (medium preset) with the same splatting (needs Debian's
 *    python3-opencv; /usr/bin/python3);
 *  - Sintel reanimation: frame_0016 tracked through 0017..0021 at 512x218 ('medium'), frame 0
 *    forward-splatted (bilinear, normalised) by each f(0 -> i), its occluded pixels left out;
 *    PSNR against the true frame i over the pixels those splats cover (weight > 0.5).
 * Run: PW_DEV_PORT=<port> npx playwright test -c bench/playwright.config.ts flow.bench.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { test } from '../e2e/fixtures';

const SEQUENCES = ['Beanbags', 'DogDance', 'RubberWhale', 'Urban2'];

function writeFlo(path: string, planar: Float32Array, w: number, h: number): void {
  const buf = Buffer.alloc(12 + 8 * w * h);
  buf.writeFloatLE(202021.25, 0);
  buf.writeInt32LE(w, 4);
  buf.writeInt32LE(h, 8);
  for (let i = 0; i < w * h; i++) {
    buf.writeFloatLE(planar[i], 12 + 8 * i);
    buf.writeFloatLE(planar[w * h + i], 16 + 8 * i);
  }
  writeFileSync(path, buf);
}

test('dense tracking: speed against the CPU, Middlebury interpolation, Sintel reanimation', async ({ harness }) => {
  test.setTimeout(3_600_000);
  const loadBefore = loadavg().slice(0, 2);
  const r = await harness.evaluate(async (sequences) => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../src/gpu/device');
    const track = (await import(/* @vite-ignore */ '/src/motion/track/index.ts' as string)) as typeof import('../src/motion/track/index');
    const { DIS_PRESETS } = (await import(
      /* @vite-ignore */ '/src/motion/track/dis.ts' as string
    )) as typeof import('../src/motion/track/dis');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../src/gpu/tensor');
    const ref = (await import(/* @vite-ignore */ '/e2e/reference/dis.ts' as string)) as typeof import('../e2e/reference/dis');
    const ctx = await acquireGpu();
    const device: GPUDevice = ctx.device;
    async function load(url: string, w?: number, h?: number): Promise<{ data: Uint32Array; w: number; h: number }> {
      const bmp = await createImageBitmap(await (await fetch(url)).blob(), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const W = w ?? bmp.width;
      const H = h ?? bmp.height;
      const c = new OffscreenCanvas(W, H).getContext('2d')!;
      const s = Math.max(W / bmp.width, H / bmp.height);
      c.drawImage(bmp, (W - bmp.width * s) / 2, (H - bmp.height * s) / 2, bmp.width * s, bmp.height * s);
      return { data: new Uint32Array(c.getImageData(0, 0, W, H).data.buffer), w: W, h: H };
    }
    const toBase64 = (a: Float32Array) => {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    };
    const timing: { w: number; h: number; gpu: number; cpu: number }[] = [];
    for (const [w, h] of [
      [512, 320],
      [1024, 436],
    ]) {
      const a = await load('/__media/sintel-raft/frame_0016.png', w, h);
      const b = await load('/__media/sintel-raft/frame_0017.png', w, h);
      const ta = uploadTensor(device, a.data, [h, w], 'uint32');
      const tb = uploadTensor(device, b.data, [h, w], 'uint32');
      const times: number[] = [];
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        const f = await track.estimateFlow(device, ta, tb, { quality: 'medium' });
        times.push(performance.now() - t0);
        f.buffer.destroy();
      }
      const gpu = times.slice(1).sort((x, y) => x - y)[0];
      const t0 = performance.now();
      ref.disFlowReference(a.data, b.data, w, h, DIS_PRESETS.medium);
      timing.push({ w, h, gpu, cpu: performance.now() - t0 });
    }
    const middlebury: Record<string, { w: number; h: number; forward: string; backward: string }> = {};
    for (const s of sequences) {
      const a = await load(`/__media/middlebury/${s}/frame10.png`);
      const b = await load(`/__media/middlebury/${s}/frame11.png`);
      const ta = uploadTensor(device, a.data, [a.h, a.w], 'uint32');
      const tb = uploadTensor(device, b.data, [a.h, a.w], 'uint32');
      const fwd = (await readTensor(device, await track.estimateFlow(device, ta, tb, { quality: 'high' }))) as Float32Array;
      const bwd = (await readTensor(device, await track.estimateFlow(device, tb, ta, { quality: 'high' }))) as Float32Array;
      middlebury[s] = { w: a.w, h: a.h, forward: toBase64(fwd), backward: toBase64(bwd) };
    }
    // Sintel: track frame_0016 through 0017..0021 at half size and reanimate it.
    const SW = 512;
    const SH = 218;
    const n = SW * SH;
    const frames = await Promise.all([16, 17, 18, 19, 20, 21].map((i) => load(`/__media/sintel-raft/frame_00${i}.png`, SW, SH)));
    const stack = new Uint32Array(frames.length * n);
    frames.forEach((f, i) => stack.set(f.data, i * n));
    const t0 = performance.now();
    const tracked = await track.trackFrames(device, uploadTensor(device, stack, [frames.length, SH, SW], 'uint32'), { quality: 'medium' });
    const trackMs = performance.now() - t0;
    const flows = (await readTensor(device, tracked.flows)) as Float32Array;
    const occ = (await readTensor(device, tracked.occlusion)) as Float32Array;
    const rgb = (img: Uint32Array, i: number, c: number) => (img[i] >>> (8 * c)) & 255;
    const sintel: { frame: number; psnr: number; covered: number; tracked: number; still: number }[] = [];
    for (let f = 1; f < frames.length; f++) {
      const acc = new Float64Array(3 * n);
      const wsum = new Float64Array(n);
      let trackedCount = 0;
      for (let y = 0; y < SH; y++)
        for (let x = 0; x < SW; x++) {
          const i = y * SW + x;
          if (occ[(f - 1) * n + i] > 0.5) continue;
          trackedCount++;
          const tx = x + flows[(f - 1) * 2 * n + i];
          const ty = y + flows[(f - 1) * 2 * n + n + i];
          const x0 = Math.floor(tx);
          const y0 = Math.floor(ty);
          for (const [dx, dy] of [
            [0, 0],
            [1, 0],
            [0, 1],
            [1, 1],
          ]) {
            const xi = x0 + dx;
            const yi = y0 + dy;
            if (xi < 0 || yi < 0 || xi >= SW || yi >= SH) continue;
            const wt = (dx ? tx - x0 : 1 - (tx - x0)) * (dy ? ty - y0 : 1 - (ty - y0));
            wsum[yi * SW + xi] += wt;
            for (let c = 0; c < 3; c++) acc[3 * (yi * SW + xi) + c] += wt * rgb(frames[0].data, i, c);
          }
        }
      let se = 0;
      let seStill = 0;
      let covered = 0;
      for (let i = 0; i < n; i++) {
        if (!(wsum[i] > 0.5)) continue;
        covered++;
        for (let c = 0; c < 3; c++) {
          se += (acc[3 * i + c] / wsum[i] - rgb(frames[f].data, i, c)) ** 2;
          seStill += (rgb(frames[0].data, i, c) - rgb(frames[f].data, i, c)) ** 2;
        }
      }
      const db = (e: number) => 10 * Math.log10((255 * 255) / (e / (3 * covered)));
      sintel.push({ frame: f, psnr: db(se), covered: covered / n, tracked: trackedCount / n, still: db(seStill) });
    }
    return { timing, middlebury, sintel, trackMs, device: `${ctx.description}${ctx.isFallbackAdapter ? ' (fallback adapter)' : ''}` };
  }, SEQUENCES);

  const dir = join(import.meta.dirname, 'results', 'tmp', 'flow-middlebury');
  mkdirSync(dir, { recursive: true });
  for (const [s, v] of Object.entries(r.middlebury)) {
    const decode = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);
    writeFlo(join(dir, `${s}-forward.flo`), decode(v.forward), v.w, v.h);
    writeFlo(join(dir, `${s}-backward.flo`), decode(v.backward), v.w, v.h);
  }
  const script = join(import.meta.dirname, 'middlebury_interp.py');
  const ours = JSON.parse(execFileSync('/usr/bin/python3', [script, '--flows', dir], { encoding: 'utf8' }));
  const opencv = JSON.parse(execFileSync('/usr/bin/python3', [script], { encoding: 'utf8' }));
  const rows: Record<string, unknown>[] = [];
  for (const t of r.timing) {
    rows.push({
      case: `one frame pair ${t.w}x${t.h}, medium preset (ms per pair)`,
      ours_ms: t.gpu,
      baseline: 'same algorithm on the CPU (e2e/reference/dis.ts)',
      baseline_ms: t.cpu,
      ratio: t.cpu / t.gpu,
      target: 'faster than the CPU',
    });
  }
  for (const mode of ['avg', 'softmax'] as const) {
    rows.push({
      case: `Middlebury halfway interpolation, ${mode} splat, mean PSNR of 4 (dB, higher is better; not ms)`,
      ours_ms: ours.mean[mode],
      baseline: `${opencv.method}, same script`,
      baseline_ms: opencv.mean[mode],
      ratio: null,
      target: 'above OpenCV DIS medium',
    });
  }
  const meanSintel = r.sintel.reduce((a, s) => a + s.psnr, 0) / r.sintel.length;
  const meanStill = r.sintel.reduce((a, s) => a + s.still, 0) / r.sintel.length;
  rows.push({
    case: 'Sintel 512x218: frame 0 reanimated to frames 1-5, mean PSNR over non-occluded pixels (dB; not ms)',
    ours_ms: meanSintel,
    baseline: 'frame 0 unmoved, same pixels',
    baseline_ms: meanStill,
    ratio: null,
    target: 'well above unmoved',
  });
  const out = {
    name: 'flow',
    device: r.device,
    date: new Date().toISOString(),
    conditions: { loadavg_before: loadBefore, loadavg_after: loadavg().slice(0, 2) },
    rows,
    middlebury: { ours, opencv },
    sintel: r.sintel,
    sintel_track_ms: r.trackMs,
  };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'flow.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log(JSON.stringify(out, null, 1));
});

/**
 * The real videos (../shared/media/videos): 6 frames (every 2nd, decoded by ffmpeg on the Node
 * side to RGBA, apple at 512x288 and cat at 240x320), frame 0 tracked
 * ('medium') and reanimated as for Sintel above. Writes bench/results/flow-videos.json.
 */
test('dense tracking: reanimating the first frame of the real videos', async ({ harness }) => {
  test.setTimeout(1_800_000);
  const videos: { name: string; w: number; h: number; frames: string }[] = [];
  for (const [name, w, h] of [
    ['apple.mp4', 512, 288],
    ['cat.mp4', 240, 320],
  ] as const) {
    const raw = execFileSync(
      'ffmpeg',
      [
        '-v',
        'error',
        '-i',
        join(import.meta.dirname, '..', '..', 'shared', 'media', 'videos', name),
        '-vf',
        `select='not(mod(n\\,2))',scale=${w}:${h}`,
        '-vsync',
        '0',
        '-frames:v',
        '6',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgba',
        '-',
      ],
      { maxBuffer: 1 << 28 },
    );
    if (raw.length !== 6 * w * h * 4) throw new Error(`${name}: ffmpeg gave ${raw.length} bytes`);
    videos.push({ name, w, h, frames: raw.toString('base64') });
  }
  const r = await harness.evaluate(async (videos) => {
    const { acquireGpu } = (await import(/* @vite-ignore */ '/src/gpu/device.ts' as string)) as typeof import('../src/gpu/device');
    const track = (await import(/* @vite-ignore */ '/src/motion/track/index.ts' as string)) as typeof import('../src/motion/track/index');
    const { uploadTensor, readTensor } = (await import(
      /* @vite-ignore */ '/src/gpu/tensor.ts' as string
    )) as typeof import('../src/gpu/tensor');
    const ctx = await acquireGpu();
    const device: GPUDevice = ctx.device;
    const out: { name: string; psnr: number[]; still: number[]; covered: number[]; ms: number }[] = [];
    for (const v of videos) {
      const bin = atob(v.frames);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const stack = new Uint32Array(bytes.buffer);
      const n = v.w * v.h;
      const count = stack.length / n;
      const t0 = performance.now();
      const tracked = await track.trackFrames(device, uploadTensor(device, stack, [count, v.h, v.w], 'uint32'), { quality: 'medium' });
      const ms = performance.now() - t0;
      const flows = (await readTensor(device, tracked.flows)) as Float32Array;
      const occ = (await readTensor(device, tracked.occlusion)) as Float32Array;
      const rgb = (f: number, i: number, c: number) => (stack[f * n + i] >>> (8 * c)) & 255;
      const res = { name: v.name, psnr: [] as number[], still: [] as number[], covered: [] as number[], ms };
      for (let f = 1; f < count; f++) {
        const acc = new Float64Array(3 * n);
        const wsum = new Float64Array(n);
        for (let y = 0; y < v.h; y++)
          for (let x = 0; x < v.w; x++) {
            const i = y * v.w + x;
            if (occ[(f - 1) * n + i] > 0.5) continue;
            const tx = x + flows[(f - 1) * 2 * n + i];
            const ty = y + flows[(f - 1) * 2 * n + n + i];
            const x0 = Math.floor(tx);
            const y0 = Math.floor(ty);
            for (const [dx, dy] of [
              [0, 0],
              [1, 0],
              [0, 1],
              [1, 1],
            ]) {
              const xi = x0 + dx;
              const yi = y0 + dy;
              if (xi < 0 || yi < 0 || xi >= v.w || yi >= v.h) continue;
              const wt = (dx ? tx - x0 : 1 - (tx - x0)) * (dy ? ty - y0 : 1 - (ty - y0));
              wsum[yi * v.w + xi] += wt;
              for (let c = 0; c < 3; c++) acc[3 * (yi * v.w + xi) + c] += wt * rgb(0, i, c);
            }
          }
        let se = 0;
        let seStill = 0;
        let covered = 0;
        for (let i = 0; i < n; i++) {
          if (!(wsum[i] > 0.5)) continue;
          covered++;
          for (let c = 0; c < 3; c++) {
            se += (acc[3 * i + c] / wsum[i] - rgb(f, i, c)) ** 2;
            seStill += (rgb(0, i, c) - rgb(f, i, c)) ** 2;
          }
        }
        const db = (e: number) => 10 * Math.log10((255 * 255) / (e / (3 * covered)));
        res.psnr.push(db(se));
        res.still.push(db(seStill));
        res.covered.push(covered / n);
      }
      out.push(res);
    }
    return { out, device: `${ctx.description}${ctx.isFallbackAdapter ? ' (fallback adapter)' : ''}` };
  }, videos);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const rows = r.out.map((v, i) => ({
    case: `${v.name} ${videos[i].w}x${videos[i].h}: frame 0 reanimated to 5 later frames (every 2nd), mean PSNR over non-occluded pixels (dB; not ms)`,
    ours_ms: mean(v.psnr),
    baseline: 'frame 0 unmoved, same pixels',
    baseline_ms: mean(v.still),
    ratio: null,
    target: 'well above unmoved',
  }));
  const out = { name: 'flow-videos', device: r.device, date: new Date().toISOString(), rows, videos: r.out };
  writeFileSync(join(import.meta.dirname, 'results', 'flow-videos.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log(JSON.stringify(out, null, 1));
});
