/**
 * A DIS-style coarse-to-fine optical-flow estimator on the GPU (Kroeger et al. 2016, "Fast
 * Optical Flow using Dense Inverse Search"), in the kernels of src/gpu/kernels/opticalFlow.ts.
 * Per pyramid level, coarsest first: patch inverse search from the upsampled coarser flow,
 * densification, then a few warping iterations of variational refinement. The parameters of
 * each quality preset follow OpenCV's DIS presets (fast, medium) and go one level finer for
 * 'high'; what each one means is in the shader headers.
 */
import { FlowResize } from '../../gpu/kernels/flowResize';
import { OpticalFlowKernels, patchGrid, type VariationalWeights } from '../../gpu/kernels/opticalFlow';
import { createTensor, type GpuTensor } from '../../gpu/tensor';

export type FlowQuality = 'fast' | 'medium' | 'high';

export interface DisParameters {
  /** Finest pyramid level estimated (0 = full resolution); the flow is upsampled from there. */
  finestLevel: number;
  patchSize: number;
  patchStride: number;
  /** Gauss-Newton iterations of the patch inverse search. */
  searchIterations: number;
  /** Outer (warping) iterations of the variational refinement per level. */
  variationalIterations: number;
  /** Red-black SOR sweeps per outer iteration. */
  sorIterations: number;
  omega: number;
  weights: VariationalWeights;
  /** Levels below the finest at which an initial flow is brought in (refinement from frame 0). */
  initLevels: number;
}

const WEIGHTS: VariationalWeights = { alpha: 20, gamma: 10, delta: 5 };

export const DIS_PRESETS: Record<FlowQuality, DisParameters> = {
  fast: {
    finestLevel: 2,
    patchSize: 8,
    patchStride: 4,
    searchIterations: 16,
    variationalIterations: 5,
    sorIterations: 5,
    omega: 1.6,
    weights: WEIGHTS,
    initLevels: 2,
  },
  medium: {
    finestLevel: 1,
    patchSize: 8,
    patchStride: 3,
    searchIterations: 25,
    variationalIterations: 5,
    sorIterations: 5,
    omega: 1.6,
    weights: WEIGHTS,
    initLevels: 2,
  },
  high: {
    finestLevel: 0,
    patchSize: 8,
    patchStride: 3,
    searchIterations: 25,
    variationalIterations: 5,
    sorIterations: 5,
    omega: 1.6,
    weights: WEIGHTS,
    initLevels: 2,
  },
};

/** Sizes of the pyramid levels 0..coarsest of a width x height image. */
export function levelSizes(width: number, height: number, coarsest: number): [number, number][] {
  const sizes: [number, number][] = [[width, height]];
  for (let l = 1; l <= coarsest; l++) {
    const [w, h] = sizes[l - 1];
    sizes.push([Math.ceil(w / 2), Math.ceil(h / 2)]);
  }
  return sizes;
}

/**
 * The coarsest level (as OpenCV's DIS): where a patch spans about a quarter of the image's
 * larger side, and no level smaller than a patch; never finer than the finest level.
 */
export function coarsestLevel(width: number, height: number, p: DisParameters): number {
  const bySpan = Math.floor(Math.log2(Math.max(width, height) / (4 * p.patchSize)) + 0.5);
  const byFit = Math.floor(Math.log2(Math.min(width, height) / p.patchSize));
  return Math.max(Math.min(bySpan, byFit), Math.min(p.finestLevel, byFit), 0);
}

/** Grey levels and gradients of one frame at every pyramid level. */
export interface FramePyramid {
  levels: { gray: GpuTensor; gradient: GpuTensor; width: number; height: number }[];
  dispose(): void;
}

export class DisFlow {
  readonly kernels: OpticalFlowKernels;
  private readonly resize: FlowResize;
  private readonly device: GPUDevice;

  constructor(device: GPUDevice) {
    this.device = device;
    this.kernels = new OpticalFlowKernels(device);
    this.resize = new FlowResize(device);
  }

