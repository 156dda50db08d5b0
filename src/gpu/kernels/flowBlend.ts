/**
 * Mixes two flow stacks [N, 2, H, W]: (1 - weight) * a + weight * b. The motion inspector uses it
 * to blend the neural motion with the classical one before rendering. Math and layout:
 * shaders/flow_blend.wgsl.
 */
import blendSrc from '../../../shaders/flow_blend.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkBindingSize, checkTensor, createTensor, numel, type GpuTensor } from '../tensor';
import { bindGroup, computeKernel, dispatchGrid, encodeDispatch, submitNow, uniformBuffer, type ComputeKernel } from './common';

export interface FlowBlendArgs {
  a: GpuTensor;
  b: GpuTensor;
  /** 0 gives `a`, 1 gives `b`. */
  weight: number;
}

const KERNEL = 'FlowBlend';
const WG = 64;

export class FlowBlend {
  private readonly kernel: ComputeKernel;
  constructor(private readonly device: GPUDevice) {
    this.kernel = computeKernel(device, 'flow blend', { code: blendSrc, constants: { WG } }, ['uniform', 'read', 'read', 'write']);
  }

  encode(encoder: GPUCommandEncoder, args: FlowBlendArgs): GpuTensor {
    if (!args || typeof args !== 'object') throw new KernelInputError(KERNEL, 'args', 'is missing');
    checkTensor(KERNEL, 'a', args.a, { dtype: 'float32', shape: [undefined, 2, undefined, undefined] });
    checkTensor(KERNEL, 'b', args.b, { dtype: 'float32', shape: args.a.shape });
    if (!Number.isFinite(args.weight) || args.weight < 0 || args.weight > 1)
      throw new KernelInputError(KERNEL, 'weight', `is ${args.weight}, expected 0..1`);
    const count = numel(args.a.shape);
    checkBindingSize(KERNEL, 'a', byteSize(args.a), this.device);
    const output = createTensor(this.device, args.a.shape, 'float32', 'blended flows');
    const grid = dispatchGrid(this.device, KERNEL, count, WG);
    const params = uniformBuffer(this.device, [count, { f32: args.weight }], 'flow blend params');
    encodeDispatch(
      encoder,
      'flow blend',
      this.kernel.pipeline,
      bindGroup(this.device, this.kernel, [params, args.a, args.b, output]),
      grid,
    );
    return output;
  }

  run(args: FlowBlendArgs): GpuTensor {
    return submitNow(this.device, 'flow blend', (encoder) => this.encode(encoder, args));
  }

  dispose(): void {}
}
