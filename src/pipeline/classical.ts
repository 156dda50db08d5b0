/**
 * The weight-free classical engine.
 *
 * Stage 1 (motion): trajectories, anchors and brush -> constraints (constraints.ts) -> dense
 * flows by an edge-aware multigrid solve on the GPU (gpu/kernels/densify.ts); rigid and
 * shape-preserving brush regions then get their own flows (gpu/kernels/regionFlow.ts) written
 * over the solve's, which pinned them at zero.
 *
 * Stage 2 (render): every frame i is the reference image forward-splatted along f(0->i)
 * (softmax splatting, soft mode, metric = METRIC_SCALE * |flow| so content that moves more is
 * drawn in front of content that moves less or stays), then:
 *  - holes (target pixels nothing landed on) are filled from the background side: pull-push
 *    over the background layer only (by the splat metric: the layer behind the content that
 *    left the hole), then a PatchMatch patch fill that copies texture from known background
 *    (gpu/kernels/fillHoles.ts, patchFill.ts; `holeFill` picks a simpler fill). Chosen over
 *    inverse warping because inverse warping would fill the gap behind a dragged object with
 *    a second copy of the object;
 *  - static pixels, whose own flow is exactly zero and on which no moving pixel lands, copy
 *    the reference's bytes: they are bit-identical to the image in every frame;
 *  - frame 0 is the image itself (a buffer copy).
 * Seamless loop (settings.loop): frame i (1..N) = (1 - i/N) * render(f_i) + (i/N) * render(f_i - f_N),
 * a crossfade between the image pushed forward by f_i and the image pulled back from where the
 * motion ends (the symmetric splatting of Holynski et al. 2021, with our Lagrangian flows).
 * Frame N then equals frame 0 byte for byte, so a player loops frames 0..N-1. Static pixels
 * stay bit-identical (both terms copy the reference there).
 */
import { AbortError, KernelInputError, NothingToAnimateError } from '../errors';
import { createTensor, readTensor, uploadTensor, type GpuTensor } from '../gpu/tensor';
import { Densify, type DensifySolverOptions } from '../gpu/kernels/densify';
import { RegionFlow, uploadRegionTables } from '../gpu/kernels/regionFlow';
import { greyGuide } from '../motion/regions';
import { SoftmaxSplat } from '../gpu/kernels/splat';
import { FillHoles } from '../gpu/kernels/fillHoles';
import type { PatchFillOptions } from '../gpu/kernels/patchFill';
import { ImageOps } from '../gpu/kernels/image';
import { buildConstraints, selectFrames, selectRegionFrames, type ConstraintOptions, type Constraints } from './constraints';
import type { EngineInput, Flows, Frames, MotionEngine, RenderEngine, RunOptions } from './engine';

/** Splat metric per pixel of flow magnitude (the splat clips the metric to [-20, 20]). */
export const METRIC_SCALE = 1;
/** Frames rendered per GPU submission: abort and progress are checked between chunks. */
const RENDER_CHUNK = 4;

/**
 * How holes are filled: 'patch' (default) background-only pull-push + patch fill (texture);
 * 'background' background-only pull-push (smooth); 'pull-push' pull-push over every covered
 * pixel, the moving content included (the first version, kept for comparison and as the CPU
 * reference engine's method).
 */
export type HoleFill = 'patch' | 'background' | 'pull-push';

export interface ClassicalEngineOptions {
  solver?: DensifySolverOptions;
  constraints?: ConstraintOptions;
  holeFill?: HoleFill;
  patchFill?: PatchFillOptions;
}

/** An ImageData's bytes as the engine's image tensor: uint32 [H, W] packed RGBA8. */
export function uploadImage(device: GPUDevice, image: { width: number; height: number; data: Uint8ClampedArray | Uint8Array }): GpuTensor {
  const words = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  return uploadTensor(device, words, [image.height, image.width], 'uint32', 'reference image');
}

