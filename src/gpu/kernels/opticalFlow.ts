/**
 * The kernels of the DIS-style optical-flow estimator (src/motion/track), one WGSL file each
 * (shaders/flow_*.wgsl, math and layouts in their headers), with shaders/flow_params.wgsl
 * prepended: grey conversion, pyramid downsampling, gradients, patch inverse search,
 * densification, variational refinement (prep, red-black SOR, apply), forward-backward
 * consistency and track composition. Each encode* records one dispatch into the caller's
 * encoder; the tracker strings them together. Shapes are checked here, before dispatch.
 */
import paramsSrc from '../../../shaders/flow_params.wgsl?raw';
import graySrc from '../../../shaders/flow_gray.wgsl?raw';
import downsampleSrc from '../../../shaders/flow_downsample.wgsl?raw';
import gradientSrc from '../../../shaders/flow_gradient.wgsl?raw';
import patchSearchSrc from '../../../shaders/flow_patch_search.wgsl?raw';
import densifySrc from '../../../shaders/flow_densify.wgsl?raw';
import prepSrc from '../../../shaders/flow_variational_prep.wgsl?raw';
import sorSrc from '../../../shaders/flow_variational_sor.wgsl?raw';
import applySrc from '../../../shaders/flow_variational_apply.wgsl?raw';
import consistencySrc from '../../../shaders/flow_consistency.wgsl?raw';
import composeSrc from '../../../shaders/flow_compose.wgsl?raw';
import { KernelInputError } from '../../errors';
import { checkTensor, type GpuTensor } from '../tensor';
import { bindGroup, computeKernel, encodeDispatch, tileGrid, uniformBuffer, type BindingKind, type ComputeKernel } from './common';

const KERNEL = 'OpticalFlow';

/** Fields of flow_params.wgsl's Params; unset ones are 0. */
export interface FlowParams {
  width: number;
  height: number;
  srcWidth?: number;
  srcHeight?: number;
  patchSize?: number;
  patchStride?: number;
  patchesX?: number;
  patchesY?: number;
  iterations?: number;
  parity?: number;
  offset?: number;
  alpha?: number;
  gamma?: number;
  delta?: number;
  omega?: number;
  fbAlpha?: number;
  fbBeta?: number;
}

/** Patch layout of one level: patches every `stride` pixels, the last row/column moved in to the border. */
export interface PatchGrid {
  size: number;
  stride: number;
  countX: number;
  countY: number;
}

/** Patches along an axis of `extent` pixels: the regular ones plus one at the border when they miss it. */
export function patchCount(extent: number, size: number, stride: number): number {
  const regular = Math.floor((extent - size) / stride) + 1;
  return (extent - size) % stride === 0 ? regular : regular + 1;
}

export function patchGrid(width: number, height: number, size: number, stride: number): PatchGrid {
  if (width < size || height < size)
    throw new KernelInputError(KERNEL, 'patch size', `is ${size}, larger than the ${width}x${height} level`);
  return { size, stride, countX: patchCount(width, size, stride), countY: patchCount(height, size, stride) };
}

export interface VariationalWeights {
  alpha: number;
  gamma: number;
  delta: number;
}

export class OpticalFlowKernels {
  private readonly device: GPUDevice;
  private readonly kernels: Record<string, ComputeKernel>;

  constructor(device: GPUDevice) {
    this.device = device;
    const k = (label: string, code: string, kinds: BindingKind[]): ComputeKernel =>
      computeKernel(device, `flow ${label}`, { code, preludes: [paramsSrc] }, ['uniform', ...kinds]);
    this.kernels = {
      gray: k('gray', graySrc, ['read', 'write']),
      downsample: k('downsample', downsampleSrc, ['read', 'write']),
      gradient: k('gradient', gradientSrc, ['read', 'write']),
      patchSearch: k('patch search', patchSearchSrc, ['read', 'read', 'read', 'read', 'write']),
      densify: k('densify', densifySrc, ['read', 'read', 'read', 'write']),
      prep: k('variational prep', prepSrc, ['read', 'read', 'read', 'read', 'read', 'write', 'write']),
      sor: k('variational sor', sorSrc, ['read', 'read', 'write']),
      apply: k('variational apply', applySrc, ['read', 'write']),
      consistency: k('consistency', consistencySrc, ['read', 'read', 'write']),
      compose: k('compose', composeSrc, ['read', 'read', 'read', 'read', 'write', 'write']),
    };
  }

  /** Grey levels [H, W] of frame `frame` of a packed RGBA8 stack [F, H, W] (or one frame [H, W]). */
  encodeGray(encoder: GPUCommandEncoder, frames: GpuTensor, frame: number, gray: GpuTensor): void {
    checkTensor(KERNEL, 'frames', frames, { dtype: 'uint32' });
    const [h, w] = this.plane(gray, 'gray', 1);
    const count = frames.shape.length === 3 ? frames.shape[0] : 1;
    if (frames.shape.slice(-2).join() !== [h, w].join() || frames.shape.length > 3) {
      throw new KernelInputError(KERNEL, 'frames', `has shape ${JSON.stringify(frames.shape)}, expected [F, ${h}, ${w}] packed RGBA8`);
    }
    if (!Number.isInteger(frame) || frame < 0 || frame >= count)
      throw new KernelInputError(KERNEL, 'frame', `is ${frame}, the stack has ${count}`);
    this.dispatch(encoder, 'gray', { width: w, height: h, offset: frame * w * h }, [frames, gray]);
  }