  /** The pyramid of frame `frame` of a packed RGBA8 stack [F, H, W] (or one [H, W] image). */
  encodePyramid(encoder: GPUCommandEncoder, frames: GpuTensor, frame: number, levels: number): FramePyramid {
    const [height, width] = frames.shape.slice(-2);
    const sizes = levelSizes(width, height, levels - 1);
    const out: FramePyramid['levels'] = sizes.map(([w, h], l) => ({
      gray: createTensor(this.device, [h, w], 'float32', `flow gray ${l}`),
      gradient: createTensor(this.device, [2, h, w], 'float32', `flow gradient ${l}`),
      width: w,
      height: h,
    }));
    this.kernels.encodeGray(encoder, frames, frame, out[0].gray);
    for (let l = 0; l < out.length; l++) {
      if (l > 0) this.kernels.encodeDownsample(encoder, out[l - 1].gray, out[l].gray);
      this.kernels.encodeGradient(encoder, out[l].gray, out[l].gradient);
    }
    return {
      levels: out,
      dispose: () =>
        out.forEach((l) => {
          l.gray.buffer.destroy();
          l.gradient.buffer.destroy();
        }),
    };
  }

  /**
   * Flow [2, H, W] from the image of `a` to that of `b` (pyramids of the same frame size, with
   * levels up to coarsestLevel). With `init` ([2, H, W], full resolution) the search starts
   * `initLevels` levels above the finest from it instead of from zero at the coarsest level.
   * Temporaries go to `scratch` (the caller frees them once the work is done).
   */
  encodeFlow(
    encoder: GPUCommandEncoder,
    a: FramePyramid,
    b: FramePyramid,
    p: DisParameters,
    output: GpuTensor,
    scratch: GpuTensor[],
    init?: GpuTensor,
  ): void {
    const { width, height } = a.levels[0];
    const coarsest = coarsestLevel(width, height, p);
    const finest = Math.min(p.finestLevel, coarsest);
    const start = init ? Math.min(coarsest, finest + p.initLevels) : coarsest;
    const temp = (shape: number[], label: string): GpuTensor => {
      const t = createTensor(this.device, shape, 'float32', label);
      scratch.push(t);
      return t;
    };
    let flow: GpuTensor | undefined;
    for (let l = start; l >= finest; l--) {
      const A = a.levels[l];
      const B = b.levels[l];
      const { width: w, height: h } = A;
      let levelInit: GpuTensor;
      if (flow) levelInit = this.resize.encode(encoder, { flows: reshape4(flow), height: h, width: w });
      else if (init) levelInit = this.resize.encode(encoder, { flows: reshape4(init), height: h, width: w });
      else levelInit = temp([1, 2, h, w], 'flow zero init');
      scratch.push(levelInit);
      const init3 = reshape3(levelInit);
      const grid = patchGrid(w, h, p.patchSize, p.patchStride);
      const patches = temp([2, grid.countY, grid.countX], 'flow patches');
      this.kernels.encodePatchSearch(encoder, {
        i0: A.gray,
        grad0: A.gradient,
        i1: B.gray,
        init: init3,
        patches,
        grid,
        iterations: p.searchIterations,
      });
      const dense = temp([2, h, w], 'flow dense');
      this.kernels.encodeDensify(encoder, { i0: A.gray, i1: B.gray, patches, grid, flow: dense });
      if (p.variationalIterations > 0) {
        const coefficients = temp([6, h, w], 'flow coefficients');
        const increment = temp([2, h, w], 'flow increment');
        for (let k = 0; k < p.variationalIterations; k++) {
          this.kernels.encodeVariationalPrep(encoder, {
            i0: A.gray,
            grad0: A.gradient,
            i1: B.gray,
            grad1: B.gradient,
            flow: dense,
            coefficients,
            increment,
            weights: p.weights,
          });
          for (let s = 0; s < p.sorIterations; s++) {
            for (const parity of [0, 1] as const) {
              this.kernels.encodeVariationalSor(encoder, {
                coefficients,
                flow: dense,
                increment,
                parity,
                alpha: p.weights.alpha,
                omega: p.omega,
              });
            }
          }
          this.kernels.encodeVariationalApply(encoder, increment, dense);
        }
      }
      flow = dense;
    }
    if (!flow) throw new Error('unreachable: no pyramid level');
    if (finest === 0) encoder.copyBufferToBuffer(flow.buffer, 0, output.buffer, 0, 2 * width * height * 4);
    else this.resize.encode(encoder, { flows: reshape4(flow), height, width, output: reshape4(output) });
  }

  /** Levels a pyramid needs for frames of this size with these parameters. */
  pyramidLevels(width: number, height: number, p: DisParameters): number {
    return coarsestLevel(width, height, p) + 1;
  }
}

function reshape4(t: GpuTensor): GpuTensor {
  return { buffer: t.buffer, dtype: t.dtype, shape: [1, ...t.shape.slice(-3)] };
}

function reshape3(t: GpuTensor): GpuTensor {
  return { buffer: t.buffer, dtype: t.dtype, shape: t.shape.slice(-3) };
}
