/**
 * Densify: sparse constraints -> dense, edge-aware flow fields, by a multigrid solve of a
 * screened, edge-weighted Poisson equation (shaders/densify_*.wgsl).
 *
 * The caller describes constraints with a per-pixel map (`ids`: -2 free, -1 fixed at zero,
 * -3 fixed at zero and cut loose from non-static neighbours, k >= 0 on trajectory k's footprint) and a displacement table [F, K, 2]. The solver finds K
 * basis fields (1 on footprint k, 0 on every other constraint, smooth in between, following
 * the image's edges) and composes flow_f = sum_k basis_k * table[f, k]. Since the equation is
 * linear this equals solving every frame and channel separately, at K/(2F) of the cost.
 *
 * Solver: V-cycles of red-black Gauss-Seidel over a pyramid of the edge weights (halved until
 * the short side is <= MIN_COARSE), residuals summed to the coarse level, corrections
 * prolonged bilinearly. Dirichlet pixels keep their value exactly at every step.
 */
import { KernelInputError } from '../../errors';
import { checkTensor, checkBindingSize, createTensor, type GpuTensor } from '../tensor';
import paramsSrc from '../../../shaders/densify_params.wgsl?raw';
import weightsSrc from '../../../shaders/densify_weights.wgsl?raw';
import restrictWeightsSrc from '../../../shaders/densify_restrict_weights.wgsl?raw';
import setupSrc from '../../../shaders/densify_setup.wgsl?raw';
import smoothSrc from '../../../shaders/densify_smooth.wgsl?raw';
import residualSrc from '../../../shaders/densify_residual.wgsl?raw';
import prolongSrc from '../../../shaders/densify_prolong.wgsl?raw';
import composeSrc from '../../../shaders/densify_compose.wgsl?raw';
import { bindGroup, computeKernel, packUniform, tileGrid, type BindingKind, type ComputeKernel } from './common';

const KERNEL = 'densify';
/** The pyramid stops when the short side would drop below this many pixels. */
export const MIN_COARSE = 4;
/** Bytes of the shared Params uniform (9 x 4 bytes rounded up to 16). */
const PARAMS_BYTES = 48;

export interface DensifySolverOptions {
  /** Colour distance (RGB in [0,1], RMS over channels) at which an edge weight falls to exp(-1/2). Default 0.1. */
  edgeSigma?: number;
  /** Smallest edge weight, keeps every pixel connected. Default 1e-3. */
  floorWeight?: number;
  /**
   * Screening length in pixels: far from constraints, flows decay like exp(-distance / length).
   * Infinity = no decay (harmonic interpolation). Default Infinity.
   */
  screeningLength?: number;
  /**
   * V-cycles. Default 4: each cycle cuts the error by about 2x on plain images and less where
   * strong edges insulate regions; 4 is visually converged for previews (tests use more).
   */
  cycles?: number;
  /** Red-black sweeps before and after each coarse correction. Default 2 each. */
  preSweeps?: number;
  postSweeps?: number;
  /** Sweeps on the coarsest level. Default 40. */
  coarseSweeps?: number;
}

export interface DensifyArgs {
  /** uint32 [H, W], packed RGBA8: the reference image (edge weights). */
  image: GpuTensor;
  /** int32 [H, W]: -2 free, -1 fixed at zero, -3 static (fixed at zero, decoupled), k in 0..K-1 fixed on trajectory k's footprint. */
  ids: GpuTensor;
  /** float32 [F, K, 2]: displacement of trajectory k at output frame f (pixels). */
  table: GpuTensor;
  /** float32 [F, 2, H, W]: written. */
  out: GpuTensor;
}

export const DENSIFY_DEFAULTS: Required<DensifySolverOptions> = {
  edgeSigma: 0.1,
  floorWeight: 1e-3,
  screeningLength: Infinity,
  cycles: 4,
  preSweeps: 2,
  postSweeps: 2,
  coarseSweeps: 40,
};