  /** The next pyramid level: coarse [ceil(H/2), ceil(W/2)] from fine [H, W]. */
  encodeDownsample(encoder: GPUCommandEncoder, fine: GpuTensor, coarse: GpuTensor): void {
    const [h, w] = this.plane(fine, 'fine', 1);
    const [ch, cw] = this.plane(coarse, 'coarse', 1);
    if (ch !== Math.ceil(h / 2) || cw !== Math.ceil(w / 2))
      throw new KernelInputError(KERNEL, 'coarse', `is ${cw}x${ch}, expected ${Math.ceil(w / 2)}x${Math.ceil(h / 2)}`);
    this.dispatch(encoder, 'downsample', { width: cw, height: ch, srcWidth: w, srcHeight: h }, [fine, coarse]);
  }

  /** Central-difference gradient [2, H, W] of image [H, W]. */
  encodeGradient(encoder: GPUCommandEncoder, image: GpuTensor, gradient: GpuTensor): void {
    const [h, w] = this.plane(image, 'image', 1);
    this.same(gradient, 'gradient', 2, h, w);
    this.dispatch(encoder, 'gradient', { width: w, height: h }, [image, gradient]);
  }

  /** Patch displacements [2, countY, countX] by inverse search from the dense `init` flow. */
  encodePatchSearch(
    encoder: GPUCommandEncoder,
    a: { i0: GpuTensor; grad0: GpuTensor; i1: GpuTensor; init: GpuTensor; patches: GpuTensor; grid: PatchGrid; iterations: number },
  ): void {
    const [h, w] = this.plane(a.i0, 'i0', 1);
    this.same(a.grad0, 'grad0', 2, h, w);
    this.same(a.i1, 'i1', 1, h, w);
    this.same(a.init, 'init', 2, h, w);
    this.same(a.patches, 'patches', 2, a.grid.countY, a.grid.countX);
    this.checkGrid(a.grid, w, h);
    this.dispatch(
      encoder,
      'patchSearch',
      { width: w, height: h, ...this.gridFields(a.grid), iterations: a.iterations },
      [a.i0, a.grad0, a.i1, a.init, a.patches],
      [a.grid.countX, a.grid.countY],
    );
  }

  /** Dense flow [2, H, W] as the fit-weighted mean of the covering patches' displacements. */
  encodeDensify(
    encoder: GPUCommandEncoder,
    a: { i0: GpuTensor; i1: GpuTensor; patches: GpuTensor; grid: PatchGrid; flow: GpuTensor },
  ): void {
    const [h, w] = this.plane(a.i0, 'i0', 1);
    this.same(a.i1, 'i1', 1, h, w);
    this.same(a.patches, 'patches', 2, a.grid.countY, a.grid.countX);
    this.same(a.flow, 'flow', 2, h, w);
    this.checkGrid(a.grid, w, h);
    this.dispatch(encoder, 'densify', { width: w, height: h, ...this.gridFields(a.grid) }, [a.i0, a.i1, a.patches, a.flow]);
  }

  /** Linearised data terms and robust weights around `flow` into `coefficients` [6, H, W]; zeroes `increment`. */
  encodeVariationalPrep(
    encoder: GPUCommandEncoder,
    a: {
      i0: GpuTensor;
      grad0: GpuTensor;
      i1: GpuTensor;
      grad1: GpuTensor;
      flow: GpuTensor;
      coefficients: GpuTensor;
      increment: GpuTensor;
      weights: VariationalWeights;
    },
  ): void {
    const [h, w] = this.plane(a.i0, 'i0', 1);
    this.same(a.grad0, 'grad0', 2, h, w);
    this.same(a.i1, 'i1', 1, h, w);
    this.same(a.grad1, 'grad1', 2, h, w);
    this.same(a.flow, 'flow', 2, h, w);
    this.same(a.coefficients, 'coefficients', 6, h, w);
    this.same(a.increment, 'increment', 2, h, w);
    this.dispatch(encoder, 'prep', { width: w, height: h, gamma: a.weights.gamma, delta: a.weights.delta }, [
      a.i0,
      a.grad0,
      a.i1,
      a.grad1,
      a.flow,
      a.coefficients,
      a.increment,
    ]);
  }

  /** One red (parity 0) or black (parity 1) SOR half sweep on `increment`. */
  encodeVariationalSor(
    encoder: GPUCommandEncoder,
    a: { coefficients: GpuTensor; flow: GpuTensor; increment: GpuTensor; parity: 0 | 1; alpha: number; omega: number },
  ): void {
    const [, h, w] = this.plane(a.flow, 'flow', 2, true);
    this.same(a.coefficients, 'coefficients', 6, h, w);
    this.same(a.increment, 'increment', 2, h, w);
    this.dispatch(encoder, 'sor', { width: w, height: h, parity: a.parity, alpha: a.alpha, omega: a.omega }, [
      a.coefficients,
      a.flow,
      a.increment,
    ]);
  }

