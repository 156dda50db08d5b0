/**
 * PLACEHOLDER dense tracker for video-to-video, with the real tracker's exact API: it returns
 * ZERO flows and no occlusion for every frame, so the input, engine and UI around it can be
 * built and tested before the GPU optical-flow estimator lands. The real one (coarse-to-fine
 * flow, chained frame to frame, forward-backward occlusion) replaces this whole file.
 */
import { AbortError, KernelInputError } from '../../errors';
import { createTensor, type GpuTensor } from '../../gpu/tensor';

export interface TrackOptions {
  signal?: AbortSignal;
  onProgress?: (p: { stage: 'motion'; fraction: number }) => void;
  quality?: 'fast' | 'medium' | 'high';
}

export interface TrackedFlows {
  /** float32 [N, 2, H, W]: f(0->i) for i = 1..N, pixels, dx right, dy down. */
  flows: GpuTensor;
  /** float32 [N, H, W]: 1 where frame 0's pixel is hidden in frame i, else 0. */
  occlusion: GpuTensor;
  width: number;
  height: number;
  count: number;
}

function checkFrames(name: string, frames: GpuTensor, minCount: number): [number, number, number] {
  if (frames.dtype !== 'uint32' || frames.shape.length !== 3) {
    throw new KernelInputError(name, 'frames', `must be uint32 [N+1, H, W] packed RGBA8 (got ${frames.dtype} ${JSON.stringify(frames.shape)})`);
  }
  const [count, height, width] = frames.shape;
  if (count < minCount) throw new KernelInputError(name, 'frames', `needs at least ${minCount} frames (got ${count})`);
  return [count, height, width];
}

/** Zero-filled tensor (createTensor's buffers start zeroed, as WebGPU guarantees). */
function zeros(device: GPUDevice, shape: number[], label: string): GpuTensor {
  return createTensor(device, shape, 'float32', label);
}

/** Dense flows from frame 0 to every later frame of `frames`, and their occlusion masks. */
export async function trackFrames(device: GPUDevice, frames: GpuTensor, options: TrackOptions = {}): Promise<TrackedFlows> {
  const [count, height, width] = checkFrames('trackFrames', frames, 2);
  const n = count - 1;
  if (options.signal?.aborted) throw new AbortError();
  options.onProgress?.({ stage: 'motion', fraction: 0 });
  const flows = zeros(device, [n, 2, height, width], 'tracked flows (placeholder)');
  const occlusion = zeros(device, [n, height, width], 'tracked occlusion (placeholder)');
  await device.queue.onSubmittedWorkDone();
  if (options.signal?.aborted) {
    flows.buffer.destroy();
    occlusion.buffer.destroy();
    throw new AbortError();
  }
  options.onProgress?.({ stage: 'motion', fraction: 1 });
  return { flows, occlusion, width, height, count: n };
}

/** Dense flow from frame `a` to frame `b` (each uint32 [H, W] or [1, H, W] packed RGBA8). */
export async function estimateFlow(device: GPUDevice, a: GpuTensor, b: GpuTensor, options: TrackOptions = {}): Promise<GpuTensor> {
  const [h, w] = a.shape.slice(-2);
  const [hb, wb] = b.shape.slice(-2);
  if (h !== hb || w !== wb) throw new KernelInputError('estimateFlow', 'b', `is ${wb}x${hb}, frame a is ${w}x${h}`);
  if (options.signal?.aborted) throw new AbortError();
  const flow = zeros(device, [2, h, w], 'flow (placeholder)');
  await device.queue.onSubmittedWorkDone();
  return flow;
}
