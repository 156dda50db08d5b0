/**
 * Motion-augmented temporal attention (Motion-I2V stage 2) as one WGSL dispatch.
 *
 * What runs where, and why:
 *   Reference, per pixel: x = [h0, w1, h1, ..., w_{F-1}, h_{F-1}] + pe, w_i = splat_avg(h0, flow i);
 *   out = to_out(attn(Wq x_even, Wk x, Wv x)).
 *   - to_q/to_k/to_v have no bias and the avg splat is linear in its input (sum(w x) / (sum(w)
 *     + 1e-7), holes exactly 0 = W 0), so Wk(splat(h0) + pe) = splat(Wk h0) + Wk pe, the same
 *     for V and Q. The projections therefore run in the ONNX segment BEFORE the cut, as one
 *     MatMul with [Wq | Wk | Wv] over the F original frames: output `qkv` [B, F, P, 3C].
 *     Frame 0's [k | v] (a Slice, [B, P, 2C]) is then warped by SoftmaxSplat in 'hwc' layout to
 *     `warped` [B, F-1, P, 2C], and the position encoding enters as a projected table
 *     `pe` [2F-1, 3C] (constant per attention; see positionEncoding.ts).
 *   - Cost argument: projecting after the warp (the reference order) multiplies (F + 2(2F-1))
 *     = 78 token rows by C x C per pixel (F=16); projecting first multiplies 3F = 48, i.e. 38%
 *     fewer FLOPs in the dominant term (at C=320, 64x40, B=2: 50 vs 82 GFLOP). The price is a
 *     splat of 2C channels instead of C: 15 * 2C atomic adds per pixel (~10k at C=320) against
 *     ~6M multiply-adds saved per pixel. It also keeps every weight inside ONNX, where ORT's
 *     tuned MatMul runs them, and the kernel needs no weight buffers. The whole step against
 *     the reference order, and the kernel against the same math as an ORT-web graph, are
 *     benchmarked in bench/attention.bench.ts (numbers: bench/README.md).
 *   - to_out (Linear with bias) stays in ONNX after the kernel: it is a plain GEMM on [.., C].
 *   - The kernel does what ONNX does badly: it never materialises the interleaved 2F-1
 *     sequence (it indexes originals / warped slots), adds the projected PE on load, and runs
 *     QK^T, a stable softmax and PV per (pixel, head) in workgroup memory, one pass over the
 *     inputs instead of ORT's Concat / Add / Transpose / MatMul / Softmax / MatMul / Transpose.
 *
 * Layout (all fp32, channels last, row-major): qkv [B, F, P, 3C] (= the ONNX segment's
 * (B*F, h, w, 3C) tokens), warped [B, F-1, P, 2C], pe [>= 2F-1, 3C], out [B, F, P, C] (the next
 * segment's to_out input, heads concatenated as torch does). P = h*w pixels.
 */
import src from '../../../shaders/motion_attention.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkBindingSize, checkTensor, createTensor, type GpuTensor } from '../tensor';
import { PE_MAX_LEN } from './positionEncoding';
import { bindGroup, bindGroupLayout, dispatchGrid, encodeDispatch, gridCapOption, PipelineCache, uniformBuffer, submitNow } from './common';

const KERNEL = 'MotionAttention';

/** Threads per workgroup (WGSL override WG; the shader's per-thread score slots assume >= 64). */
export const MOTION_ATTENTION_WORKGROUP = 64;
/** Most query frames: 2F-1 interleaved positions must fit AnimateDiff's PE max_len (32). */
export const MOTION_ATTENTION_MAX_FRAMES = Math.floor((PE_MAX_LEN + 1) / 2);
/** Largest channel chunk (vec4s) staged in workgroup memory. */
const MAX_CHUNK4 = 16;
/** Workgroup bytes for a chunk: q_tile MAX_F*chunk vec4 + kv_tile 2*MAX_F*chunk vec4 + scores MAX_F*32 f32. */
function workgroupBytes(chunk4: number): number {
  const F = MOTION_ATTENTION_MAX_FRAMES;
  return 16 * F * chunk4 + 16 * 2 * F * chunk4 + 4 * F * 32;
}

