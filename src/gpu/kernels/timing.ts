/**
 * GPU timing for benchmarks and kernel tuning.
 *
 * With the 'timestamp-query' feature, each repeat is bracketed by two empty compute passes
 * whose timestampWrites record the GPU clock before and after the recorded work (WebGPU no
 * longer has encoder-level writeTimestamp, so an empty pass is the way to stamp a point in a
 * command stream; passes execute in order). Without the feature, wall time is taken around
 * submit + onSubmittedWorkDone, one submission per repeat. Chrome quantises timestamps
 * (about 0.1 ms) unless WebGPU developer features are on: time work that takes milliseconds.
 * The result is the median over repeats, after `warmup` untimed runs (pipeline creation and
 * first-use costs are not what we want to measure).
 */
import { submitNow } from './common';

export interface TimeGpuOptions {
  /** Timed runs; the median is returned. Default 5. */
  repeats?: number;
  /** Untimed runs before timing. Default 1. */
  warmup?: number;
  /** Force wall-clock timing even when timestamp queries are available. */
  forceWall?: boolean;
}

export interface GpuTiming {
  /** Median time per run, milliseconds. */
  ms: number;
  method: 'timestamp' | 'wall';
  /** Every timed run, milliseconds. */
  samples: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function timeGpu(
  device: GPUDevice,
  record: (encoder: GPUCommandEncoder) => void,
  opts: TimeGpuOptions = {},
): Promise<GpuTiming> {
  const repeats = Math.max(1, Math.floor(opts.repeats ?? 5));
  const warmup = Math.max(0, Math.floor(opts.warmup ?? 1));

  for (let i = 0; i < warmup; i++) submitNow(device, 'timeGpu warmup', record);
  await device.queue.onSubmittedWorkDone();

  if (device.features.has('timestamp-query') && !opts.forceWall) {
    const count = 2 * repeats;
    const querySet = device.createQuerySet({ type: 'timestamp', count });
    const resolve = device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const readback = device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      for (let i = 0; i < repeats; i++) {
        const enc = device.createCommandEncoder({ label: 'timeGpu' });
        enc.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i } }).end();
        record(enc);
        enc.beginComputePass({ timestampWrites: { querySet, endOfPassWriteIndex: 2 * i + 1 } }).end();
        device.queue.submit([enc.finish()]);
      }
      const enc = device.createCommandEncoder({ label: 'timeGpu resolve' });
      enc.resolveQuerySet(querySet, 0, count, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, readback, 0, 8 * count);
      device.queue.submit([enc.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const ticks = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      const samples: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const dt = ticks[2 * i + 1] - ticks[2 * i];
        samples.push(Number(dt > 0n ? dt : 0n) / 1e6);
      }
      // A zero median means the clock did not advance (no real timestamp support): fall back.
      if (median(samples) > 0) return { ms: median(samples), method: 'timestamp', samples };
    } finally {
      querySet.destroy();
      resolve.destroy();
      readback.destroy();
    }
  }

  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const enc = device.createCommandEncoder({ label: 'timeGpu wall' });
    record(enc);
    const cmd = enc.finish();
    const t0 = performance.now();
    device.queue.submit([cmd]);
    await device.queue.onSubmittedWorkDone();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), method: 'wall', samples };
}
