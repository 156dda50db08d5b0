/**
 * What every kernel wrapper shares: bind-group layouts from a list of binding kinds, compute
 * pipelines whose WGSL gets the shared helper files prepended (WGSL has no includes), one
 * uniform packer, bind groups from buffers or tensors, and the two dispatch shapes the shaders
 * index by:
 *  - dispatchGrid: a 1D index space over a 2D grid of workgroups (X capped at the device's
 *    per-dimension limit, the rest in Y); shaders linearise it with grid_invocation /
 *    grid_workgroup (shaders/common.wgsl);
 *  - tileGrid: (ceil(W / 8), ceil(H / 8), planes) for the 8x8-tiled image shaders, which
 *    guard with in_tiled_grid.
 */
import commonSrc from '../../../shaders/common.wgsl?raw';
import { KernelInputError } from '../../errors';
import { alignedByteSize, type GpuTensor } from '../tensor';

/**
 * A binding: a uniform, a read-only storage buffer, a read-write storage buffer, or a
 * write-only rgba8unorm storage texture.
 */
export type BindingKind = 'uniform' | 'read' | 'write' | 'rgba8-texture';

/** Workgroup edge of the 8x8-tiled shaders (@workgroup_size(8, 8)). */
export const TILE = 8;

export interface ComputeKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export interface PipelineSource {
  /** WGSL of the kernel itself. */
  code: string;
  /** Shared WGSL files the kernel uses, prepended in order after shaders/common.wgsl. */
  preludes?: string[];
  /** Default 'main'. */
  entryPoint?: string;
  /** Pipeline-overridable constants (WGSL `override`). */
  constants?: Record<string, number>;
}

/** One bind-group layout entry per element of `kinds`, binding i = kinds[i], compute only. */
export function bindGroupLayout(device: GPUDevice, label: string, kinds: BindingKind[]): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label,
    entries: kinds.map((k, binding) =>
      k === 'rgba8-texture'
        ? { binding, visibility: GPUShaderStage.COMPUTE, storageTexture: { access: 'write-only', format: 'rgba8unorm' } }
        : {
            binding,
            visibility: GPUShaderStage.COMPUTE,
            buffer: { type: k === 'uniform' ? 'uniform' : k === 'read' ? 'read-only-storage' : 'storage' },
          },
    ),
  });
}

/** The shader module of a kernel: shaders/common.wgsl, then the preludes, then the kernel. */
export function shaderModule(device: GPUDevice, label: string, code: string, preludes: string[] = []): GPUShaderModule {
  return device.createShaderModule({ label, code: [commonSrc, ...preludes, code].join('\n') });
}

/** A compute pipeline over one bind-group layout. */
export function computePipeline(device: GPUDevice, label: string, layout: GPUBindGroupLayout, source: PipelineSource): GPUComputePipeline {
  return device.createComputePipeline({
    label,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: {
      module: shaderModule(device, label, source.code, source.preludes),
      entryPoint: source.entryPoint ?? 'main',
      constants: source.constants,
    },
  });
}

/** A pipeline with its own bind-group layout (one binding per entry of `kinds`). */
export function computeKernel(device: GPUDevice, label: string, source: PipelineSource | string, kinds: BindingKind[]): ComputeKernel {
  const layout = bindGroupLayout(device, label, kinds);
  const pipeline = computePipeline(device, label, layout, typeof source === 'string' ? { code: source } : source);
  return { pipeline, layout };
}

/**
 * Pipelines built on first use and kept by key (each costs real time on a software adapter):
 * for kernels with several entry points or specialisations (overrides) over few layouts.
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
  ) {}

  get(key: string, layout: GPUBindGroupLayout, source: PipelineSource): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      p = computePipeline(this.device, `${this.label} ${key}`, layout, source);
      this.pipelines.set(key, p);
    }
    return p;
  }

  clear(): void {
    this.pipelines.clear();
  }
}

/** A uniform field: a number is a u32 (the WGSL struct's u32 fields), `{ f32 }` a float. */
export type UniformField = number | { f32: number };