export interface MotionAttentionArgs {
  /** Projected original tokens [B, F, P, 3C], channels [q | k | v], fp32. */
  qkv: GpuTensor;
  /** Projected frame-0 [k | v] forward-warped to frames 1..F-1: [B, F-1, P, 2C], fp32; holes 0. */
  warped: GpuTensor;
  /** Projected position table [>= 2F-1, 3C]: row s = [Wq pe_s | Wk pe_s | Wv pe_s], fp32. */
  pe: GpuTensor;
  /** Number of heads (8 in Motion-I2V); C / heads must be a multiple of 4. */
  heads: number;
  /** Logit scale; default 1 / sqrt(C / heads). */
  scale?: number;
  /** Optional output [B, F, P, C] fp32 to write into; a new tensor is created otherwise. */
  out?: GpuTensor;
}

export interface MotionAttentionOptions {
  /** For tests: split the grid as if maxComputeWorkgroupsPerDimension were this small. */
  maxWorkgroupsPerDimension?: number;
}

interface Plan {
  B: number;
  F: number;
  P: number;
  C: number;
  heads: number;
  hd: number;
  chunk4: number;
  total: number;
  x: number;
  y: number;
  scale: number;
}

export class MotionAttention {
  private readonly device: GPUDevice;
  private readonly layout: GPUBindGroupLayout;
  /** One pipeline per channel chunk (a WGSL override); few distinct head sizes exist. */
  private readonly pipelines: PipelineCache;
  /** Uniform buffers by parameter set: identical contents, so sharing them across encodes is safe. */
  private readonly uniforms = new Map<string, GPUBuffer>();
  private readonly gridCap: number;
  private disposed = false;

  constructor(device: GPUDevice, options: MotionAttentionOptions = {}) {
    this.device = device;
    this.gridCap = gridCapOption(options);
    this.pipelines = new PipelineCache(device, 'motion_attention');
    this.layout = bindGroupLayout(device, 'motion_attention', ['read', 'read', 'read', 'write', 'uniform']);
  }

  /** Validates `args` (throws KernelInputError before anything is recorded) and records the dispatch. */
  encode(encoder: GPUCommandEncoder, args: MotionAttentionArgs): GpuTensor {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const plan = this.plan(args);
    // A bind group per call: inputs are usually fresh ORT output buffers, so caching by
    // buffer would rarely hit; creating one is cheap next to the dispatch.
    const out = args.out ?? createTensor(this.device, [plan.B, plan.F, plan.P, plan.C], 'float32', 'motion_attention.out');
    const group = bindGroup(this.device, this.layout, [args.qkv, args.warped, args.pe, out, this.uniform(plan)]);
    encodeDispatch(encoder, 'motion_attention', this.pipeline(plan.chunk4), group, [plan.x, plan.y]);
    return out;
  }

  /** Encodes and submits; returns the output (ready once the queue has run it). */
  run(args: MotionAttentionArgs): GpuTensor {
    return submitNow(this.device, 'motion_attention', (encoder) => this.encode(encoder, args));
  }

