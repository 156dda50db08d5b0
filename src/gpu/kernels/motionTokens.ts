/**
 * The tokens a motion-augmented attention of stage 2 reads (the plan's 'motion_attention' step,
 * tools/export/README.md "The WGSL step"): frame 0's LayerNorm'ed tokens forward-warped to every
 * other frame, interleaved with the originals into the `kv` layout of the next ONNX segment:
 *   kv[b] = [tok[b, 0], warp_1, tok[b, 1], warp_2, ..., warp_{F-1}, tok[b, F-1]]
 * warp_i = softmax splat (avg, hwc) of tok[src, 0] with flow i resized to the tokens' grid;
 * src = b ('same') or the authors' mixing (b (F-1) + i - 1) mod B ('reference_quirk').
 *
 * Passes: copies of each entry's frame 0 (and of flows 1..F-1, unless binned beforehand with
 * prepareFlows) into scratch, as the splat takes whole tensors; one SoftmaxSplat of all B
 * frame-0 maps by the F-1 flows (a gather through the prepared bins when given); one interleave
 * dispatch (shaders/motion_tokens_interleave.wgsl) that copies the rows bit for bit.
 *
 * Layouts (fp32, channels last): tok [B F, h, w, C] (frame-major, as the ONNX segment writes
 * it), flows [F, 2, h, w] pixel flows f(0 -> i) at the tokens' size (FlowResize of the stage-1
 * flows; row 0 is not read), kv [B, 2F - 1, h, w, C].
 */
import interleaveSrc from '../../../shaders/motion_tokens_interleave.wgsl?raw';
import { KernelInputError } from '../../errors';
import { checkBindingSize, checkTensor, createTensor, numel, type GpuTensor } from '../tensor';
import {
  bindGroup,
  computeKernel,
  dispatchGrid,
  encodeDispatch,
  gridCapOption,
  submitNow,
  uniformBuffer,
  type ComputeKernel,
} from './common';
import { SoftmaxSplat, SplatBins } from './splat';

export type Frame0Batch = 'same' | 'reference_quirk';

export interface MotionTokensArgs {
  /** LayerNorm'ed tokens [B F, h, w, C] fp32, frame-major. */
  tok: GpuTensor;
  /**
   * Pixel flows f(0 -> i) at the tokens' size, [F, 2, h, w] fp32; flow 0 is not read. Or, in
   * place of them, their bins from prepareFlows: stage 2 warps every attention's tokens at one
   * size with the same flows, so binning them once serves all of those calls.
   */
  flows: GpuTensor | SplatBins;
  /** F, frames per batch entry (at least 2). */
  frames: number;
  /** Whose frame 0 each entry warps; default 'same'. */
  frame0Batch?: Frame0Batch;
  /** Optional output [B, 2F - 1, h, w, C] fp32, not aliasing an input. */
  kv?: GpuTensor;
}

export interface MotionTokensOptions {
  /** Test hook: cap on workgroups per grid dimension (forces 2D grids). */
  maxWorkgroupsPerDimension?: number;
}

const KERNEL = 'MotionTokens';
const WG = 64;

interface Scratch {
  key: string;
  frame0: GpuTensor;
  flows: GpuTensor;
  warped: GpuTensor;
}

export class MotionTokens {
  private readonly device: GPUDevice;
  private readonly gridCap: number;
  private readonly interleave: ComputeKernel;
  private readonly splat: SoftmaxSplat;
  private scratch: Scratch | null = null;
  private disposed = false;

  constructor(device: GPUDevice, options: MotionTokensOptions = {}) {
    this.device = device;
    this.gridCap = gridCapOption(options);
    this.splat = new SoftmaxSplat(device, { maxWorkgroupsPerDimension: options.maxWorkgroupsPerDimension });
    this.interleave = computeKernel(device, 'motion tokens interleave', { code: interleaveSrc, constants: { WG } }, [
      'uniform',
      'read',
      'read',
      'write',
    ]);
  }

  /**
   * Bins flows 1..F-1 of `flows` [F, 2, h, w] once for any number of encode() calls at their
   * size (pass the result as `flows`). The caller owns the bins: dispose() them.
   */
  prepareFlows(encoder: GPUCommandEncoder, flows: GpuTensor): SplatBins {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    checkTensor(KERNEL, 'flows', flows, { rank: 4, dtype: 'float32', shape: [undefined, 2, undefined, undefined] });
    if (flows.shape[0] < 2)
      throw new KernelInputError(KERNEL, 'flows', `has ${flows.shape[0]} flows, expected F >= 2 (flow 0 and the others)`);
    return this.splat.prepareBins(encoder, flows, { first: 1 });
  }

