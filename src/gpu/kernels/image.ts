/**
 * Image ops of the classical renderer (shaders/image_*.wgsl):
 *  - unpack: packed RGBA8 [H, W] -> float planes [1, 4, H, W] = (R, G, B, 1);
 *  - motionPrep: flows [F, 2, H, W] -> splat metric [1, F, H, W] and "a moving pixel lands
 *    here" marks [F, H, W];
 *  - composite: packed RGBA8 frames, copying the reference's bytes where nothing moves;
 *  - flowShift: f_i - f_N (the seamless loop's backward flows);
 *  - blend: per-frame crossfade of two packed frame stacks (the seamless loop).
 */
import { KernelInputError } from '../../errors';
import { checkBindingSize, checkTensor, type GpuTensor } from '../tensor';
import unpackSrc from '../../../shaders/image_unpack.wgsl?raw';
import motionPrepSrc from '../../../shaders/image_motion_prep.wgsl?raw';
import compositeSrc from '../../../shaders/image_composite.wgsl?raw';
import flowShiftSrc from '../../../shaders/image_flow_shift.wgsl?raw';
import blendSrc from '../../../shaders/image_blend.wgsl?raw';
import coarseRgbSrc from '../../../shaders/coarse_rgb.wgsl?raw';
import paramsSrc from '../../../shaders/image_params.wgsl?raw';
import { bindGroup, computeKernel, encodeDispatch, tileGrid, uniformBuffer, type BindingKind, type ComputeKernel } from './common';

/** Fields of the Params struct shared by the image and fill-holes shaders (image_params.wgsl); unset ones are 0. */
export interface ImageParams {
  width: number;
  height: number;
  frames: number;
  frameOffset?: number;
  coarseWidth?: number;
  coarseHeight?: number;
  premultiplied?: boolean;
  first?: number;
  period?: number;
  metricScale?: number;
}

/** A uniform buffer holding `p` in image_params.wgsl's field order. */
export function imageParams(device: GPUDevice, p: ImageParams, label: string): GPUBuffer {
  return uniformBuffer(
    device,
    [
      p.width,
      p.height,
      p.frames,
      p.frameOffset ?? 0,
      p.coarseWidth ?? 0,
      p.coarseHeight ?? 0,
      p.premultiplied ? 1 : 0,
      p.first ?? 0,
      p.period ?? 0,
      { f32: p.metricScale ?? 0 },
    ],
    label,
  );
}

/** A kernel of the image family: image_params.wgsl (and any other prelude) prepended. */
export function imageKernel(device: GPUDevice, label: string, code: string, kinds: BindingKind[], preludes: string[] = []): ComputeKernel {
  return computeKernel(device, label, { code, preludes: [paramsSrc, ...preludes] }, kinds);
}

export interface CompositeArgs {
  /** uint32 [H, W] packed RGBA8. */
  reference: GpuTensor;
  /** float32 [F, 2, H, W]. */
  flows: GpuTensor;
  /** uint32 [F, H, W] from motionPrep. */
  covered: GpuTensor;
  /** float32 [1, F, 4, H, W] or [F, 4, H, W]: splat output, colour premultiplied by coverage. */
  splat: GpuTensor;
  /** float32 [F, 4, Hc, Wc]: filled level 1 of the hole-filling pyramid (FillHoles.encode). */
  coarse: GpuTensor;
  /** uint32 [frameOffset + F, H, W]: written from frame frameOffset on. */
  out: GpuTensor;
  frameOffset: number;
}

export class ImageOps {
  private readonly device: GPUDevice;
  private readonly unpackKernel: ComputeKernel;
  private readonly prepKernel: ComputeKernel;
  private readonly compositeKernel: ComputeKernel;
  private readonly shiftKernel: ComputeKernel;
  private readonly blendKernel: ComputeKernel;

  constructor(device: GPUDevice) {
    this.device = device;
    this.unpackKernel = imageKernel(device, 'image-unpack', unpackSrc, ['uniform', 'read', 'write']);
    this.prepKernel = imageKernel(device, 'image-motion-prep', motionPrepSrc, ['uniform', 'read', 'write', 'write']);
    this.compositeKernel = imageKernel(
      device,
      'image-composite',
      compositeSrc,
      ['uniform', 'read', 'read', 'read', 'read', 'read', 'write'],
      [coarseRgbSrc],
    );
    this.shiftKernel = imageKernel(device, 'image-flow-shift', flowShiftSrc, ['uniform', 'read', 'read', 'write']);
    this.blendKernel = imageKernel(device, 'image-blend', blendSrc, ['uniform', 'read', 'read', 'write']);
  }

  /** out [F, 2, H, W] = flows [F, 2, H, W] - last [2, H, W]. */
  encodeFlowShift(encoder: GPUCommandEncoder, flows: GpuTensor, last: GpuTensor, out: GpuTensor): void {
    const K = 'image.flowShift';
    checkTensor(K, 'flows', flows, { rank: 4, dtype: 'float32' });
    const [f, two, h, w] = flows.shape;
    if (two !== 2) throw new KernelInputError(K, 'flows', `has shape ${JSON.stringify(flows.shape)}, dimension 1 must be 2`);
    checkTensor(K, 'last', last, { dtype: 'float32', shape: [2, h, w] });
    checkTensor(K, 'out', out, { dtype: 'float32', shape: [f, 2, h, w] });
    const grid = tileGrid(this.device, K, w, h, f);
    checkBindingSize(K, 'flows', 8 * f * w * h, this.device);
    const params = imageParams(this.device, { width: w, height: h, frames: f }, K);
    encodeDispatch(encoder, K, this.shiftKernel.pipeline, bindGroup(this.device, this.shiftKernel, [params, flows, last, out]), grid);
  }