interface Level {
  width: number;
  height: number;
  wx: GPUBuffer;
  wy: GPUBuffer;
  fixed: GPUBuffer;
  rhs: GPUBuffer;
  u: GPUBuffer;
  /** Params for the two smoothing parities, and for fine->coarse passes (weights, residual, prolong). */
  smoothParams: [GPUBuffer, GPUBuffer];
  pairParams: GPUBuffer | null;
  smoothGroups: [GPUBindGroup, GPUBindGroup];
  restrictWeightsGroup: GPUBindGroup | null;
  residualGroup: GPUBindGroup | null;
  prolongGroup: GPUBindGroup | null;
}

/** Buffers and bind groups of one (width, height, K) problem; reused across calls. */
interface Plan {
  key: string;
  levels: Level[];
  weightsParams: GPUBuffer;
  composeParams: GPUBuffer;
  buffers: GPUBuffer[];
}

export function pyramidSizes(width: number, height: number): { width: number; height: number }[] {
  const sizes = [{ width, height }];
  let w = width;
  let h = height;
  while (Math.min(Math.ceil(w / 2), Math.ceil(h / 2)) >= MIN_COARSE) {
    w = Math.ceil(w / 2);
    h = Math.ceil(h / 2);
    sizes.push({ width: w, height: h });
  }
  return sizes;
}

export class Densify {
  private readonly device: GPUDevice;
  private readonly pipelines: Record<
    'weights' | 'restrictWeights' | 'setup' | 'smooth' | 'residual' | 'prolong' | 'compose',
    ComputeKernel
  >;
  private plan: Plan | null = null;
  private disposed = false;