  /** Validates (throws KernelInputError before anything is recorded), then records the passes. */
  encode(encoder: GPUCommandEncoder, args: MotionTokensArgs): GpuTensor {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const { B, F, h, w, C, quirk } = this.validate(args);
    const P = h * w;
    const kv = args.kv ?? createTensor(this.device, [B, 2 * F - 1, h, w, C], 'float32', 'motion tokens kv');
    const s = this.ensureScratch(B, F, h, w, C);
    const frameBytes = P * C * 4;
    for (let b = 0; b < B; b++)
      encoder.copyBufferToBuffer(args.tok.buffer, b * F * frameBytes, s.frame0.buffer, b * frameBytes, frameBytes);
    const gather = { input: s.frame0, mode: 'avg', layout: 'hwc', output: s.warped } as const;
    if (args.flows instanceof SplatBins) {
      this.splat.encodeGather(encoder, args.flows, gather);
    } else {
      const flowBytes = 2 * P * 4;
      encoder.copyBufferToBuffer(args.flows.buffer, flowBytes, s.flows.buffer, 0, (F - 1) * flowBytes);
      this.splat.encode(encoder, { ...gather, flows: s.flows });
    }
    const params = uniformBuffer(this.device, [B, F, P * C, quirk ? 1 : 0], 'motion tokens params');
    const grid = dispatchGrid(this.device, KERNEL, numel(kv.shape), WG, this.gridCap);
    encodeDispatch(
      encoder,
      'motion tokens interleave',
      this.interleave.pipeline,
      bindGroup(this.device, this.interleave, [params, args.tok, s.warped, kv]),
      grid,
    );
    return kv;
  }

  /** encode + submit. */
  run(args: MotionTokensArgs): GpuTensor {
    return submitNow(this.device, 'motion tokens', (encoder) => this.encode(encoder, args));
  }

  /** Frees the scratch and the splat's; safe to call twice. Outputs already returned stay valid. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropScratch();
    this.splat.dispose();
  }

  private ensureScratch(B: number, F: number, h: number, w: number, C: number): Scratch {
    const key = [B, F, h, w, C].join('x');
    if (this.scratch?.key === key) return this.scratch;
    // A previous scratch may still be read by recorded, unsubmitted commands: drop it, do not destroy it.
    this.scratch = {
      key,
      frame0: createTensor(this.device, [B, h, w, C], 'float32', 'motion tokens frame 0'),
      flows: createTensor(this.device, [F - 1, 2, h, w], 'float32', 'motion tokens flows'),
      warped: createTensor(this.device, [B, F - 1, h, w, C], 'float32', 'motion tokens warped'),
    };
    return this.scratch;
  }

  private dropScratch(): void {
    const s = this.scratch;
    this.scratch = null;
    if (s) for (const t of [s.frame0, s.flows, s.warped]) t.buffer.destroy();
  }

  private validate(args: MotionTokensArgs) {
    if (!args || typeof args !== 'object') throw new KernelInputError(KERNEL, 'args', 'is missing');
    const F = args.frames;
    if (!Number.isInteger(F) || F < 2) throw new KernelInputError(KERNEL, 'frames', `is ${F}, expected an integer >= 2`);
    checkTensor(KERNEL, 'tok', args.tok, { rank: 4, dtype: 'float32' });
    const [bf, h, w, C] = args.tok.shape;
    if (bf % F !== 0) throw new KernelInputError(KERNEL, 'tok', `has ${bf} frames, not a multiple of frames = ${F}`);
    const B = bf / F;
    if (args.flows instanceof SplatBins) {
      if (args.flows.disposed) throw new KernelInputError(KERNEL, 'flows', 'are bins that were disposed');
      const [n, , fh, fw] = args.flows.flows.shape;
      if (n !== F - 1 || fh !== h || fw !== w) {
        throw new KernelInputError(KERNEL, 'flows', `are bins of ${n + 1} flows at ${fw}x${fh}, expected ${F} at ${w}x${h}`);
      }
    } else {
      checkTensor(KERNEL, 'flows', args.flows, { dtype: 'float32', shape: [F, 2, h, w] });
    }
    const frame0Batch = args.frame0Batch ?? 'same';
    if (frame0Batch !== 'same' && frame0Batch !== 'reference_quirk') {
      throw new KernelInputError(KERNEL, 'frame0Batch', `is ${JSON.stringify(frame0Batch)}, expected 'same' or 'reference_quirk'`);
    }
    const kvShape = [B, 2 * F - 1, h, w, C];
    if (args.kv) {
      checkTensor(KERNEL, 'kv', args.kv, { dtype: 'float32', shape: kvShape });
      const flowBuffer = args.flows instanceof SplatBins ? args.flows.flows.buffer : args.flows.buffer;
      if (args.tok.buffer === args.kv.buffer || flowBuffer === args.kv.buffer) {
        throw new KernelInputError(KERNEL, 'kv', 'shares its buffer with an input');
      }
    }
    const kvBytes = numel(kvShape) * 4;
    checkBindingSize(KERNEL, 'tok', bf * h * w * C * 4, this.device);
    checkBindingSize(KERNEL, 'kv', kvBytes, this.device);
    if (numel(kvShape) > 2 ** 31 - 1)
      throw new KernelInputError(KERNEL, 'kv', `has ${numel(kvShape)} elements, over 2^31 - 1 (index range)`);
    return { B, F, h, w, C, quirk: frame0Batch === 'reference_quirk' };
  }
}
