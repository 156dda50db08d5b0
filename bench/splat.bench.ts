/**
 * Softmax splatting: the GPU kernel (both strategies: deterministic bin-sort-gather, the
 * default, and CAS-float-add scatter) versus the straightforward CPU scatter of
 * e2e/reference/splat.ts, in the same page. Two shapes:
 *  - classical engine: 512 x 320, 3 channels, 1 flow (avg, chw);
 *  - stage 2: 64 x 40 tokens, 320 channels, 15 flows (avg, hwc), frame 0 to frames 1..15.
 * Flows are smooth (rotation + zoom + translation, as a camera move gives) with 0.3 px noise.
 * GPU time: timeGpu (timestamp-query when the adapter has it, else wall time around
 * onSubmittedWorkDone), median of repeats after a warm-up; CPU: median wall time.
 * Writes bench/results/splat.json (format: bench/report.mjs).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '../e2e/fixtures';

interface Shape { name: string; B: number; C: number; H: number; W: number; N: number; layout: 'chw' | 'hwc'; gpuRepeats: number; cpuRepeats: number }

const shapes: Shape[] = [
  { name: '512x320 C3 1 flow (classical)', B: 1, C: 3, H: 320, W: 512, N: 1, layout: 'chw', gpuRepeats: 5, cpuRepeats: 3 },
  { name: '64x40 C320 15 flows (stage 2)', B: 1, C: 320, H: 40, W: 64, N: 15, layout: 'hwc', gpuRepeats: 3, cpuRepeats: 2 },
];

test('softmax splatting: GPU kernel vs CPU scatter', async ({ harness }) => {
  test.setTimeout(1_800_000);
  const rows: Record<string, unknown>[] = [];
  let device = '';
  for (const s of shapes) {
    const r = await harness.evaluate(async (s: Shape) => {
      const { acquireGpu } = await import(/* @vite-ignore */ '/src/gpu/device.ts' as string);
      const { uploadTensor, createTensor, readTensor } = await import(/* @vite-ignore */ '/src/gpu/tensor.ts' as string);
      const { SoftmaxSplat } = await import(/* @vite-ignore */ '/src/gpu/kernels/splat.ts' as string);
      const { timeGpu } = await import(/* @vite-ignore */ '/src/gpu/kernels/timing.ts' as string);
      const ref = await import(/* @vite-ignore */ '/e2e/reference/splat.ts' as string);
      const ctx = await acquireGpu();
      const dev: GPUDevice = ctx.device;
      const { B, C, H, W, N } = s;
      const HW = H * W;
      const rand = ref.rng(5);
      const input = new Float32Array(B * C * HW).map(() => rand() * 2 - 1);
      const flows = new Float32Array(N * 2 * HW);
      for (let n = 0; n < N; n++) {
        const k = (n + 1) / N;
        const angle = 0.05 * k;
        const zoom = 1 + 0.08 * k;
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const cx = x - W / 2;
            const cy = y - H / 2;
            const tx = zoom * (Math.cos(angle) * cx - Math.sin(angle) * cy) + W / 2 + 0.1 * W * k;
            const ty = zoom * (Math.sin(angle) * cx + Math.cos(angle) * cy) + H / 2 - 0.05 * H * k;
            flows[(n * 2) * HW + y * W + x] = tx - x + (rand() - 0.5) * 0.6;
            flows[(n * 2 + 1) * HW + y * W + x] = ty - y + (rand() - 0.5) * 0.6;
          }
        }
      }
      const inputT = uploadTensor(dev, input, s.layout === 'chw' ? [B, C, H, W] : [B, H, W, C]);
      const flowsT = uploadTensor(dev, flows, [N, 2, H, W]);
      const output = createTensor(dev, s.layout === 'chw' ? [B, N, C, H, W] : [B, N, H, W, C]);
      const splat = new SoftmaxSplat(dev);
      const args = { input: inputT, flows: flowsT, mode: 'avg', layout: s.layout, output };
      const gather = await timeGpu(dev, (enc: GPUCommandEncoder) => splat.encode(enc, { ...args, strategy: 'gather' }), { repeats: s.gpuRepeats, warmup: 1 });
      const gatherOut = (await readTensor(dev, output)) as Float32Array;
      const atomic = await timeGpu(dev, (enc: GPUCommandEncoder) => splat.encode(enc, { ...args, strategy: 'atomic' }), { repeats: s.gpuRepeats, warmup: 1 });
      const atomicOut = (await readTensor(dev, output)) as Float32Array;
      const cpuTimes: number[] = [];
      let cpuOut: Float32Array | null = null;
      for (let i = 0; i < s.cpuRepeats; i++) {
        const t0 = performance.now();
        cpuOut = ref.splatReference({ input, B, C, H, W, layout: s.layout, flows, N, mode: 'avg' });
        cpuTimes.push(performance.now() - t0);
      }
      cpuTimes.sort((a, b) => a - b);
      const cpuMs = cpuTimes[cpuTimes.length >> 1];
      const gatherCheck = ref.compareArrays(gatherOut, cpuOut!);
      const atomicCheck = ref.compareArrays(atomicOut, cpuOut!);
      splat.dispose();
      dev.destroy();
      return {
        device: `${ctx.description}${ctx.isFallbackAdapter ? ' (fallback adapter)' : ''}`,
        gather, atomic, cpuMs,
        gatherBad: gatherCheck.bad, atomicBad: atomicCheck.bad,
      };
    }, s);
    device = r.device;
    const check = `outputs within 1e-5 of CPU: gather ${r.gatherBad === 0}, atomic ${r.atomicBad === 0}`;
    rows.push({ case: `${s.name}, gather (default)`, ours_ms: r.gather.ms, baseline: 'CPU scatter (e2e/reference)', baseline_ms: r.cpuMs, ratio: r.cpuMs / r.gather.ms, target: '>= 5x', note: `GPU ${r.gather.method}; ${check}` });
    rows.push({ case: `${s.name}, atomic (CAS)`, ours_ms: r.atomic.ms, baseline: 'CPU scatter (e2e/reference)', baseline_ms: r.cpuMs, ratio: r.cpuMs / r.atomic.ms, target: '>= 5x', note: `GPU ${r.atomic.method}` });
    rows.push({ case: `${s.name}, gather vs atomic`, ours_ms: r.gather.ms, baseline: 'atomic (CAS) strategy', baseline_ms: r.atomic.ms, ratio: r.atomic.ms / r.gather.ms, target: '', note: 'ratio > 1: gather faster' });
    console.log(JSON.stringify(rows.slice(-3)));
  }
  const out = { name: 'splat', device, date: new Date().toISOString(), rows };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'splat.json'), JSON.stringify(out, null, 2) + '\n');
});