  constructor(device: GPUDevice) {
    this.device = device;
    // Every pass shares one Params struct, kept once in densify_params.wgsl.
    const make = (label: string, code: string, kinds: BindingKind[]) =>
      computeKernel(device, `densify-${label}`, { code, preludes: [paramsSrc] }, kinds);
    this.pipelines = {
      weights: make('weights', weightsSrc, ['uniform', 'read', 'read', 'write', 'write']),
      restrictWeights: make('restrict-weights', restrictWeightsSrc, ['uniform', 'read', 'read', 'read', 'write', 'write', 'write']),
      setup: make('setup', setupSrc, ['uniform', 'read', 'write', 'write', 'write']),
      smooth: make('smooth', smoothSrc, ['uniform', 'read', 'read', 'read', 'read', 'write']),
      residual: make('residual', residualSrc, ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'write', 'write']),
      prolong: make('prolong', prolongSrc, ['uniform', 'read', 'write', 'read']),
      compose: make('compose', composeSrc, ['uniform', 'read', 'read', 'write']),
    };
  }

  /**
   * Records the whole solve into `encoder`. Uniforms are written with queue.writeBuffer at
   * call time, so submit this encoder before calling encode again.
   */
  encode(encoder: GPUCommandEncoder, args: DensifyArgs, options: DensifySolverOptions = {}): void {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const { image, ids, table, out } = args;
    checkTensor(KERNEL, 'image', image, { rank: 2, dtype: 'uint32' });
    const [height, width] = image.shape;
    checkTensor(KERNEL, 'ids', ids, { dtype: 'int32', shape: [height, width] });
    checkTensor(KERNEL, 'table', table, { rank: 3, dtype: 'float32' });
    const [frames, k, two] = table.shape;
    if (two !== 2)
      throw new KernelInputError(KERNEL, 'table', `has shape ${JSON.stringify(table.shape)}, last dimension must be 2 (dx, dy)`);
    checkTensor(KERNEL, 'out', out, { dtype: 'float32', shape: [frames, 2, height, width] });
    const o = { ...DENSIFY_DEFAULTS, ...options };
    if (!(o.edgeSigma > 0)) throw new KernelInputError(KERNEL, 'edgeSigma', `must be > 0, got ${o.edgeSigma}`);
    if (!(o.floorWeight > 0 && o.floorWeight <= 1))
      throw new KernelInputError(KERNEL, 'floorWeight', `must be in (0, 1], got ${o.floorWeight}`);
    if (!(o.screeningLength > 0))
      throw new KernelInputError(KERNEL, 'screeningLength', `must be > 0 (Infinity for none), got ${o.screeningLength}`);
    for (const name of ['cycles', 'preSweeps', 'postSweeps', 'coarseSweeps'] as const) {
      if (!Number.isInteger(o[name]) || o[name] < 0 || o[name] > 1000)
        throw new KernelInputError(KERNEL, name, `must be an integer in 0..1000, got ${o[name]}`);
    }
    tileGrid(this.device, KERNEL, width, height, Math.max(frames, k), 'image');
    checkBindingSize(KERNEL, 'out', frames * 2 * width * height * 4, this.device);
    checkBindingSize(KERNEL, 'basis', k * width * height * 4, this.device);

    const pass = encoder.beginComputePass({ label: 'densify' });
    if (k === 0) {
      pass.end();
      encoder.clearBuffer(out.buffer, 0, frames * 2 * width * height * 4);
      return;
    }
    const plan = this.getPlan(width, height, k);
    const screening = Number.isFinite(o.screeningLength) ? 1 / (o.screeningLength * o.screeningLength) : 0;
    const inv2s2 = 1 / (2 * o.edgeSigma * o.edgeSigma);
    const q = this.device.queue;
    const writeParams = (buf: GPUBuffer, w: number, h: number, cw: number, ch: number, batch: number, parity: number, s: number) =>
      q.writeBuffer(buf, 0, packUniform([w, h, cw, ch, batch, parity, { f32: s }, { f32: inv2s2 }, { f32: o.floorWeight }], PARAMS_BYTES));
    const L = plan.levels;
    writeParams(plan.weightsParams, width, height, 0, 0, k, 0, 0);
    writeParams(plan.composeParams, width, height, frames, 0, k, 0, 0);
    L.forEach((lv, i) => {
      const s = screening * 4 ** i;
      writeParams(lv.smoothParams[0], lv.width, lv.height, 0, 0, k, 0, s);
      writeParams(lv.smoothParams[1], lv.width, lv.height, 0, 0, k, 1, s);
      if (lv.pairParams) writeParams(lv.pairParams, lv.width, lv.height, L[i + 1].width, L[i + 1].height, k, 0, s);
    });

    const groups = (w: number, h: number) => tileGrid(this.device, KERNEL, w, h, 1);

    // Per-call bind groups only for the caller's tensors (image, ids, table, out).
    const l0 = L[0];
    const [gx, gy] = groups(width, height);
    pass.setPipeline(this.pipelines.weights.pipeline);
    pass.setBindGroup(0, bindGroup(this.device, this.pipelines.weights, [plan.weightsParams, image, ids, l0.wx, l0.wy]));
    pass.dispatchWorkgroups(gx, gy, 1);
    pass.setPipeline(this.pipelines.setup.pipeline);
    pass.setBindGroup(0, bindGroup(this.device, this.pipelines.setup, [plan.weightsParams, ids, l0.fixed, l0.rhs, l0.u]));
    pass.dispatchWorkgroups(gx, gy, k);
    // Pyramid of weights and Dirichlet masks.
    pass.setPipeline(this.pipelines.restrictWeights.pipeline);
    for (let i = 0; i + 1 < L.length; i++) {
      const [cx, cy] = groups(L[i + 1].width, L[i + 1].height);
      pass.setBindGroup(0, L[i].restrictWeightsGroup!);
      pass.dispatchWorkgroups(cx, cy, 1);
    }
    const sweeps = (lv: Level, n: number) => {
      if (n === 0) return;
      pass.setPipeline(this.pipelines.smooth.pipeline);
      // Each invocation updates one pixel of the current colour: half the width.
      const [sx, sy] = groups(Math.ceil(lv.width / 2), lv.height);
      for (let s = 0; s < n; s++) {
        pass.setBindGroup(0, lv.smoothGroups[0]);
        pass.dispatchWorkgroups(sx, sy, k);
        pass.setBindGroup(0, lv.smoothGroups[1]);
        pass.dispatchWorkgroups(sx, sy, k);
      }
    };
    for (let c = 0; c < o.cycles; c++) {
      for (let i = 0; i + 1 < L.length; i++) {
        sweeps(L[i], o.preSweeps);
        const [cx, cy] = groups(L[i + 1].width, L[i + 1].height);
        pass.setPipeline(this.pipelines.residual.pipeline);
        pass.setBindGroup(0, L[i].residualGroup!);
        pass.dispatchWorkgroups(cx, cy, k);
      }
      sweeps(L[L.length - 1], o.coarseSweeps);
      for (let i = L.length - 2; i >= 0; i--) {
        const [fx, fy] = groups(L[i].width, L[i].height);
        pass.setPipeline(this.pipelines.prolong.pipeline);
        pass.setBindGroup(0, L[i].prolongGroup!);
        pass.dispatchWorkgroups(fx, fy, k);
        sweeps(L[i], o.postSweeps);
      }
    }
    if (o.cycles === 0) sweeps(l0, o.postSweeps);
    pass.setPipeline(this.pipelines.compose.pipeline);
    pass.setBindGroup(0, bindGroup(this.device, this.pipelines.compose, [plan.composeParams, l0.u, table, out]));
    pass.dispatchWorkgroups(gx, gy, frames);
    pass.end();
  }

  /** The solved basis fields [K, H, W] of the last encode (tests and debugging). */
  basis(): GpuTensor | null {
    const p = this.plan;
    if (!p) return null;
    const [, , k] = p.key.split('x').map(Number);
    const l0 = p.levels[0];
    return { buffer: l0.u, shape: [k, l0.height, l0.width], dtype: 'float32' };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropPlan();
  }

  private dropPlan(): void {
    this.plan?.buffers.forEach((b) => b.destroy());
    this.plan = null;
  }

  private getPlan(width: number, height: number, k: number): Plan {
    const key = `${width}x${height}x${k}`;
    if (this.plan?.key === key) return this.plan;
    this.dropPlan();
    const d = this.device;
    const buffers: GPUBuffer[] = [];
    const storage = (floats: number, label: string) => {
      const b = createTensor(d, [floats], 'float32', label).buffer;
      buffers.push(b);
      return b;
    };
    const uniform = (label: string) => {
      const b = d.createBuffer({ size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label });
      buffers.push(b);
      return b;
    };
    const bind = (kernel: ComputeKernel, list: GPUBuffer[]) => bindGroup(d, kernel, list);
    const sizes = pyramidSizes(width, height);
    const levels: Level[] = sizes.map((s, i) => {
      const n = s.width * s.height;
      const lv: Level = {
        ...s,
        wx: storage(n, `densify-wx-${i}`),
        wy: storage(n, `densify-wy-${i}`),
        fixed: storage(n, `densify-fixed-${i}`),
        rhs: storage(n * k, `densify-rhs-${i}`),
        u: storage(n * k, `densify-u-${i}`),
        smoothParams: [uniform(`densify-smooth-${i}-0`), uniform(`densify-smooth-${i}-1`)],
        pairParams: i + 1 < sizes.length ? uniform(`densify-pair-${i}`) : null,
        smoothGroups: undefined as unknown as [GPUBindGroup, GPUBindGroup],
        restrictWeightsGroup: null,
        residualGroup: null,
        prolongGroup: null,
      };
      return lv;
    });
    levels.forEach((lv, i) => {
      const p = this.pipelines;
      lv.smoothGroups = [0, 1].map((parity) => bind(p.smooth, [lv.smoothParams[parity], lv.wx, lv.wy, lv.fixed, lv.rhs, lv.u])) as [
        GPUBindGroup,
        GPUBindGroup,
      ];
      const c = levels[i + 1];
      if (c && lv.pairParams) {
        lv.restrictWeightsGroup = bind(p.restrictWeights, [lv.pairParams, lv.wx, lv.wy, lv.fixed, c.wx, c.wy, c.fixed]);
        lv.residualGroup = bind(p.residual, [lv.pairParams, lv.wx, lv.wy, lv.fixed, lv.rhs, lv.u, c.fixed, c.rhs, c.u]);
        lv.prolongGroup = bind(p.prolong, [lv.pairParams, lv.fixed, lv.u, c.u]);
      }
    });
    this.plan = { key, levels, weightsParams: uniform('densify-weights'), composeParams: uniform('densify-compose'), buffers };
    return this.plan;
  }
}
