/**
 * Patch fill of holes (PatchMatch, Barnes et al. 2009, coarse to fine): texture for the pixels
 * background-only pull-push left smooth. It runs on the pull-push pyramid itself (FillHoles:
 * every level [F, 4, h, w] = colour filled everywhere + the background weight, known where the
 * weight is >= 0.999), from the coarsest level with both sides >= `minSide` down to level 0:
 *  - shaders/fill_patch_init.wgsl: the level's NNF from the coarser one's (or random on top);
 *  - shaders/fill_patch_apply.wgsl: every hole pixel copies its source's known centre pixel;
 *  - then k times shaders/fill_patch_search.wgsl (propagation at jumps 2^(k-1) .. 1, random
 *    search at radii R, R / 2 .. 1) and apply again: on the coarsest level k = `iterations`,
 *    R = max(w, h); on the finer ones, which start from a good field, `fineIterations` and
 *    `fineRadius`.
 * On level 0, pixels covered by moving content (weight <= -0.999) are neither filled nor
 * sources and count 0 in target patches; hole estimates count ESTIMATE_WEIGHT, known 1. The
 * patch cost counts the difference of the patches' (weighted) means only at MEAN_WEIGHT: only
 * the copy's detail is used (below), and a full mean term makes a smooth hole estimate pick
 * the flattest source, i.e. no texture.
 * Patches (5x5) are taken only where every pixel is known background, so every filled pixel is
 * a copy of a background pixel. shaders/fill_patch_detail.wgsl adds that texture (the copy
 * minus its 7x7 mean) to the smooth background pull-push colour, which keeps the low
 * frequencies right where a copied patch is the wrong thing; shaders/fill_patch_finish.wgsl
 * puts the result into the splat.
 * Deterministic: the random numbers are a hash of (seed, pass, pixel, sample), not of the frame,
 * so a frame rendered alone (the live preview) equals the same frame of the whole clip.
 */
import { KernelInputError } from '../../errors';
import { checkTensor, createTensor, type GpuTensor } from '../tensor';
import patchCommonSrc from '../../../shaders/fill_patch_common.wgsl?raw';
import initSrc from '../../../shaders/fill_patch_init.wgsl?raw';
import searchSrc from '../../../shaders/fill_patch_search.wgsl?raw';
import applySrc from '../../../shaders/fill_patch_apply.wgsl?raw';
import finishSrc from '../../../shaders/fill_patch_finish.wgsl?raw';
import detailSrc from '../../../shaders/fill_patch_detail.wgsl?raw';
import { bindGroup, computeKernel, tileGrid, uniformBuffer, type ComputeKernel } from './common';

const KERNEL = 'PatchFill';

export interface PatchFillOptions {
  /** Search + apply rounds on the coarsest level searched (default 4). */
  iterations?: number;
  /** Search + apply rounds on each finer level, which starts from the coarser field (default 2). */
  fineIterations?: number;
  /** Random-search radius on the finer levels (the coarsest searches the whole level); default 16. */
  fineRadius?: number;
  /** Seed of the random search and the top level's random start (default 1). */
  seed?: number;
  /** The coarsest level searched is the coarsest whose sides are both >= this (default 16). */
  minSide?: number;
}

export const PATCH_FILL_DEFAULTS: Required<PatchFillOptions> = { iterations: 4, fineIterations: 2, fineRadius: 16, seed: 1, minSide: 16 };

interface PatchParams {
  width: number;
  height: number;
  frames: number;
  coarseWidth?: number;
  coarseHeight?: number;
  jump?: number;
  radius?: number;
  seed?: number;
  pass?: number;
}

export class PatchFill {
  private readonly device: GPUDevice;
  private readonly init: ComputeKernel;
  private readonly search: ComputeKernel;
  private readonly apply: ComputeKernel;
  private readonly finish: ComputeKernel;
  private readonly detail: ComputeKernel;
  /** Two NNFs per level (ping-pong), kept between calls of the same shape. */
  private fields: [GpuTensor, GpuTensor][] = [];
  /** Bound as the coarser NNF on the top level, which has none (a binding may not alias the output). */
  private readonly noCoarse: GpuTensor;
  private disposed = false;