/** Little-endian bytes of a uniform struct of 4-byte fields, rounded up to 16 bytes (or to `size`). */
export function packUniform(fields: UniformField[], size = 0): ArrayBuffer {
  const data = new ArrayBuffer(Math.max(size, 16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(data);
  fields.forEach((f, i) => (typeof f === 'number' ? view.setUint32(i * 4, f, true) : view.setFloat32(i * 4, f.f32, true)));
  return data;
}

/** A uniform buffer holding `fields` (packUniform), written now. */
export function uniformBuffer(device: GPUDevice, fields: UniformField[], label: string): GPUBuffer {
  const data = packUniform(fields);
  const buffer = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true, label });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data));
  buffer.unmap();
  return buffer;
}

/**
 * What a binding can be given: a whole buffer, a tensor (its bytes: ORT may hand out larger
 * buffers), an explicit range of a buffer, or a texture view.
 */
export type BindingResource = GPUBuffer | GpuTensor | { buffer: GPUBuffer; size: number } | GPUTextureView;

/** A bind group with binding i = resources[i]. */
export function bindGroup(
  device: GPUDevice,
  layout: GPUBindGroupLayout | ComputeKernel,
  resources: BindingResource[],
  label?: string,
): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: 'pipeline' in layout ? layout.layout : layout,
    entries: resources.map((r, binding) => {
      if ('shape' in r) return { binding, resource: { buffer: r.buffer, size: Math.max(4, alignedByteSize(r)) } };
      if ('buffer' in r) return { binding, resource: { buffer: r.buffer, size: r.size } };
      if ('usage' in r) return { binding, resource: { buffer: r } };
      return { binding, resource: r };
    }),
  });
}

/** A test hook common to the kernels: a cap on workgroups per grid dimension, below the device's. */
export function gridCapOption(options: { maxWorkgroupsPerDimension?: number }): number {
  return Math.max(1, Math.floor(options.maxWorkgroupsPerDimension ?? Infinity));
}

/**
 * Workgroup grid for `threads` invocations in groups of `workgroupSize`: X is capped at the
 * device's per-dimension limit (or `cap`, lower, for tests) and the rest goes to Y; shaders
 * linearise wg.y * num_wg.x + wg.x and guard against the padding of the last row.
 */
export function dispatchGrid(
  device: GPUDevice,
  kernel: string,
  threads: number,
  workgroupSize: number,
  cap = Infinity,
  argument = 'shape',
): [number, number] {
  const groups = Math.ceil(threads / workgroupSize);
  const limit = device.limits.maxComputeWorkgroupsPerDimension;
  const gx = Math.max(1, Math.min(groups, limit, cap));
  const gy = Math.max(1, Math.ceil(groups / gx));
  if (gy > limit) {
    throw new KernelInputError(
      kernel,
      argument,
      `needs ${groups} workgroups, over ${limit} x ${limit} (maxComputeWorkgroupsPerDimension squared)`,
    );
  }
  return [gx, gy];
}

/** Grid (ceil(W / 8), ceil(H / 8), planes) of an 8x8-tiled shader; throws when a dimension is over the device's limit. */
export function tileGrid(
  device: GPUDevice,
  kernel: string,
  width: number,
  height: number,
  planes: number,
  argument = 'shape',
): [number, number, number] {
  const grid: [number, number, number] = [Math.ceil(width / TILE), Math.ceil(height / TILE), planes];
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (grid.some((g) => g > max)) {
    throw new KernelInputError(
      kernel,
      argument,
      `is too large to dispatch: ${width}x${height}x${planes} needs more than ${max} workgroups per dimension`,
    );
  }
  return grid;
}

/** One compute pass with one pipeline, one bind group and one dispatch. */
export function encodeDispatch(
  encoder: GPUCommandEncoder,
  label: string,
  pipeline: GPUComputePipeline,
  group: GPUBindGroup,
  grid: readonly [number, number?, number?],
): void {
  const pass = encoder.beginComputePass({ label });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(grid[0], grid[1] ?? 1, grid[2] ?? 1);
  pass.end();
}

/** Records into a fresh command encoder and submits it; returns what `record` returned. */
export function submitNow<T>(device: GPUDevice, label: string, record: (encoder: GPUCommandEncoder) => T): T {
  const encoder = device.createCommandEncoder({ label });
  const result = record(encoder);
  device.queue.submit([encoder.finish()]);
  return result;
}
