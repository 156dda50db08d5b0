/**
 * Dense tracking of a video's first frame on the GPU: f(0 -> i) for every later frame and
 * which pixels of frame 0 are occluded or lost there. Pairs are estimated by the DIS-style
 * estimator (./dis.ts), chained frame to frame (f(0->i) = f(0->i-1) + f(i-1->i) at the landing
 * point) and then refined directly from frame 0 to frame i, starting from the chained flow, so
 * chaining errors do not accumulate. Occlusion: a forward-backward check of every pair, carried
 * along the track (a pixel whose track was lost stays lost) and marked where it leaves the frame.
 */
import { AbortError, KernelInputError } from '../../errors';
import { checkTensor, createTensor, type GpuTensor } from '../../gpu/tensor';
import { DIS_PRESETS, DisFlow, type DisParameters, type FlowQuality, type FramePyramid } from './dis';

export type { FlowQuality } from './dis';

export interface TrackOptions {
  signal?: AbortSignal;
  onProgress?: (p: { stage: 'motion'; fraction: number }) => void;
  quality?: FlowQuality;
}

export interface TrackedFlows {
  /** float32 [N, 2, H, W]: f(0 -> i) for i = 1..N, pixels, dx right, dy down. */
  flows: GpuTensor;
  /** float32 [N, H, W]: 1 = occluded or unreliable in frame i, 0 = tracked. */
  occlusion: GpuTensor;
  width: number;
  height: number;
  count: number;
}

/** Forward-backward tolerance (flow_consistency.wgsl): |f + b|^2 <= 0.01 (|f|^2 + |b|^2) + 0.5. */
const FB_ALPHA = 0.01;
const FB_BETA = 0.5;

const KERNEL = 'trackFrames';

const estimators = new WeakMap<GPUDevice, DisFlow>();

function estimator(device: GPUDevice): DisFlow {
  let e = estimators.get(device);
  if (!e) {
    e = new DisFlow(device);
    estimators.set(device, e);
  }
  return e;
}

function parameters(quality: FlowQuality | undefined): DisParameters {
  const q = quality ?? 'medium';
  const p = DIS_PRESETS[q];
  if (!p) throw new KernelInputError(KERNEL, 'quality', `is '${String(q)}', expected 'fast', 'medium' or 'high'`);
  return p;
}

function checkSize(kernel: string, name: string, width: number, height: number, p: DisParameters): void {
  if (width < p.patchSize || height < p.patchSize)
    throw new KernelInputError(kernel, name, `is ${width}x${height}, smaller than the ${p.patchSize}-pixel patches`);
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError();
}

/** Flow [2, H, W] from image a to image b (uint32 [H, W] packed RGBA8). */
export async function estimateFlow(device: GPUDevice, a: GpuTensor, b: GpuTensor, options: TrackOptions = {}): Promise<GpuTensor> {
  const p = parameters(options.quality);
  checkTensor('estimateFlow', 'a', a, { dtype: 'uint32', rank: 2 });
  checkTensor('estimateFlow', 'b', b, { dtype: 'uint32', shape: a.shape });
  const [height, width] = a.shape;
  checkSize('estimateFlow', 'a', width, height, p);
  throwIfAborted(options.signal);
  const dis = estimator(device);
  const levels = dis.pyramidLevels(width, height, p);
  const output = createTensor(device, [2, height, width], 'float32', 'estimated flow');
  const scratch: GpuTensor[] = [];
  const encoder = device.createCommandEncoder({ label: 'estimate flow' });
  const pa = dis.encodePyramid(encoder, a, 0, levels);
  const pb = dis.encodePyramid(encoder, b, 0, levels);
  dis.encodeFlow(encoder, pa, pb, p, output, scratch);
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  pa.dispose();
  pb.dispose();
  scratch.forEach((t) => t.buffer.destroy());
  options.onProgress?.({ stage: 'motion', fraction: 1 });
  return output;
}

