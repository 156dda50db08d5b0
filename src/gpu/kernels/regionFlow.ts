/**
 * Flows of rigid and shape-preserving brush regions (shaders/region_flow.wgsl), written over a
 * fluid solve's flows [F, 2, H, W] in place: rigid regions by a similarity transform per frame,
 * shape-preserving ones by rigid moving least squares of their handles. Pixels outside every
 * region keep the flow they had.
 */
import { KernelInputError } from '../../errors';
import { checkTensor, uploadTensor, type GpuTensor } from '../tensor';
import regionFlowSrc from '../../../shaders/region_flow.wgsl?raw';
import { bindGroup, computeKernel, encodeDispatch, tileGrid, uniformBuffer, type ComputeKernel } from './common';

const KERNEL = 'RegionFlow';

/** What the kernel reads, on the CPU (pipeline/constraints.ts builds it). */
export interface RegionTables {
  /** [H * W] region index or -1. */
  regionOf: Int32Array;
  /** Regions R (>= 1). */
  count: number;
  /** [R, 4]: mode (0 rigid, 1 shape), first handle, handle count, 0. */
  info: Uint32Array;
  handleCount: number;
  /** [handleCount, 2]. */
  handles: Float32Array;
  /** [F, handleCount, 2]. */
  handleDisp: Float32Array;
  /** [F, R, 4]. */
  transforms: Float32Array;
}

/** The tables as GPU tensors (empty handle lists padded to one entry: bindings cannot be empty). */
export interface RegionTensors {
  regionOf: GpuTensor;
  info: GpuTensor;
  handles: GpuTensor;
  handleDisp: GpuTensor;
  transforms: GpuTensor;
  handleCount: number;
  dispose(): void;
}

export function uploadRegionTables(device: GPUDevice, t: RegionTables, width: number, height: number, frames: number): RegionTensors {
  if (t.count < 1) throw new KernelInputError(KERNEL, 'tables', 'have no region');
  if (t.regionOf.length !== width * height)
    throw new KernelInputError(KERNEL, 'regionOf', `has ${t.regionOf.length} entries for a ${width}x${height} image`);
  const hc = Math.max(1, t.handleCount);
  const pad = (a: Float32Array, n: number) => (a.length >= n ? a : Float32Array.from({ length: n }, (_, i) => a[i] ?? 0));
  const tensors = {
    regionOf: uploadTensor(device, t.regionOf, [height, width], 'int32', 'region of'),
    info: uploadTensor(device, t.info, [t.count, 4], 'uint32', 'region info'),
    handles: uploadTensor(device, pad(t.handles, hc * 2), [hc, 2], 'float32', 'region handles'),
    handleDisp: uploadTensor(
      device,
      t.handleCount ? t.handleDisp : new Float32Array(frames * 2),
      [frames, hc, 2],
      'float32',
      'region handle displacements',
    ),
    transforms: uploadTensor(device, t.transforms, [frames, t.count, 4], 'float32', 'region transforms'),
  };
  return {
    ...tensors,
    handleCount: t.handleCount,
    dispose() {
      for (const x of Object.values(tensors)) x.buffer.destroy();
    },
  };
}

export class RegionFlow {
  private readonly device: GPUDevice;
  private readonly kernel: ComputeKernel;

  constructor(device: GPUDevice) {
    this.device = device;
    this.kernel = computeKernel(device, 'region-flow', regionFlowSrc, ['uniform', 'read', 'read', 'read', 'read', 'read', 'write']);
  }

  /** Overwrites the region pixels of `flows` (float32 [F, 2, H, W]). */
  encode(encoder: GPUCommandEncoder, regions: RegionTensors, flows: GpuTensor): void {
    checkTensor(KERNEL, 'flows', flows, { dtype: 'float32', rank: 4, shape: [undefined, 2] });
    const [f, , h, w] = flows.shape;
    checkTensor(KERNEL, 'regionOf', regions.regionOf, { dtype: 'int32', shape: [h, w] });
    checkTensor(KERNEL, 'transforms', regions.transforms, { dtype: 'float32', shape: [f, regions.info.shape[0], 4] });
    checkTensor(KERNEL, 'handleDisp', regions.handleDisp, { dtype: 'float32', shape: [f, undefined, 2] });
    const params = uniformBuffer(this.device, [w, h, f, regions.handleCount], 'region-flow params');
    const group = bindGroup(this.device, this.kernel, [
      params,
      regions.regionOf,
      regions.info,
      regions.handles,
      regions.handleDisp,
      regions.transforms,
      flows,
    ]);
    encodeDispatch(encoder, 'region-flow', this.kernel.pipeline, group, tileGrid(this.device, KERNEL, w, h, f, 'flows'));
  }

  dispose(): void {
    // Pipelines and layouts are garbage-collected; nothing else is held.
  }
}
