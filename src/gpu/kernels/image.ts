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

/** Workgroup edge of the image shaders (@workgroup_size(8, 8)). */
const TILE = 8;

export type BindingKind = 'uniform' | 'read' | 'write';

export interface ComputeKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** A pipeline with its own explicit bind-group layout (one binding per entry of `kinds`). */
export function computeKernel(device: GPUDevice, label: string, code: string, kinds: BindingKind[]): ComputeKernel {
  const layout = device.createBindGroupLayout({
    label,
    entries: kinds.map((k, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: k === 'uniform' ? 'uniform' : k === 'read' ? 'read-only-storage' : 'storage' },
    })),
  });
  const pipeline = device.createComputePipeline({
    label,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module: device.createShaderModule({ label, code }), entryPoint: 'main' },
  });
  return { pipeline, layout };
}

/** A uniform buffer of u32/f32 fields, written now (size rounded up to 16 bytes). */
export function paramsBuffer(device: GPUDevice, fields: ({ u32: number } | { f32: number })[], label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const data = new ArrayBuffer(size);
  const view = new DataView(data);
  fields.forEach((f, i) => ('u32' in f ? view.setUint32(i * 4, f.u32, true) : view.setFloat32(i * 4, f.f32, true)));
  const buffer = device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

export function bindBuffers(device: GPUDevice, kernel: ComputeKernel, tensors: (GPUBuffer | GpuTensor)[]): GPUBindGroup {
  return device.createBindGroup({
    layout: kernel.layout,
    entries: tensors.map((t, binding) =>
      'buffer' in t && 'shape' in t
        ? { binding, resource: { buffer: t.buffer, size: Math.max(4, t.shape.reduce((a, b) => a * b, 1) * 4) } }
        : { binding, resource: { buffer: t as GPUBuffer } },
    ),
  });
}

function checkDispatch(device: GPUDevice, kernel: string, width: number, height: number, frames: number): void {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil(width / TILE) > max || Math.ceil(height / TILE) > max || frames > max) {
    throw new KernelInputError(kernel, 'shape', `${width}x${height}x${frames} needs more than ${max} workgroups per dimension`);
  }
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
    this.unpackKernel = computeKernel(device, 'image-unpack', unpackSrc, ['uniform', 'read', 'write']);
    this.prepKernel = computeKernel(device, 'image-motion-prep', motionPrepSrc, ['uniform', 'read', 'write', 'write']);
    this.compositeKernel = computeKernel(device, 'image-composite', compositeSrc, ['uniform', 'read', 'read', 'read', 'read', 'read', 'write']);
    this.shiftKernel = computeKernel(device, 'image-flow-shift', flowShiftSrc, ['uniform', 'read', 'read', 'write']);
    this.blendKernel = computeKernel(device, 'image-blend', blendSrc, ['uniform', 'read', 'read', 'write']);
  }

  /** out [F, 2, H, W] = flows [F, 2, H, W] - last [2, H, W]. */
  encodeFlowShift(encoder: GPUCommandEncoder, flows: GpuTensor, last: GpuTensor, out: GpuTensor): void {
    const K = 'image.flowShift';
    checkTensor(K, 'flows', flows, { rank: 4, dtype: 'float32' });
    const [f, two, h, w] = flows.shape;
    if (two !== 2) throw new KernelInputError(K, 'flows', `has shape ${JSON.stringify(flows.shape)}, dimension 1 must be 2`);
    checkTensor(K, 'last', last, { dtype: 'float32', shape: [2, h, w] });
    checkTensor(K, 'out', out, { dtype: 'float32', shape: [f, 2, h, w] });
    checkDispatch(this.device, K, w, h, f);
    checkBindingSize(K, 'flows', 8 * f * w * h, this.device);
    const params = paramsBuffer(this.device, [{ u32: w }, { u32: h }, { u32: f }], K);
    const pass = encoder.beginComputePass({ label: K });
    pass.setPipeline(this.shiftKernel.pipeline);
    pass.setBindGroup(0, bindBuffers(this.device, this.shiftKernel, [params, flows, last, out]));
    pass.dispatchWorkgroups(Math.ceil(w / TILE), Math.ceil(h / TILE), f);
    pass.end();
  }

  /**
   * out[frameOffset + f] = mix(a[f], b[f], (first + f) / period), packed RGBA8; a, b: uint32
   * [F, H, W]; equal pixels are copied unchanged.
   */
  encodeBlend(encoder: GPUCommandEncoder, a: GpuTensor, b: GpuTensor, out: GpuTensor, o: { frameOffset: number; first: number; period: number }): void {
    const K = 'image.blend';
    checkTensor(K, 'a', a, { rank: 3, dtype: 'uint32' });
    const [f, h, w] = a.shape;
    checkTensor(K, 'b', b, { dtype: 'uint32', shape: [f, h, w] });
    for (const [name, v] of Object.entries(o)) {
      if (!Number.isInteger(v) || v < 0) throw new KernelInputError(K, name, `must be a non-negative integer, got ${v}`);
    }
    if (o.period < 1) throw new KernelInputError(K, 'period', `must be >= 1, got ${o.period}`);
    checkTensor(K, 'out', out, { dtype: 'uint32', shape: [o.frameOffset + f, h, w] });
    checkDispatch(this.device, K, w, h, f);
    const params = paramsBuffer(this.device, [{ u32: w }, { u32: h }, { u32: f }, { u32: o.frameOffset }, { u32: o.first }, { u32: o.period }], K);
    const pass = encoder.beginComputePass({ label: K });
    pass.setPipeline(this.blendKernel.pipeline);
    pass.setBindGroup(0, bindBuffers(this.device, this.blendKernel, [params, a, b, out]));
    pass.dispatchWorkgroups(Math.ceil(w / TILE), Math.ceil(h / TILE), f);
    pass.end();
  }

  /** image uint32 [H, W] -> planes float32 [1, 4, H, W]. */
  encodeUnpack(encoder: GPUCommandEncoder, image: GpuTensor, planes: GpuTensor): void {
    const K = 'image.unpack';
    checkTensor(K, 'image', image, { rank: 2, dtype: 'uint32' });
    const [h, w] = image.shape;
    checkTensor(K, 'planes', planes, { dtype: 'float32', shape: [1, 4, h, w] });
    checkDispatch(this.device, K, w, h, 1);
    checkBindingSize(K, 'planes', 16 * w * h, this.device);
    const params = paramsBuffer(this.device, [{ u32: w }, { u32: h }], K);
    const pass = encoder.beginComputePass({ label: K });
    pass.setPipeline(this.unpackKernel.pipeline);
    pass.setBindGroup(0, bindBuffers(this.device, this.unpackKernel, [params, image, planes]));
    pass.dispatchWorkgroups(Math.ceil(w / TILE), Math.ceil(h / TILE), 1);
    pass.end();
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
    checkDispatch(this.device, K, w, h, f);
    checkBindingSize(K, 'flows', 8 * f * w * h, this.device);
    const params = paramsBuffer(this.device, [{ u32: w }, { u32: h }, { u32: f }, { f32: metricScale }], K);
    encoder.clearBuffer(covered.buffer, 0, 4 * f * w * h);
    const pass = encoder.beginComputePass({ label: K });
    pass.setPipeline(this.prepKernel.pipeline);
    pass.setBindGroup(0, bindBuffers(this.device, this.prepKernel, [params, flows, metric, covered]));
    pass.dispatchWorkgroups(Math.ceil(w / TILE), Math.ceil(h / TILE), f);
    pass.end();
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
    if (!Number.isInteger(a.frameOffset) || a.frameOffset < 0) throw new KernelInputError(K, 'frameOffset', `must be a non-negative integer, got ${a.frameOffset}`);
    checkTensor(K, 'out', a.out, { dtype: 'uint32', shape: [a.frameOffset + f, h, w] });
    checkDispatch(this.device, K, w, h, f);
    checkBindingSize(K, 'splat', 16 * f * w * h, this.device);
    const params = paramsBuffer(this.device, [{ u32: w }, { u32: h }, { u32: cw }, { u32: ch }, { u32: f }, { u32: a.frameOffset }], K);
    const pass = encoder.beginComputePass({ label: K });
    pass.setPipeline(this.compositeKernel.pipeline);
    pass.setBindGroup(0, bindBuffers(this.device, this.compositeKernel, [params, a.reference, a.flows, a.covered, a.splat, a.coarse, a.out]));
    pass.dispatchWorkgroups(Math.ceil(w / TILE), Math.ceil(h / TILE), f);
    pass.end();
  }
}