  constructor(device: GPUDevice) {
    this.device = device;
    const kernel = (label: string, code: string, kinds: ('uniform' | 'read' | 'write')[]) =>
      computeKernel(device, label, { code, preludes: [patchCommonSrc] }, kinds);
    this.init = kernel('fill-patch-init', initSrc, ['uniform', 'read', 'read', 'write']);
    this.search = kernel('fill-patch-search', searchSrc, ['uniform', 'read', 'read', 'write']);
    this.apply = kernel('fill-patch-apply', applySrc, ['uniform', 'write', 'read']);
    this.finish = kernel('fill-patch-finish', finishSrc, ['uniform', 'read', 'write']);
    this.detail = kernel('fill-patch-detail', detailSrc, ['uniform', 'read', 'write']);
    this.noCoarse = createTensor(device, [1], 'uint32', 'fill-patch no coarser nnf');
  }

  /**
   * Fills the holes of `levels` ([0] = full size, each [F, 4, h, w], sides halving, rounded
   * up) in place, coarse to fine. Returns level 0's NNF, uint32 [F, H, W] (x | y << 16),
   * owned by this object until the next encode or dispose.
   */
  encode(encoder: GPUCommandEncoder, levels: GpuTensor[], options: PatchFillOptions = {}): GpuTensor {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const o = { ...PATCH_FILL_DEFAULTS, ...options };
    for (const key of ['iterations', 'fineIterations', 'fineRadius'] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 0 || o[key] > 16)
        throw new KernelInputError(KERNEL, key, `must be an integer in 0..16, got ${o[key]}`);
    }
    if (levels.length === 0) throw new KernelInputError(KERNEL, 'levels', 'is empty');
    levels.forEach((t, i) => checkTensor(KERNEL, `levels[${i}]`, t, { dtype: 'float32', rank: 4, shape: [levels[0].shape[0], 4] }));
    const [f, , h0, w0] = levels[0].shape;
    if (w0 > 0xffff || h0 > 0xffff) throw new KernelInputError(KERNEL, 'levels[0]', `is ${w0}x${h0}; the NNF packs positions in 16 bits`);
    let top = 0;
    while (top + 1 < levels.length && Math.min(levels[top + 1].shape[2], levels[top + 1].shape[3]) >= o.minSide) top++;
    this.ensureFields(levels.slice(0, top + 1));
    const d = this.device;
    const pass = encoder.beginComputePass({ label: 'fill-patch' });
    let coarse: GpuTensor | undefined;
    let counter = 0;
    for (let l = top; l >= 0; l--) {
      const level = levels[l];
      const [, , h, w] = level.shape;
      const grid = tileGrid(d, KERNEL, w, h, f, `levels[${l}]`);
      let [current, next] = this.fields[l];
      const base = { width: w, height: h, frames: f, seed: o.seed };
      pass.setPipeline(this.init.pipeline);
      const initParams = this.params({ ...base, coarseWidth: coarse?.shape[2] ?? 0, coarseHeight: coarse?.shape[1] ?? 0, pass: counter++ });
      pass.setBindGroup(0, bindGroup(d, this.init, [initParams, level, coarse ?? this.noCoarse, current]));
      pass.dispatchWorkgroups(...grid);
      this.encodeApply(pass, level, current, base, grid);
      const rounds = l === top ? o.iterations : o.fineIterations;
      const radius = l === top ? Math.max(w, h) : o.fineRadius;
      for (let it = 0; it < rounds; it++) {
        pass.setPipeline(this.search.pipeline);
        const searchParams = this.params({ ...base, jump: 2 ** (rounds - 1 - it), radius, pass: counter++ });
        pass.setBindGroup(0, bindGroup(d, this.search, [searchParams, level, current, next]));
        pass.dispatchWorkgroups(...grid);
        [current, next] = [next, current];
        this.encodeApply(pass, level, current, base, grid);
      }
      coarse = current;
    }
    pass.end();
    return coarse!;
  }

  /** smooth [F, 4, H, W] (level 0 before encode) += detail of the patch-filled `level0` at its holes. */
  encodeDetail(encoder: GPUCommandEncoder, level0: GpuTensor, smooth: GpuTensor): void {
    checkTensor(KERNEL, 'level0', level0, { dtype: 'float32', rank: 4 });
    const [f, , h, w] = level0.shape;
    checkTensor(KERNEL, 'smooth', smooth, { dtype: 'float32', shape: [f, 4, h, w] });
    const pass = encoder.beginComputePass({ label: 'fill-patch-detail' });
    pass.setPipeline(this.detail.pipeline);
    pass.setBindGroup(0, bindGroup(this.device, this.detail, [this.params({ width: w, height: h, frames: f }), level0, smooth]));
    pass.dispatchWorkgroups(...tileGrid(this.device, KERNEL, w, h, f, 'level0'));
    pass.end();
  }

  /** splat [.., F, 4, H, W] (premultiplied colour + coverage) += (1 - a) * fill where a < 1; a = 1 there. */
  encodeFinish(encoder: GPUCommandEncoder, fill: GpuTensor, splat: GpuTensor): void {
    checkTensor(KERNEL, 'fill', fill, { dtype: 'float32', rank: 4 });
    const [f, four, h, w] = fill.shape;
    if (four !== 4) throw new KernelInputError(KERNEL, 'fill', `has shape ${JSON.stringify(fill.shape)}, dimension 1 must be 4`);
    if (splat.shape.slice(-4).join() !== fill.shape.join() || splat.shape.slice(0, -4).some((s) => s !== 1)) {
      throw new KernelInputError(KERNEL, 'splat', `has shape ${JSON.stringify(splat.shape)}, expected ${JSON.stringify(fill.shape)}`);
    }
    const pass = encoder.beginComputePass({ label: 'fill-patch-finish' });
    pass.setPipeline(this.finish.pipeline);
    pass.setBindGroup(0, bindGroup(this.device, this.finish, [this.params({ width: w, height: h, frames: f }), fill, splat]));
    pass.dispatchWorkgroups(...tileGrid(this.device, KERNEL, w, h, f, 'fill'));
    pass.end();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.fields.forEach((pair) => pair.forEach((t) => t.buffer.destroy()));
    this.fields = [];
    this.noCoarse.buffer.destroy();
  }

  private encodeApply(
    pass: GPUComputePassEncoder,
    level: GpuTensor,
    nnf: GpuTensor,
    base: PatchParams,
    grid: [number, number, number],
  ): void {
    pass.setPipeline(this.apply.pipeline);
    pass.setBindGroup(0, bindGroup(this.device, this.apply, [this.params(base), level, nnf]));
    pass.dispatchWorkgroups(...grid);
  }

  private params(p: PatchParams): GPUBuffer {
    return uniformBuffer(
      this.device,
      [p.width, p.height, p.frames, p.coarseWidth ?? 0, p.coarseHeight ?? 0, p.jump ?? 1, p.radius ?? 0, (p.seed ?? 0) >>> 0, p.pass ?? 0],
      'fill-patch params',
    );
  }

  private ensureFields(levels: GpuTensor[]): void {
    const want = levels.map((t) => [t.shape[0], t.shape[2], t.shape[3]]);
    const same = want.length <= this.fields.length && want.every((s, i) => s.every((v, j) => v === this.fields[i][0].shape[j]));
    if (same) return;
    this.fields.forEach((pair) => pair.forEach((t) => t.buffer.destroy()));
    this.fields = want.map((shape, i) => [
      createTensor(this.device, shape, 'uint32', `fill-patch nnf ${i} a`),
      createTensor(this.device, shape, 'uint32', `fill-patch nnf ${i} b`),
    ]);
  }
}
