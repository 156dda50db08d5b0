/**
 * Resizes pixel flows [N, 2, H, W] to [N, 2, h, w] bilinearly (PyTorch align_corners=False
 * semantics) and rescales displacements to the new pixel units: dx * w / W, dy * h / H.
 * Stage 2 uses it to bring the 512x320 flows to each attention's feature size
 * (64x40 ... 8x5). Math and layouts: shaders/flow_resize.wgsl.
 */
import resizeSrc from '../../../shaders/flow_resize.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkBindingSize, checkTensor, createTensor, numel, type GpuTensor } from '../tensor';
import {
  bindGroup,
  computeKernel,
  dispatchGrid,
  encodeDispatch,
  gridCapOption,
  uniformBuffer,
  type ComputeKernel,
  submitNow,
} from './common';

export interface FlowResizeArgs {
  /** [N, 2, H, W] float32 pixel flows. */
  flows: GpuTensor;
  /** Output height h (pixels of the new grid). */
  height: number;
  /** Output width w. */
  width: number;
  /** Optional preallocated [N, 2, h, w] float32, not aliasing `flows`. */
  output?: GpuTensor;
}

const KERNEL = 'FlowResize';
const WG = 64;

export class FlowResize {
  private readonly device: GPUDevice;
  private readonly gridCap: number;
  private readonly kernel: ComputeKernel;

  constructor(
    device: GPUDevice,
    options: { /** Test hook: cap on workgroups per grid dimension (forces 2D grids). */ maxWorkgroupsPerDimension?: number } = {},
  ) {
    this.device = device;
    this.gridCap = gridCapOption(options);
    this.kernel = computeKernel(device, 'flow resize', { code: resizeSrc, constants: { WG } }, ['uniform', 'read', 'write']);
  }

  encode(encoder: GPUCommandEncoder, args: FlowResizeArgs): GpuTensor {
    const { N, H, W, h, w } = this.validate(args);
    const output = args.output ?? createTensor(this.device, [N, 2, h, w], 'float32', 'resized flows');
    const total = N * 2 * h * w;
    const grid = dispatchGrid(this.device, KERNEL, total, WG, this.gridCap);
    const params = uniformBuffer(this.device, [N, H, W, h, w], 'flow resize params');
    encodeDispatch(encoder, 'flow resize', this.kernel.pipeline, bindGroup(this.device, this.kernel, [params, args.flows, output]), grid);
    return output;
  }

  run(args: FlowResizeArgs): GpuTensor {
    return submitNow(this.device, 'flow resize', (encoder) => this.encode(encoder, args));
  }

  /** Nothing to free besides pipelines (garbage-collected); kept for the kernel interface. */
  dispose(): void {}

  private validate(args: FlowResizeArgs) {
    if (!args || typeof args !== 'object') throw new KernelInputError(KERNEL, 'args', 'is missing');
    checkTensor(KERNEL, 'flows', args.flows, { dtype: 'float32', shape: [undefined, 2, undefined, undefined] });
    const [N, , H, W] = args.flows.shape;
    for (const [name, v] of [
      ['height', args.height],
      ['width', args.width],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new KernelInputError(KERNEL, name, `is ${v}, expected a positive integer`);
    }
    const h = args.height;
    const w = args.width;
    if (args.output) {
      checkTensor(KERNEL, 'output', args.output, { dtype: 'float32', shape: [N, 2, h, w] });
      if (args.output.buffer === args.flows.buffer)
        throw new KernelInputError(KERNEL, 'output', "shares its buffer with 'flows'; resizing cannot run in place");
    }
    checkBindingSize(KERNEL, 'flows', byteSize(args.flows), this.device);
    checkBindingSize(KERNEL, 'output', numel([N, 2, h, w]) * 4, this.device);
    if (N * 2 * h * w > 2 ** 31 - 1)
      throw new KernelInputError(KERNEL, 'output', `has ${N * 2 * h * w} elements, over 2^31 - 1 (index range)`);
    return { N, H, W, h, w };
  }
}