/** Tracks frame 0 of `frames` (uint32 [N+1, H, W] packed RGBA8) through frames 1..N. */
export async function trackFrames(device: GPUDevice, frames: GpuTensor, options: TrackOptions = {}): Promise<TrackedFlows> {
  const p = parameters(options.quality);
  checkTensor(KERNEL, 'frames', frames, { dtype: 'uint32', rank: 3 });
  const [total, height, width] = frames.shape;
  if (total < 2) throw new KernelInputError(KERNEL, 'frames', `has ${total} frame, tracking needs at least 2`);
  checkSize(KERNEL, 'frames', width, height, p);
  throwIfAborted(options.signal);
  const count = total - 1;
  const plane = width * height;
  const dis = estimator(device);
  const levels = dis.pyramidLevels(width, height, p);
  const flows = createTensor(device, [count, 2, height, width], 'float32', 'tracked flows');
  const occlusion = createTensor(device, [count, height, width], 'float32', 'tracked occlusion');
  const k = dis.kernels;
  const flow = (label: string): GpuTensor => createTensor(device, [2, height, width], 'float32', label);
  const mask = (label: string): GpuTensor => createTensor(device, [height, width], 'float32', label);
  const forward = flow('pair forward');
  const backward = flow('pair backward');
  const stepOcclusion = mask('pair occlusion');
  const composed = flow('chained flow');
  const refined = flow('refined flow');
  const track = flow('track');
  let trackOcclusion = mask('track occlusion');
  let composedOcclusion = mask('chained occlusion');
  const owned = [forward, backward, stepOcclusion, composed, refined];
  let first: FramePyramid | undefined;
  let previous: FramePyramid | undefined;
  try {
    {
      const encoder = device.createCommandEncoder({ label: 'track frame 0' });
      first = dis.encodePyramid(encoder, frames, 0, levels);
      device.queue.submit([encoder.finish()]);
    }
    previous = first;
    for (let i = 1; i <= count; i++) {
      throwIfAborted(options.signal);
      const scratch: GpuTensor[] = [];
      const encoder = device.createCommandEncoder({ label: `track frame ${i}` });
      const current = dis.encodePyramid(encoder, frames, i, levels);
      dis.encodeFlow(encoder, previous, current, p, forward, scratch);
      dis.encodeFlow(encoder, current, previous, p, backward, scratch);
      k.encodeConsistency(encoder, { forward, backward, occlusion: stepOcclusion, fbAlpha: FB_ALPHA, fbBeta: FB_BETA });
      // Track starts at zero (written zeroed by createTensor), so frame 1's chain is the pair itself.
      k.encodeCompose(encoder, { track, trackOcclusion, step: forward, stepOcclusion, composed, composedOcclusion });
      let result = composed;
      if (i > 1) {
        dis.encodeFlow(encoder, first, current, p, refined, scratch, composed);
        result = refined;
      }
      encoder.copyBufferToBuffer(result.buffer, 0, flows.buffer, (i - 1) * 2 * plane * 4, 2 * plane * 4);
      encoder.copyBufferToBuffer(composedOcclusion.buffer, 0, occlusion.buffer, (i - 1) * plane * 4, plane * 4);
      encoder.copyBufferToBuffer(result.buffer, 0, track.buffer, 0, 2 * plane * 4);
      [trackOcclusion, composedOcclusion] = [composedOcclusion, trackOcclusion];
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      scratch.forEach((t) => t.buffer.destroy());
      if (previous !== first) previous.dispose();
      previous = current;
      options.onProgress?.({ stage: 'motion', fraction: i / count });
    }
  } catch (e) {
    flows.buffer.destroy();
    occlusion.buffer.destroy();
    throw e;
  } finally {
    if (previous && previous !== first) previous.dispose();
    first?.dispose();
    [...owned, track, trackOcclusion, composedOcclusion].forEach((t) => t.buffer.destroy());
  }
  return { flows, occlusion, width, height, count };
}
