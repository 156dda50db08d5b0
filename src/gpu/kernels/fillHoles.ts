/**
 * Pull-push hole filling (Gortler et al. 1996) over a batch of frames: shaders/fill_holes_pull.wgsl
 * builds a pyramid of weight-averaged colours, shaders/fill_holes_push.wgsl fills each level's
 * uncovered pixels from the level above. Holes (where a forward splat left nothing) get a smooth
 * blend of the colours around them, however large they are.
 *
 * encode() pulls from every covered pixel, fills levels 1..L and returns level 1; the caller
 * blends level 0 itself (the composite kernel does it while packing the output, saving a pass).
 *
 * encodeBackground() fills from the background side only: shaders/fill_holes_layers.wgsl and
 * fill_holes_background.wgsl weigh level 0 by layer (by the splat's metric, the layer behind
 * the nearest content that left a hole), so the content that moved away is never smeared into
 * its own hole; with `patch` the pyramid then gets texture from PatchFill (patchFill.ts) and the
 * result is written into the splat itself (coverage 1 everywhere), so the composite's pyramid
 * term vanishes.
 */
import { KernelInputError } from '../../errors';
import { checkTensor, createTensor, type GpuTensor } from '../tensor';
import pullSrc from '../../../shaders/fill_holes_pull.wgsl?raw';
import pushSrc from '../../../shaders/fill_holes_push.wgsl?raw';
import coarseRgbSrc from '../../../shaders/coarse_rgb.wgsl?raw';
import layersSrc from '../../../shaders/fill_holes_layers.wgsl?raw';
import backgroundSrc from '../../../shaders/fill_holes_background.wgsl?raw';
import { bindGroup, tileGrid, type ComputeKernel } from './common';
import { imageKernel, imageParams } from './image';
import { PatchFill, type PatchFillOptions } from './patchFill';

/** What encodeBackground reads besides the splat: the splat's own flows and metric. */
export interface BackgroundFillArgs {
  /** float32 [1, F, 4, H, W] or [F, 4, H, W]: the splat (premultiplied colour, coverage). With `patch` it is filled in place. */
  splat: GpuTensor;
  /** float32 [F, 2, H, W]: the flows it was splatted with. */
  flows: GpuTensor;
  /** float32 [1, F, H, W]: the metric it was splatted with (larger = in front). */
  metric: GpuTensor;
}

export interface BackgroundFillOptions {
  /** Patch fill after the pull-push (true = PATCH_FILL_DEFAULTS). Default false. */
  patch?: boolean | PatchFillOptions;
}

const KERNEL = 'FillHoles';

export class FillHoles {
  private readonly device: GPUDevice;
  private readonly pull: ComputeKernel;
  private readonly push: ComputeKernel;
  private readonly layers: ComputeKernel;
  private readonly background: ComputeKernel;
  private readonly patchFill: PatchFill;
  private levels: GpuTensor[] = [];
  /** encodeBackground's level 0 [F, 4, H, W], front-metric map [F, H, W] and occluder metric [F]. */
  private level0?: GpuTensor;
  private landed?: GpuTensor;
  private occluder?: GpuTensor;
  private lastNnf?: GpuTensor;
  /** With `patch`: level 0 after pull-push, then plus the patch fill's detail (what is finished into the splat). */
  private smooth?: GpuTensor;
  private disposed = false;

  constructor(device: GPUDevice) {
    this.device = device;
    this.pull = imageKernel(device, 'fill-holes-pull', pullSrc, ['uniform', 'read', 'write']);
    this.push = imageKernel(device, 'fill-holes-push', pushSrc, ['uniform', 'write', 'read'], [coarseRgbSrc]);
    this.layers = imageKernel(device, 'fill-holes-layers', layersSrc, ['uniform', 'read', 'read', 'read', 'write', 'write']);
    this.background = imageKernel(device, 'fill-holes-background', backgroundSrc, ['uniform', 'read', 'read', 'read', 'write']);
    this.patchFill = new PatchFill(device);
  }