  /** flow += increment. */
  encodeVariationalApply(encoder: GPUCommandEncoder, increment: GpuTensor, flow: GpuTensor): void {
    const [, h, w] = this.plane(flow, 'flow', 2, true);
    this.same(increment, 'increment', 2, h, w);
    this.dispatch(encoder, 'apply', { width: w, height: h }, [increment, flow], [w, h, 2]);
  }

  /** Forward-backward occlusion [H, W] (1 = occluded) of `forward` against `backward`. */
  encodeConsistency(
    encoder: GPUCommandEncoder,
    a: { forward: GpuTensor; backward: GpuTensor; occlusion: GpuTensor; fbAlpha: number; fbBeta: number },
  ): void {
    const [, h, w] = this.plane(a.forward, 'forward', 2, true);
    this.same(a.backward, 'backward', 2, h, w);
    this.same(a.occlusion, 'occlusion', 1, h, w);
    this.dispatch(encoder, 'consistency', { width: w, height: h, fbAlpha: a.fbAlpha, fbBeta: a.fbBeta }, [
      a.forward,
      a.backward,
      a.occlusion,
    ]);
  }

  /** f(0->i) and its occlusion from f(0->i-1), its occlusion, and the pair's flow and occlusion. */
  encodeCompose(
    encoder: GPUCommandEncoder,
    a: {
      track: GpuTensor;
      trackOcclusion: GpuTensor;
      step: GpuTensor;
      stepOcclusion: GpuTensor;
      composed: GpuTensor;
      composedOcclusion: GpuTensor;
    },
  ): void {
    const [, h, w] = this.plane(a.track, 'track', 2, true);
    this.same(a.trackOcclusion, 'trackOcclusion', 1, h, w);
    this.same(a.step, 'step', 2, h, w);
    this.same(a.stepOcclusion, 'stepOcclusion', 1, h, w);
    this.same(a.composed, 'composed', 2, h, w);
    this.same(a.composedOcclusion, 'composedOcclusion', 1, h, w);
    this.dispatch(encoder, 'compose', { width: w, height: h }, [
      a.track,
      a.trackOcclusion,
      a.step,
      a.stepOcclusion,
      a.composed,
      a.composedOcclusion,
    ]);
  }

  /** Nothing to free besides pipelines (garbage-collected); kept for the kernel interface. */
  dispose(): void {}

  private gridFields(g: PatchGrid): Partial<FlowParams> {
    return { patchSize: g.size, patchStride: g.stride, patchesX: g.countX, patchesY: g.countY };
  }

  private checkGrid(g: PatchGrid, w: number, h: number): void {
    const want = patchGrid(w, h, g.size, g.stride);
    if (g.stride < 1 || want.countX !== g.countX || want.countY !== g.countY)
      throw new KernelInputError(KERNEL, 'grid', `does not fit a ${w}x${h} level`);
  }

  /** [H, W] (channels 1) or [C, H, W]; returns the shape. */
  private plane(t: GpuTensor, name: string, channels: number, keepChannels = false): number[] {
    checkTensor(KERNEL, name, t, { dtype: 'float32', rank: channels === 1 && !keepChannels ? 2 : 3 });
    if (channels !== 1 && t.shape[0] !== channels)
      throw new KernelInputError(KERNEL, name, `has shape ${JSON.stringify(t.shape)}, expected ${channels} channels first`);
    return [...t.shape];
  }

  private same(t: GpuTensor, name: string, channels: number, h: number, w: number): void {
    const shape = channels === 1 ? [h, w] : [channels, h, w];
    checkTensor(KERNEL, name, t, { dtype: 'float32', shape });
  }

  private dispatch(encoder: GPUCommandEncoder, key: string, p: FlowParams, resources: GpuTensor[], grid?: [number, number, number?]): void {
    const params = uniformBuffer(
      this.device,
      [
        p.width,
        p.height,
        p.srcWidth ?? 0,
        p.srcHeight ?? 0,
        p.patchSize ?? 0,
        p.patchStride ?? 0,
        p.patchesX ?? 0,
        p.patchesY ?? 0,
        p.iterations ?? 0,
        p.parity ?? 0,
        p.offset ?? 0,
        0,
        { f32: p.alpha ?? 0 },
        { f32: p.gamma ?? 0 },
        { f32: p.delta ?? 0 },
        { f32: p.omega ?? 0 },
        { f32: p.fbAlpha ?? 0 },
        { f32: p.fbBeta ?? 0 },
      ],
      `flow ${key} params`,
    );
    const [gw, gh, gz] = grid ?? [p.width, p.height, 1];
    const kernel = this.kernels[key];
    encodeDispatch(
      encoder,
      `flow ${key}`,
      kernel.pipeline,
      bindGroup(this.device, kernel, [params, ...resources]),
      tileGrid(this.device, KERNEL, gw, gh, gz ?? 1),
    );
  }
}
