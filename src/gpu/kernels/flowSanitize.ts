/**
 * Cleans a flow stack [N, 2, H, W] in place before it is rendered: a pixel with a NaN or
 * infinite component gets no motion, one whose displacement exceeds `limit` pixels in x or y
 * is clamped to it, and the counts of both come back so the job can say what was repaired.
 * Math and layout: shaders/flow_sanitize.wgsl.
 */
import sanitizeSrc from '../../../shaders/flow_sanitize.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkBindingSize, checkTensor, type GpuTensor } from '../tensor';
import { bindGroup, computeKernel, dispatchGrid, encodeDispatch, uniformBuffer, type ComputeKernel } from './common';

/** Pixels of a flow stack the sanitizer changed. */
export interface FlowRepair {
  /** Pixels whose flow had a NaN or infinite component (set to no motion). */
  nonFinite: number;
  /** Pixels whose displacement exceeded the limit (clamped to it). */
  clamped: number;
  /** Pixels of the stack (N * H * W). */
  pixels: number;
  /** The clamp, pixels per component. */
  limit: number;
}

/**
 * The default clamp: this many times the canvas's larger side. A displacement beyond one side
 * already moves the pixel out of the frame, so clamping further out changes no rendered pixel;
 * anything this large is a broken prediction, not motion.
 */
export const FLOW_LIMIT_SIDES = 4;

export function flowLimit(width: number, height: number): number {
  return FLOW_LIMIT_SIDES * Math.max(width, height);
}

const KERNEL = 'FlowSanitize';
const WG = 64;

export class FlowSanitize {
  private readonly kernel: ComputeKernel;
  constructor(private readonly device: GPUDevice) {
    this.kernel = computeKernel(device, 'flow sanitize', { code: sanitizeSrc, constants: { WG } }, ['uniform', 'write', 'write']);
  }

  /** Repairs `flows` in place and resolves with what it changed. `limit` defaults to flowLimit(W, H). */
  async run(flows: GpuTensor, limit?: number): Promise<FlowRepair> {
    checkTensor(KERNEL, 'flows', flows, { dtype: 'float32', shape: [undefined, 2, undefined, undefined] });
    const [n, , h, w] = flows.shape;
    const lim = limit ?? flowLimit(w, h);
    if (!Number.isFinite(lim) || lim <= 0) throw new KernelInputError(KERNEL, 'limit', `is ${lim}, expected a positive number`);
    checkBindingSize(KERNEL, 'flows', byteSize(flows), this.device);
    const pixels = n * h * w;
    const repair: FlowRepair = { nonFinite: 0, clamped: 0, pixels, limit: lim };
    if (pixels === 0) return repair;
    const counts = this.device.createBuffer({
      size: 8,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label: 'flow sanitize counts',
    });
    const readback = this.device.createBuffer({
      size: 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'flow sanitize readback',
    });
    const params = uniformBuffer(this.device, [pixels, h * w, { f32: lim }], 'flow sanitize params');
    try {
      const encoder = this.device.createCommandEncoder({ label: 'flow sanitize' });
      encoder.clearBuffer(counts);
      const grid = dispatchGrid(this.device, KERNEL, pixels, WG);
      encodeDispatch(encoder, 'flow sanitize', this.kernel.pipeline, bindGroup(this.device, this.kernel, [params, flows, counts]), grid);
      encoder.copyBufferToBuffer(counts, 0, readback, 0, 8);
      this.device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const [nonFinite, clamped] = new Uint32Array(readback.getMappedRange().slice(0));
      readback.unmap();
      return { ...repair, nonFinite, clamped };
    } finally {
      counts.destroy();
      readback.destroy();
      params.destroy();
    }
  }

  dispose(): void {}
}