  /**
   * Background-only pull-push (and, with `patch`, the patch fill) of `args.splat`. Returns
   * level 1 as encode() does (for the composite; with `patch` its term is 0, coverage being 1).
   */
  encodeBackground(encoder: GPUCommandEncoder, args: BackgroundFillArgs, options: BackgroundFillOptions = {}): GpuTensor {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const K = `${KERNEL}.background`;
    const { splat } = args;
    const rank = splat.shape.length;
    if (rank === 5 && splat.shape[0] !== 1)
      throw new KernelInputError(K, 'splat', `has shape ${JSON.stringify(splat.shape)}, batch must be 1`);
    checkTensor(K, 'splat', splat, { dtype: 'float32', rank: rank === 5 ? 5 : 4, shape: rank === 5 ? [1, undefined, 4] : [undefined, 4] });
    const [f, , h, w] = rank === 5 ? splat.shape.slice(1) : splat.shape;
    checkTensor(K, 'flows', args.flows, { dtype: 'float32', shape: [f, 2, h, w] });
    checkTensor(K, 'metric', args.metric, { dtype: 'float32', shape: [1, f, h, w] });
    const d = this.device;
    const grid = tileGrid(d, K, w, h, f, 'splat');
    if (this.level0?.shape.join() !== [f, 4, h, w].join()) {
      for (const t of [this.level0, this.landed, this.occluder]) t?.buffer.destroy();
      this.level0 = createTensor(d, [f, 4, h, w], 'float32', 'fill-holes-background 0');
      this.landed = createTensor(d, [f, h, w], 'uint32', 'fill-holes front metric');
      this.occluder = createTensor(d, [f], 'uint32', 'fill-holes occluder metric');
    }
    const level0 = this.level0;
    encoder.clearBuffer(this.landed!.buffer, 0, 4 * f * h * w);
    encoder.clearBuffer(this.occluder!.buffer, 0, 4 * f);
    const params = imageParams(d, { width: w, height: h, frames: f }, 'fill-holes-layers');
    const pass = encoder.beginComputePass({ label: 'fill-holes-background' });
    pass.setPipeline(this.layers.pipeline);
    pass.setBindGroup(0, bindGroup(d, this.layers, [params, args.flows, args.metric, splat, this.landed!, this.occluder!]));
    pass.dispatchWorkgroups(...grid);
    pass.setPipeline(this.background.pipeline);
    pass.setBindGroup(0, bindGroup(d, this.background, [params, splat, this.landed!, this.occluder!, level0]));
    pass.dispatchWorkgroups(...grid);
    pass.end();
    const coarse = this.encodePyramid(encoder, level0, f, w, h, false, true);
    if (options.patch) {
      if (this.smooth?.shape.join() !== level0.shape.join()) {
        this.smooth?.buffer.destroy();
        this.smooth = createTensor(d, level0.shape, 'float32', 'fill-holes smooth 0');
      }
      encoder.copyBufferToBuffer(level0.buffer, 0, this.smooth.buffer, 0, 16 * f * h * w);
      const pyramid = [level0, ...this.levels];
      this.lastNnf = this.patchFill.encode(encoder, pyramid, options.patch === true ? {} : options.patch);
      this.patchFill.encodeDetail(encoder, level0, this.smooth);
      this.patchFill.encodeFinish(encoder, this.smooth, splat);
    } else {
      this.lastNnf = undefined;
    }
    return coarse;
  }

  /**
   * After encodeBackground: its level 0 [F, 4, H, W] (colour filled, signed background weight)
   * and, with `patch`, level 0's NNF (uint32 [F, H, W], x | y << 16) and the fill written into
   * the splat [F, 4, H, W]. Owned by this object; valid until the next encode. For tests.
   */
  backgroundState(): { level0?: GpuTensor; nnf?: GpuTensor; fill?: GpuTensor } {
    return { level0: this.level0, nnf: this.lastNnf, fill: this.lastNnf ? this.smooth : undefined };
  }

