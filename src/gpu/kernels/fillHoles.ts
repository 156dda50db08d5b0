/**
 * Pull-push hole filling (Gortler et al. 1996) over a batch of frames: shaders/fill_holes_pull.wgsl
 * builds a pyramid of weight-averaged colours, shaders/fill_holes_push.wgsl fills each level's
 * uncovered pixels from the level above. Holes (where a forward splat left nothing) get a smooth
 * blend of the colours around them, however large they are.
 *
 * encode() fills levels 1..L and returns level 1; the caller blends level 0 itself (the
 * composite kernel does it while packing the output, saving a pass).
 */
import { KernelInputError } from '../../errors';
import { checkTensor, createTensor, type GpuTensor } from '../tensor';
import pullSrc from '../../../shaders/fill_holes_pull.wgsl?raw';
import pushSrc from '../../../shaders/fill_holes_push.wgsl?raw';
import coarseRgbSrc from '../../../shaders/coarse_rgb.wgsl?raw';
import { bindGroup, tileGrid, type ComputeKernel } from './common';
import { imageKernel, imageParams } from './image';

const KERNEL = 'FillHoles';

export class FillHoles {
  private readonly device: GPUDevice;
  private readonly pull: ComputeKernel;
  private readonly push: ComputeKernel;
  private levels: GpuTensor[] = [];
  private disposed = false;

  constructor(device: GPUDevice) {
    this.device = device;
    this.pull = imageKernel(device, 'fill-holes-pull', pullSrc, ['uniform', 'read', 'write']);
    this.push = imageKernel(device, 'fill-holes-push', pushSrc, ['uniform', 'write', 'read'], [coarseRgbSrc]);
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
    if (rank === 5 && input.shape[0] !== 1) throw new KernelInputError(KERNEL, 'input', `has shape ${JSON.stringify(input.shape)}, batch must be 1`);
    checkTensor(KERNEL, 'input', input, { dtype: 'float32', rank: rank === 5 ? 5 : 4, shape: rank === 5 ? [1, undefined, 4] : [undefined, 4] });
    const [f, , h, w] = rank === 5 ? input.shape.slice(1) : input.shape;
    if (w < 2 && h < 2) throw new KernelInputError(KERNEL, 'input', `is ${w}x${h}; needs at least 2 pixels on one side`);
    if (f > this.device.limits.maxComputeWorkgroupsPerDimension) throw new KernelInputError(KERNEL, 'input', `has ${f} frames, over the dispatch limit`);
    const sizes: [number, number][] = [[w, h]];
    while (sizes[sizes.length - 1][0] > 1 || sizes[sizes.length - 1][1] > 1) {
      const [pw, ph] = sizes[sizes.length - 1];
      sizes.push([Math.ceil(pw / 2), Math.ceil(ph / 2)]);
    }
    tileGrid(this.device, KERNEL, w, h, f, 'input');
    this.ensureLevels(f, sizes);
    const level = (i: number): GpuTensor => (i === 0 ? input : this.levels[i - 1]);
    const pass = encoder.beginComputePass({ label: 'fill-holes' });
    pass.setPipeline(this.pull.pipeline);
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [fw, fh] = sizes[i];
      const [cw, ch] = sizes[i + 1];
      const params = imageParams(this.device, { width: fw, height: fh, coarseWidth: cw, coarseHeight: ch, frames: f, premultiplied: i === 0 }, 'fill-holes-pull');
      pass.setBindGroup(0, bindGroup(this.device, this.pull, [params, level(i), level(i + 1)]));
      pass.dispatchWorkgroups(...tileGrid(this.device, KERNEL, cw, ch, f));
    }
    pass.setPipeline(this.push.pipeline);
    for (let i = sizes.length - 2; i >= 1; i--) {
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
  }

  private ensureLevels(frames: number, sizes: [number, number][]): void {
    const want = sizes.slice(1).map(([w, h]) => [frames, 4, h, w]);
    const same = want.length === this.levels.length && want.every((s, i) => s.every((d, j) => d === this.levels[i].shape[j]));
    if (same) return;
    this.levels.forEach((t) => t.buffer.destroy());
    this.levels = want.map((shape, i) => createTensor(this.device, shape, 'float32', `fill-holes-${i + 1}`));
  }
}