  /** Releases uniform buffers. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.uniforms.values()) b.destroy();
    this.uniforms.clear();
    this.pipelines.clear();
  }

  private plan(args: MotionAttentionArgs): Plan {
    const { qkv, warped, pe, heads } = args;
    checkTensor(KERNEL, 'qkv', qkv, { rank: 4, dtype: 'float32' });
    const [B, F, P, C3] = qkv.shape;
    if (C3 % 3 !== 0) throw new KernelInputError(KERNEL, 'qkv', `has ${C3} channels; expected 3C ([q | k | v])`);
    const C = C3 / 3;
    if (!Number.isInteger(heads) || heads <= 0 || C % heads !== 0) {
      throw new KernelInputError(KERNEL, 'heads', `must be a positive divisor of C = ${C}, got ${heads}`);
    }
    const hd = C / heads;
    if (hd % 4 !== 0) throw new KernelInputError(KERNEL, 'heads', `gives head_dim ${hd}; the kernel needs a multiple of 4`);
    if (F < 2 || F > MOTION_ATTENTION_MAX_FRAMES) {
      throw new KernelInputError(
        KERNEL,
        'qkv',
        `has ${F} frames; supported 2..${MOTION_ATTENTION_MAX_FRAMES} (2F-1 <= PE max_len ${PE_MAX_LEN})`,
      );
    }
    checkTensor(KERNEL, 'warped', warped, { dtype: 'float32', shape: [B, F - 1, P, 2 * C] });
    checkTensor(KERNEL, 'pe', pe, { dtype: 'float32', rank: 2, shape: [undefined, 3 * C] });
    if (pe.shape[0] < 2 * F - 1) {
      throw new KernelInputError(KERNEL, 'pe', `has ${pe.shape[0]} positions; ${2 * F - 1} (2F-1) are needed`);
    }
    if (args.out) checkTensor(KERNEL, 'out', args.out, { dtype: 'float32', shape: [B, F, P, C] });
    for (const [name, t] of [
      ['qkv', qkv],
      ['warped', warped],
      ['pe', pe],
    ] as const) {
      checkBindingSize(KERNEL, name, byteSize(t), this.device);
    }
    checkBindingSize(KERNEL, 'out', B * F * P * C * 4, this.device);
    const scale = args.scale ?? 1 / Math.sqrt(hd);
    if (!Number.isFinite(scale)) throw new KernelInputError(KERNEL, 'scale', `must be finite, got ${scale}`);

    const chunk4 = pickChunk(hd / 4);
    const need = workgroupBytes(chunk4);
    if (need > this.device.limits.maxComputeWorkgroupStorageSize) {
      throw new KernelInputError(
        KERNEL,
        'device',
        `needs ${need} bytes of workgroup memory, over maxComputeWorkgroupStorageSize ${this.device.limits.maxComputeWorkgroupStorageSize}`,
      );
    }
    if (this.device.limits.maxComputeInvocationsPerWorkgroup < MOTION_ATTENTION_WORKGROUP) {
      throw new KernelInputError(
        KERNEL,
        'device',
        `allows ${this.device.limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup; ${MOTION_ATTENTION_WORKGROUP} are needed`,
      );
    }
    const total = B * P * heads;
    if (total > 2 ** 32 - 1) throw new KernelInputError(KERNEL, 'qkv', `needs ${total} workgroups, over the u32 range`);
    const [x, y] = dispatchGrid(this.device, KERNEL, total, 1, this.gridCap, 'qkv');
    // The test cap stands for a smaller device limit here: it bounds Y too.
    if (y > this.gridCap) {
      throw new KernelInputError(
        KERNEL,
        'qkv',
        `needs ${total} workgroups, over ${this.gridCap}^2 (maxComputeWorkgroupsPerDimension squared)`,
      );
    }
    return { B, F, P, C, heads, hd, chunk4, total, x, y, scale };
  }

  private pipeline(chunk4: number): GPUComputePipeline {
    return this.pipelines.get(`chunk ${chunk4}`, this.layout, {
      code: src,
      constants: { WG: MOTION_ATTENTION_WORKGROUP, CHUNK4: chunk4, MAX_F: MOTION_ATTENTION_MAX_FRAMES },
    });
  }

  private uniform(plan: Plan): GPUBuffer {
    const key = [plan.B, plan.F, plan.P, plan.C, plan.heads, plan.total, plan.scale].join(',');
    let buf = this.uniforms.get(key);
    if (!buf) {
      buf = uniformBuffer(
        this.device,
        [plan.B, plan.F, plan.P, plan.C / 4, plan.heads, plan.hd / 4, plan.total, { f32: plan.scale }],
        'motion_attention.params',
      );
      this.uniforms.set(key, buf);
    }
    return buf;
  }
}

/**
 * Channel chunk in vec4s: a divisor of the head size between 8 and MAX_CHUNK4 when there is one
 * (no padded lanes: head_dim 40/80/160 -> 10), else as much of the head as fits.
 */
function pickChunk(hd4: number): number {
  const hi = Math.min(hd4, MAX_CHUNK4);
  for (let c = hi; c >= Math.min(hd4, 8); c--) if (hd4 % c === 0) return c;
  return hi;
}