/** Rejects with AbortError as soon as the signal fires, whatever `p` does. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new AbortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

export class ClassicalEngine implements MotionEngine, RenderEngine {
  readonly kind = 'classical' as const;
  readonly device: GPUDevice;
  private readonly densify: Densify;
  private readonly regionFlow: RegionFlow;
  /** The grey guide of the last image read back for the brush edge (by its buffer). */
  private guide: { buffer: GPUBuffer; grey: Float32Array } | null = null;
  private readonly splat: SoftmaxSplat;
  private readonly fill: FillHoles;
  private readonly ops: ImageOps;
  private readonly options: ClassicalEngineOptions;
  private disposed = false;

  constructor(device: GPUDevice, options: ClassicalEngineOptions = {}) {
    this.device = device;
    this.options = options;
    this.densify = new Densify(device);
    this.regionFlow = new RegionFlow(device);
    this.splat = new SoftmaxSplat(device);
    this.fill = new FillHoles(device);
    this.ops = new ImageOps(device);
  }

  /** `guide`: the image's grey levels, needed when the brush snaps to edges (greyGuideOf). */
  constraints(input: EngineInput, guide?: Float32Array): Constraints {
    const { project, image } = input;
    const [h, w] = image.shape;
    if (w !== project.canvas.width || h !== project.canvas.height) {
      throw new KernelInputError(
        'ClassicalEngine',
        'image',
        `is ${w}x${h}, the project canvas is ${project.canvas.width}x${project.canvas.height}`,
      );
    }
    return buildConstraints(project, this.options.constraints, guide);
  }

  /**
   * The grey guide of the brush-edge filter, read back from the image once per image (the
   * worker keeps one image tensor per picture); undefined when the project does not snap.
   */
  async greyGuideOf(input: EngineInput): Promise<Float32Array | undefined> {
    if (!(input.project.settings.brushFeather >= 1) || !input.project.brush.length) return undefined;
    if (this.guide?.buffer !== input.image.buffer) {
      const [h, w] = input.image.shape;
      const words = (await readTensor(this.device, input.image)) as Uint32Array;
      this.guide = { buffer: input.image.buffer, grey: greyGuide(new Uint8Array(words.buffer, words.byteOffset, w * h * 4), w, h) };
    }
    return this.guide.grey;
  }

  /**
   * Stage 1: all N flows, or only `options.frames` (1..N). A scene with no moving trajectory
   * is refused with NothingToAnimateError (it says what to draw) before anything is dispatched.
   */
  async motion(input: EngineInput, options: RunOptions = {}): Promise<Flows> {
    const { signal } = options;
    const report = options.onProgress ?? (() => undefined);
    throwIfAborted(signal);
    this.checkAlive();
    report({ stage: 'prepare', fraction: 0 });
    const guide = await raceAbort(this.greyGuideOf(input), signal);
    const c = this.constraints(input, guide);
    if (c.k === 0) throw new NothingToAnimateError();
    const subset = options.frames;
    const frames = subset ?? Array.from({ length: c.flows }, (_, i) => i + 1);
    const bad = frames.find((f) => !Number.isInteger(f) || f < 1 || f > c.flows);
    if (bad !== undefined) throw new KernelInputError('ClassicalEngine', 'frames', `contains ${bad}; flows exist for frames 1..${c.flows}`);
    const { width, height } = c;
    const d = this.device;
    const ids = uploadTensor(d, c.ids, [height, width], 'int32', 'densify ids');
    const table = uploadTensor(
      d,
      selectFrames(
        c,
        frames.map((f) => f - 1),
      ),
      [frames.length, c.k, 2],
      'float32',
      'densify table',
    );
    const out = createTensor(d, [frames.length, 2, height, width], 'float32', 'flows');
    const regions = c.regions.count
      ? uploadRegionTables(
          d,
          {
            ...c.regions,
            ...selectRegionFrames(
              c,
              frames.map((f) => f - 1),
            ),
          },
          width,
          height,
          frames.length,
        )
      : null;
    report({ stage: 'prepare', fraction: 1 });
    report({ stage: 'motion', fraction: 0 });
    try {
      const encoder = d.createCommandEncoder({ label: 'classical motion' });
      this.densify.encode(encoder, { image: input.image, ids, table, out }, { screeningLength: c.screeningLength, ...this.options.solver });
      if (regions) this.regionFlow.encode(encoder, regions, out);
      d.queue.submit([encoder.finish()]);
      await raceAbort(d.queue.onSubmittedWorkDone(), signal);
    } catch (e) {
      out.buffer.destroy();
      throw e;
    } finally {
      ids.buffer.destroy();
      table.buffer.destroy();
      regions?.dispose();
    }
    report({ stage: 'motion', fraction: 1 });
    return { tensor: out, width, height, count: frames.length, frames: subset ? [...subset] : undefined };
  }

  /**
   * Stage 2: for a whole clip N+1 frames, frame 0 = the image; for a subset of flows one frame
   * per flow (no reference frame).
   */
  async render(input: EngineInput, flows: Flows, options: RunOptions = {}): Promise<Frames> {
    const { signal } = options;
    const report = options.onProgress ?? (() => undefined);
    throwIfAborted(signal);
    this.checkAlive();
    const d = this.device;
    const [h, w] = input.image.shape;
    if (flows.width !== w || flows.height !== h) {
      throw new KernelInputError('ClassicalEngine', 'flows', `are ${flows.width}x${flows.height}, the image is ${w}x${h}`);
    }
    const n = flows.count;
    const whole = flows.frames === undefined;
    const offset = whole ? 1 : 0;
    // Looping needs f_N, so it applies to whole clips only (not to single preview frames).
    const loop = input.project.settings.loop && whole && n > 0;
    const out = createTensor(d, [n + offset, h, w], 'uint32', 'frames');
    const planes = createTensor(d, [1, 4, h, w], 'float32', 'image planes');
    const scratch: GpuTensor[] = [planes];
    try {
      let encoder = d.createCommandEncoder({ label: 'classical render setup' });
      if (offset) encoder.copyBufferToBuffer(input.image.buffer, 0, out.buffer, 0, w * h * 4);
      this.ops.encodeUnpack(encoder, input.image, planes);
      d.queue.submit([encoder.finish()]);
      const frameBytes = 2 * w * h * 4;
      for (let start = 0; start < n; start += RENDER_CHUNK) {
        throwIfAborted(signal);
        const count = Math.min(RENDER_CHUNK, n - start);
        encoder = d.createCommandEncoder({ label: 'classical render' });
        const chunkFlows = createTensor(d, [count, 2, h, w], 'float32', 'chunk flows');
        scratch.push(chunkFlows);
        encoder.copyBufferToBuffer(flows.tensor.buffer, start * frameBytes, chunkFlows.buffer, 0, count * frameBytes);
        if (loop) {
          const forward = createTensor(d, [count, h, w], 'uint32', 'loop forward');
          const backward = createTensor(d, [count, h, w], 'uint32', 'loop backward');
          const last = createTensor(d, [2, h, w], 'float32', 'last flow');
          const shifted = createTensor(d, [count, 2, h, w], 'float32', 'loop flows');
          scratch.push(forward, backward, last, shifted);
          encoder.copyBufferToBuffer(flows.tensor.buffer, (n - 1) * frameBytes, last.buffer, 0, frameBytes);
          this.ops.encodeFlowShift(encoder, chunkFlows, last, shifted);
          this.encodeChunk(encoder, input.image, planes, chunkFlows, forward, 0, scratch);
          this.encodeChunk(encoder, input.image, planes, shifted, backward, 0, scratch);
          // The blend binds the whole tensor and checks it ends at this chunk: pass a view that does.
          const view: GpuTensor = { buffer: out.buffer, shape: [start + offset + count, h, w], dtype: 'uint32' };
          this.ops.encodeBlend(encoder, forward, backward, view, { frameOffset: start + offset, first: start + 1, period: n });
        } else {
          this.encodeChunk(encoder, input.image, planes, chunkFlows, out, start + offset, scratch);
        }
        d.queue.submit([encoder.finish()]);
        await raceAbort(d.queue.onSubmittedWorkDone(), signal);
        for (const t of scratch.splice(1)) t.buffer.destroy();
        report({ stage: 'render', fraction: (start + count) / n });
      }
      if (n === 0) report({ stage: 'render', fraction: 1 });
    } catch (e) {
      out.buffer.destroy();
      throw e;
    } finally {
      for (const t of scratch) t.buffer.destroy();
    }
    return { tensor: out, width: w, height: h, count: n + offset, frames: flows.frames };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.densify.dispose();
    this.regionFlow.dispose();
    this.guide = null;
    this.splat.dispose();
    this.fill.dispose();
  }

  private checkAlive(): void {
    if (this.disposed) throw new KernelInputError('ClassicalEngine', 'this', 'was disposed');
  }

  /** Splat + fill + composite of `flows` ([F, 2, H, W]) into out[frameOffset ..]. */
  private encodeChunk(
    encoder: GPUCommandEncoder,
    image: GpuTensor,
    planes: GpuTensor,
    flows: GpuTensor,
    out: GpuTensor,
    frameOffset: number,
    scratch: GpuTensor[],
  ): void {
    const [f, , h, w] = flows.shape;
    const d = this.device;
    const metric = createTensor(d, [1, f, h, w], 'float32', 'splat metric');
    const covered = createTensor(d, [f, h, w], 'uint32', 'moving cover');
    scratch.push(metric, covered);
    this.ops.encodeMotionPrep(encoder, flows, metric, covered, METRIC_SCALE);
    const splat = this.splat.encode(encoder, { input: planes, flows, metric, mode: 'soft' });
    scratch.push(splat);
    const holeFill = this.options.holeFill ?? 'patch';
    const coarse =
      holeFill === 'pull-push'
        ? this.fill.encode(encoder, splat)
        : this.fill.encodeBackground(
            encoder,
            { splat, flows, metric },
            { patch: holeFill === 'patch' && (this.options.patchFill ?? true) },
          );
    // The composite writes frames [frameOffset, frameOffset + f) of `out`; it binds the whole
    // tensor, so pass a view whose shape ends there.
    const view: GpuTensor = { buffer: out.buffer, shape: [frameOffset + f, h, w], dtype: 'uint32' };
    this.ops.encodeComposite(encoder, { reference: image, flows, covered, splat, coarse, out: view, frameOffset });
  }
}