  /**
   * `input`: float32 [F, 4, H, W] or [1, F, 4, H, W]: colour premultiplied by coverage, coverage
   * in channel 3 (a normalised splat of (R, G, B, 1)). Returns level 1, float32
   * [F, 4, ceil(H/2), ceil(W/2)], filled everywhere; owned by this object, valid until the next
   * encode or dispose.
   */
  encode(encoder: GPUCommandEncoder, input: GpuTensor): GpuTensor {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const rank = input.shape.length;
    if (rank === 5 && input.shape[0] !== 1)
      throw new KernelInputError(KERNEL, 'input', `has shape ${JSON.stringify(input.shape)}, batch must be 1`);
    checkTensor(KERNEL, 'input', input, {
      dtype: 'float32',
      rank: rank === 5 ? 5 : 4,
      shape: rank === 5 ? [1, undefined, 4] : [undefined, 4],
    });
    const [f, , h, w] = rank === 5 ? input.shape.slice(1) : input.shape;
    if (w < 2 && h < 2) throw new KernelInputError(KERNEL, 'input', `is ${w}x${h}; needs at least 2 pixels on one side`);
    if (f > this.device.limits.maxComputeWorkgroupsPerDimension)
      throw new KernelInputError(KERNEL, 'input', `has ${f} frames, over the dispatch limit`);
    tileGrid(this.device, KERNEL, w, h, f, 'input');
    return this.encodePyramid(encoder, input, f, w, h, true, false);
  }

  /** Pull from `input` (level 0) up to 1x1, push down to level 1 (to level 0 too with `pushLevel0`); returns level 1. */
  private encodePyramid(
    encoder: GPUCommandEncoder,
    input: GpuTensor,
    f: number,
    w: number,
    h: number,
    premultiplied: boolean,
    pushLevel0: boolean,
  ): GpuTensor {
    if (w < 2 && h < 2) throw new KernelInputError(KERNEL, 'input', `is ${w}x${h}; needs at least 2 pixels on one side`);
    const sizes: [number, number][] = [[w, h]];
    while (sizes[sizes.length - 1][0] > 1 || sizes[sizes.length - 1][1] > 1) {
      const [pw, ph] = sizes[sizes.length - 1];
      sizes.push([Math.ceil(pw / 2), Math.ceil(ph / 2)]);
    }
    this.ensureLevels(f, sizes);
    const level = (i: number): GpuTensor => (i === 0 ? input : this.levels[i - 1]);
    const pass = encoder.beginComputePass({ label: 'fill-holes' });
    pass.setPipeline(this.pull.pipeline);
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [fw, fh] = sizes[i];
      const [cw, ch] = sizes[i + 1];
      const params = imageParams(
        this.device,
        { width: fw, height: fh, coarseWidth: cw, coarseHeight: ch, frames: f, premultiplied: i === 0 && premultiplied },
        'fill-holes-pull',
      );
      pass.setBindGroup(0, bindGroup(this.device, this.pull, [params, level(i), level(i + 1)]));
      pass.dispatchWorkgroups(...tileGrid(this.device, KERNEL, cw, ch, f));
    }
    pass.setPipeline(this.push.pipeline);
    for (let i = sizes.length - 2; i >= (pushLevel0 ? 0 : 1); i--) {
      const [fw, fh] = sizes[i];
      const [cw, ch] = sizes[i + 1];
      const params = imageParams(this.device, { width: fw, height: fh, coarseWidth: cw, coarseHeight: ch, frames: f }, 'fill-holes-push');
      pass.setBindGroup(0, bindGroup(this.device, this.push, [params, level(i), level(i + 1)]));
      pass.dispatchWorkgroups(...tileGrid(this.device, KERNEL, fw, fh, f));
    }
    pass.end();
    return this.levels[0];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.levels.forEach((t) => t.buffer.destroy());
    this.levels = [];
    for (const t of [this.level0, this.landed, this.occluder, this.smooth]) t?.buffer.destroy();
    this.patchFill.dispose();
  }

  private ensureLevels(frames: number, sizes: [number, number][]): void {
    const want = sizes.slice(1).map(([w, h]) => [frames, 4, h, w]);
    const same = want.length === this.levels.length && want.every((s, i) => s.every((d, j) => d === this.levels[i].shape[j]));
    if (same) return;
    this.levels.forEach((t) => t.buffer.destroy());
    this.levels = want.map((shape, i) => createTensor(this.device, shape, 'float32', `fill-holes-${i + 1}`));
  }
}
