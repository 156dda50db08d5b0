/**
 * Video-to-video motion: the dense displacement of every pixel of the source video's first
 * frame to each later frame, tracked on the GPU (src/motion/track), as the job's Flows. The
 * render engine (classical splatting now, stage 2 later) then animates the project's image,
 * the restyled first frame, with them: the paper's zero-shot video-to-video.
 */
import { AbortError, KernelInputError } from '../errors';
import type { GpuTensor } from '../gpu/tensor';
import { createTensor } from '../gpu/tensor';
import { trackFrames, type TrackOptions } from '../motion/track';
import {
  EngineUnavailableError,
  flowCount,
  type EngineConfig,
  type EngineInput,
  type Flows,
  type MotionEngine,
  type RunOptions,
} from './engine';

const QUALITIES: readonly NonNullable<TrackOptions['quality']>[] = ['fast', 'medium', 'high'];

export class TrackedMotionEngine implements MotionEngine {
  readonly kind = 'tracked' as const;
  private readonly quality: TrackOptions['quality'];
  /**
   * The last source's tracked flows, kept while the worker holds that source tensor (the worker
   * uploads a new one when the video, its range, the frame count or the canvas change), so a
   * live preview or a second Generate does not track the same frames again.
   */
  private tracked: { source: GpuTensor; flows: GpuTensor } | null = null;

  constructor(
    private readonly device: GPUDevice,
    config: EngineConfig = {},
  ) {
    const q = config.quality;
    this.quality = typeof q === 'string' && (QUALITIES as readonly string[]).includes(q) ? (q as TrackOptions['quality']) : undefined;
  }

  async motion(input: EngineInput, options: RunOptions = {}): Promise<Flows> {
    const { signal, onProgress } = options;
    const source = input.sourceFrames;
    if (!source) throw new EngineUnavailableError('tracked', 'motion');
    const n = flowCount(input.project);
    const [h, w] = input.image.shape;
    if (source.shape.length !== 3 || source.shape[0] !== n + 1 || source.shape[1] !== h || source.shape[2] !== w) {
      throw new KernelInputError(
        'TrackedMotionEngine',
        'sourceFrames',
        `must be [${n + 1}, ${h}, ${w}] (got ${JSON.stringify(source.shape)})`,
      );
    }
    signal?.throwIfAborted();
    let all = this.tracked?.source === source ? this.tracked.flows : null;
    if (all) onProgress?.({ stage: 'motion', fraction: 1 });
    else {
      const tracked = await trackFrames(this.device, source, {
        signal,
        quality: this.quality,
        onProgress: (p) => onProgress?.({ stage: 'motion', fraction: p.fraction }),
      });
      // The classical renderer finds disocclusions from the flows themselves; the mask is not used yet.
      tracked.occlusion.buffer.destroy();
      if (signal?.aborted) {
        tracked.flows.buffer.destroy();
        throw new AbortError();
      }
      this.tracked?.flows.buffer.destroy();
      this.tracked = { source, flows: tracked.flows };
      all = tracked.flows;
    }
    // The caller owns what it gets: a copy, so the tracked flows serve the next preview or Generate.
    const frames = options.frames ?? Array.from({ length: n }, (_, i) => i + 1);
    const tensor = this.pick(all, frames, h, w);
    return options.frames
      ? { tensor, width: w, height: h, count: frames.length, frames: [...frames] }
      : { tensor, width: w, height: h, count: n };
  }

  /** Flows f(0->i) for the asked frames i (1..N), in their order, copied out of the whole stack. */
  private pick(flows: GpuTensor, frames: readonly number[], h: number, w: number): GpuTensor {
    const n = flows.shape[0];
    const out = createTensor(this.device, [frames.length, 2, h, w], 'float32', 'tracked flows (subset)');
    const bytes = 2 * h * w * 4;
    const encoder = this.device.createCommandEncoder({ label: 'tracked flows subset' });
    frames.forEach((f, j) => {
      const i = Math.min(n, Math.max(1, Math.round(f))) - 1;
      encoder.copyBufferToBuffer(flows.buffer, i * bytes, out.buffer, j * bytes, bytes);
    });
    this.device.queue.submit([encoder.finish()]);
    return out;
  }

  dispose(): void {
    this.tracked?.flows.buffer.destroy();
    this.tracked = null;
  }
}