  /**
   * out[frameOffset + f] = mix(a[f], b[f], (first + f) / period), packed RGBA8; a, b: uint32
   * [F, H, W]; equal pixels are copied unchanged.
   */
  encodeBlend(
    encoder: GPUCommandEncoder,
    a: GpuTensor,
    b: GpuTensor,
    out: GpuTensor,
    o: { frameOffset: number; first: number; period: number },
  ): void {
    const K = 'image.blend';
    checkTensor(K, 'a', a, { rank: 3, dtype: 'uint32' });
    const [f, h, w] = a.shape;
    checkTensor(K, 'b', b, { dtype: 'uint32', shape: [f, h, w] });
    for (const [name, v] of Object.entries(o)) {
      if (!Number.isInteger(v) || v < 0) throw new KernelInputError(K, name, `must be a non-negative integer, got ${v}`);
    }
    if (o.period < 1) throw new KernelInputError(K, 'period', `must be >= 1, got ${o.period}`);
    checkTensor(K, 'out', out, { dtype: 'uint32', shape: [o.frameOffset + f, h, w] });
    const grid = tileGrid(this.device, K, w, h, f);
    const params = imageParams(
      this.device,
      { width: w, height: h, frames: f, frameOffset: o.frameOffset, first: o.first, period: o.period },
      K,
    );
    encodeDispatch(encoder, K, this.blendKernel.pipeline, bindGroup(this.device, this.blendKernel, [params, a, b, out]), grid);
  }

  /** image uint32 [H, W] -> planes float32 [1, 4, H, W]. */
  encodeUnpack(encoder: GPUCommandEncoder, image: GpuTensor, planes: GpuTensor): void {
    const K = 'image.unpack';
    checkTensor(K, 'image', image, { rank: 2, dtype: 'uint32' });
    const [h, w] = image.shape;
    checkTensor(K, 'planes', planes, { dtype: 'float32', shape: [1, 4, h, w] });
    const grid = tileGrid(this.device, K, w, h, 1);
    checkBindingSize(K, 'planes', 16 * w * h, this.device);
    const params = imageParams(this.device, { width: w, height: h, frames: 1 }, K);
    encodeDispatch(encoder, K, this.unpackKernel.pipeline, bindGroup(this.device, this.unpackKernel, [params, image, planes]), grid);
  }

  /**
   * flows [F, 2, H, W] -> metric [1, F, H, W] (= metricScale * |flow|) and covered [F, H, W]
   * (cleared here, then 1 where a moving pixel's bilinear footprint lands).
   */
  encodeMotionPrep(encoder: GPUCommandEncoder, flows: GpuTensor, metric: GpuTensor, covered: GpuTensor, metricScale: number): void {
    const K = 'image.motionPrep';
    checkTensor(K, 'flows', flows, { rank: 4, dtype: 'float32' });
    const [f, two, h, w] = flows.shape;
    if (two !== 2) throw new KernelInputError(K, 'flows', `has shape ${JSON.stringify(flows.shape)}, dimension 1 must be 2`);
    checkTensor(K, 'metric', metric, { dtype: 'float32', shape: [1, f, h, w] });
    checkTensor(K, 'covered', covered, { dtype: 'uint32', shape: [f, h, w] });
    if (!Number.isFinite(metricScale)) throw new KernelInputError(K, 'metricScale', `must be finite, got ${metricScale}`);
    const grid = tileGrid(this.device, K, w, h, f);
    checkBindingSize(K, 'flows', 8 * f * w * h, this.device);
    const params = imageParams(this.device, { width: w, height: h, frames: f, metricScale }, K);
    encoder.clearBuffer(covered.buffer, 0, 4 * f * w * h);
    encodeDispatch(encoder, K, this.prepKernel.pipeline, bindGroup(this.device, this.prepKernel, [params, flows, metric, covered]), grid);
  }

  encodeComposite(encoder: GPUCommandEncoder, a: CompositeArgs): void {
    const K = 'image.composite';
    checkTensor(K, 'reference', a.reference, { rank: 2, dtype: 'uint32' });
    const [h, w] = a.reference.shape;
    checkTensor(K, 'flows', a.flows, { dtype: 'float32', shape: [undefined, 2, h, w] });
    const f = a.flows.shape[0];
    checkTensor(K, 'covered', a.covered, { dtype: 'uint32', shape: [f, h, w] });
    const splatShape = a.splat.shape.length === 5 ? [1, f, 4, h, w] : [f, 4, h, w];
    checkTensor(K, 'splat', a.splat, { dtype: 'float32', shape: splatShape });
    const cw = Math.ceil(w / 2);
    const ch = Math.ceil(h / 2);
    checkTensor(K, 'coarse', a.coarse, { dtype: 'float32', shape: [f, 4, ch, cw] });
    if (!Number.isInteger(a.frameOffset) || a.frameOffset < 0)
      throw new KernelInputError(K, 'frameOffset', `must be a non-negative integer, got ${a.frameOffset}`);
    checkTensor(K, 'out', a.out, { dtype: 'uint32', shape: [a.frameOffset + f, h, w] });
    const grid = tileGrid(this.device, K, w, h, f);
    checkBindingSize(K, 'splat', 16 * f * w * h, this.device);
    const params = imageParams(
      this.device,
      { width: w, height: h, frames: f, frameOffset: a.frameOffset, coarseWidth: cw, coarseHeight: ch },
      K,
    );
    encodeDispatch(
      encoder,
      K,
      this.compositeKernel.pipeline,
      bindGroup(this.device, this.compositeKernel, [params, a.reference, a.flows, a.covered, a.splat, a.coarse, a.out]),
      grid,
    );
  }
}
