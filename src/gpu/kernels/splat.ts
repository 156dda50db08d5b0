/**
 * Forward softmax splatting (Niklaus & Liu 2020) on the GPU: every source map is pushed along
 * every flow with bilinear weights; modes sum / avg / linear / soft as the authors' code (the
 * design notes' reference.md, "Softmax splatting").
 *
 * Strategy ('gather', the default): WGSL has no float atomics, so instead of scattering values
 * the kernel first sorts the sources of each flow into bins by the north-west corner of their
 * bilinear footprint (integer atomics; the geometry is shared by every channel and batch
 * entry), sorts each bin by source index, and then every output value gathers the four bins
 * whose footprints cover its pixel, merged in source order. Results are deterministic and
 * summed in the order of a sequential CPU splat (bit-equal to it in sum mode). Passes per
 * chunk of flows: count, scan, fill, sort (over N x H x W) and one gather over the output;
 * see shaders/softmax_splat_bin.wgsl and softmax_splat_gather_common.wgsl for the math.
 * The gather comes in two forms, each a pipeline specialised per mode (and layout):
 *  - lanes over target pixels, 4 channels per walk (softmax_splat_gather.wgsl): chw, and hwc
 *    with C % 4 != 0 or C < 64;
 *  - lanes over channels (softmax_splat_gather_vec4.wgsl): hwc with C % 4 == 0 and C >= 64,
 *    as stage 2's tokens (320..1280 channels): a workgroup per target pixel, contiguous vec4
 *    loads and stores, 4 vec4s per lane per walk.
 *
 * Flows are processed in chunks when the scratch or the gather's invocation count would exceed
 * device limits, so any flow count works as long as one flow fits.
 *
 * Why gather and not the alternatives (WGSL has only integer atomics):
 *  - fixed-point integer atomics: rejected without building: soft mode multiplies by up to
 *    exp(20) = 4.9e8, beyond any fixed-point range that also keeps 1e-5 relative precision for
 *    small weights (a 1e-6 bilinear weight would lose ~1e-3 of itself at 2^-32 resolution);
 *  - CAS float adds ('atomic' below): correct to 1e-5 but order-dependent in the last bits,
 *    one CAS per channel per corner (4 x 321 per source pixel at stage 2);
 *  - bin-sort-gather ('gather', default): deterministic, no float atomics, one integer atomic
 *    and about 20 bytes of scratch per source (bin count and offset, entry, landing point);
 *    per-target lists, the first design, needed up to four of each and 40 bytes per pixel.
 *
 * Cost model the design follows: time goes with the count of storage accesses whose address
 * varies across lanes, not with bytes. Hence one entry per source instead of four, the landing
 * point kept per source (no flow reads or integer divisions in the gather), a sorting network
 * for bins of up to 4 sources, and 4 vec4s per lane per walk. Timings of the strategies and
 * of the floor probe that bounds any splat on a given adapter: bench/README.md.
 */
import binSrc from '../../../shaders/softmax_splat_bin.wgsl?raw';
import scanSrc from '../../../shaders/softmax_splat_scan.wgsl?raw';
import sortSrc from '../../../shaders/softmax_splat_sort.wgsl?raw';
import gatherCommonSrc from '../../../shaders/softmax_splat_gather_common.wgsl?raw';
import gatherSrc from '../../../shaders/softmax_splat_gather.wgsl?raw';
import gatherVec4Src from '../../../shaders/softmax_splat_gather_vec4.wgsl?raw';
import atomicSrc from '../../../shaders/softmax_splat_atomic.wgsl?raw';
import valuesSrc from '../../../shaders/softmax_splat_values.wgsl?raw';
import { KernelInputError } from '../../errors';
import { byteSize, checkBindingSize, checkTensor, createTensor, type GpuTensor } from '../tensor';
import { bindGroup, bindGroupLayout, dispatchGrid, encodeDispatch, gridCapOption, PipelineCache, submitNow, uniformBuffer } from './common';

export type SplatMode = 'sum' | 'avg' | 'linear' | 'soft';
export type SplatLayout = 'chw' | 'hwc';
/**
 * 'gather' (default): bin + sort + gather, deterministic, no float atomics.
 * 'atomic': scatter with compare-and-swap float adds, as the CUDA reference; the sum order
 * varies run to run (last bits). Kept to measure against; see bench/splat.bench.ts.
 */
export type SplatStrategy = 'gather' | 'atomic';

export interface SplatArgs {
  /** [B, C, H, W] ('chw', default) or [B, H, W, C] ('hwc', channels-last tokens) float32: B source maps. */
  input: GpuTensor;
  /** [N, 2, H, W] float32 pixel displacements (dx, dy); every source is splatted by every flow. */
  flows: GpuTensor;
  /** [B or 1, N or 1, H, W] importance metric, required for 'linear' and 'soft', absent otherwise. */
  metric?: GpuTensor;
  mode: SplatMode;
  /** Default 'chw'. */
  layout?: SplatLayout;
  /** Optional preallocated [B, N, C, H, W] ('chw') / [B, N, H, W, C] ('hwc') float32; must not alias an input. */
  output?: GpuTensor;
  /** Default 'gather'. */
  strategy?: SplatStrategy;
}

/** A gather through prepared bins: SplatArgs without the flows (the bins carry them). */
export type SplatGatherArgs = Omit<SplatArgs, 'flows' | 'strategy'>;

export interface SoftmaxSplatOptions {
  /** Upper bound on flows splatted per chunk (default: as many as device limits allow). For tests. */
  maxFlowsPerChunk?: number;
  /**
   * Cap on workgroups per grid dimension, below the device's limit (default: the limit). For
   * tests: a small cap exercises the 2D grids that big shapes need, at small shapes.
   */
  maxWorkgroupsPerDimension?: number;
}

const KERNEL = 'SoftmaxSplat';

/** Codes shared with the WGSL (passed as pipeline overrides, never copied by hand). */
const MODE_CODE: Record<SplatMode, number> = { sum: 0, avg: 1, linear: 2, soft: 3 };
const LAYOUT_CODE: Record<SplatLayout, number> = { chw: 0, hwc: 1 };
const WG_BIN = 64;
const WG_SCAN = 64;
/** Elements each scan invocation sums serially (see softmax_splat_scan.wgsl). */
const SCAN_CHUNK = 32;
const WG_SORT = 64;
/** Invocations per workgroup of the pixel-lane gather (softmax_splat_gather.wgsl). */
const WG_GATHER = 64;
/** Most invocations per workgroup of the channel-lane gather (softmax_splat_gather_vec4.wgsl). */
const WG_GATHER_VEC4 = 64;
/** vec4s of channels each lane of that gather accumulates per walk over the bins (fixed in the WGSL). */
const VEC4_PER_LANE = 4;
/** hwc inputs with C % 4 == 0 and at least this many channels take the channel-lane gather
 * (below it a workgroup would have fewer than 4 lanes). */
const VEC4_MIN_CHANNELS = 64;
const WG_ATOMIC = 64;
/** Bytes of scratch per source: its entry (u32 index) and landing point (vec2<f32>). */
const ENTRY_BYTES = 4;
const POINT_BYTES = 8;
/** Keep every index the shaders compute below 2^31. */
const MAX_INVOCATIONS = 2 ** 31 - 1;

interface Scratch {
  /** Bins it was sized for: flows per chunk x (H + 1) x (W + 1). */
  bins: number;
  /** Sources it was sized for: flows per chunk x H x W. */
  sources: number;
  /** Counts, then per-bin cursors: bins + 1 u32. */
  tally: GPUBuffer;
  /** Exclusive scan of the counts: bins + 1 u32 (the last is the total). */
  offsets: GPUBuffer;
  /** Source indices, sorted within each bin: sources + 1 u32 (one slack element). */
  entries: GPUBuffer;
  /** Landing point q of every source: sources vec2<f32>. */
  points: GPUBuffer;
  /** Block sums of each scan level below `offsets`. */
  levels: GPUBuffer[];
}

type GatherVariant = 'pixels' | 'vec4';

/** What validate() derives from the arguments. */
interface SplatPlan {
  B: number;
  C: number;
  H: number;
  W: number;
  N: number;
  layout: SplatLayout;
  outputShape: number[];
  /** Flows per chunk of a one-shot splat; prepared bins may hold up to flowsPerChunkByIndex. */
  flowsPerChunk: number;
  flowsPerChunkByIndex: number;
  strategy: SplatStrategy;
}

/** One chunk of binned flows: flows base .. base + flows - 1 of the set. */
interface BinChunk {
  base: number;
  flows: number;
  /** Exclusive scan of the bin counts: flows (H+1)(W+1) + 1 u32. */
  offsets: GPUBuffer;
  /** Source indices, sorted within each bin: flows H W + 1 u32. */
  entries: GPUBuffer;
  /** Landing point of every source: flows H W vec2<f32>. */
  points: GPUBuffer;
}

/**
 * The bins of one flow set (SoftmaxSplat.prepareBins), for any number of gathers
 * (SoftmaxSplat.encodeGather). Owned by the caller: dispose() frees them; safe to call twice.
 */
export class SplatBins {
  disposed = false;
  /** @internal */
  constructor(
    /** The flow tensor binned (its shape validates gathers; its buffer is not read again). */
    readonly flows: GpuTensor,
    /** @internal */
    readonly chunks: readonly BinChunk[],
  ) {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.chunks) for (const b of [c.offsets, c.entries, c.points]) b.destroy();
  }
}

export class SoftmaxSplat {
  private readonly device: GPUDevice;
  private readonly binLayout: GPUBindGroupLayout;
  private readonly scanLayout: GPUBindGroupLayout;
  private readonly sortLayout: GPUBindGroupLayout;
  private readonly gatherLayout: GPUBindGroupLayout;
  private readonly atomicLayout: GPUBindGroupLayout;
  /** Pipelines are built on first use (each costs real time on a software adapter). */
  private readonly pipelines: PipelineCache;
  private accumulator: GPUBuffer | null = null;
  private readonly dummyMetric: GPUBuffer;
  private scratch: Scratch | null = null;
  private disposed = false;
  private readonly maxFlowsPerChunk: number;
  private readonly gridCap: number;

  constructor(device: GPUDevice, options: SoftmaxSplatOptions = {}) {
    this.device = device;
    this.maxFlowsPerChunk = Math.max(1, Math.floor(options.maxFlowsPerChunk ?? Infinity));
    this.gridCap = gridCapOption(options);
    this.pipelines = new PipelineCache(device, 'splat');
    this.binLayout = bindGroupLayout(device, 'splat bin', ['uniform', 'read', 'write', 'read', 'write', 'write']);
    this.scanLayout = bindGroupLayout(device, 'splat scan', ['uniform', 'write', 'write']);
    this.sortLayout = bindGroupLayout(device, 'splat sort', ['uniform', 'read', 'write']);
    this.gatherLayout = bindGroupLayout(device, 'splat gather', ['uniform', 'read', 'read', 'read', 'read', 'read', 'write']);
    this.atomicLayout = bindGroupLayout(device, 'splat atomic', ['uniform', 'read', 'read', 'read', 'write', 'write']);
    this.dummyMetric = device.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE, label: 'splat no metric' });
  }

  private binPipeline(entryPoint: 'count' | 'fill'): GPUComputePipeline {
    return this.pipelines.get(entryPoint, this.binLayout, { code: binSrc, entryPoint, constants: { WG: WG_BIN } });
  }

  private scanPipeline(entryPoint: 'reduce_chunks' | 'scan_chunks'): GPUComputePipeline {
    return this.pipelines.get(entryPoint, this.scanLayout, { code: scanSrc, entryPoint, constants: { WG: WG_SCAN, CHUNK: SCAN_CHUNK } });
  }

  /** Gather pipeline specialised for one mode and layout (their branches fold away). */
  private gatherPipeline(variant: GatherVariant, mode: SplatMode, layout: SplatLayout, wg: number): GPUComputePipeline {
    const modes = { MODE: MODE_CODE[mode], MODE_SUM: MODE_CODE.sum, MODE_LINEAR: MODE_CODE.linear, MODE_SOFT: MODE_CODE.soft };
    if (variant === 'vec4') {
      return this.pipelines.get(`gather vec4 ${mode} wg${wg}`, this.gatherLayout, {
        code: gatherVec4Src,
        preludes: [valuesSrc, gatherCommonSrc],
        constants: { WG: wg, ...modes },
      });
    }
    return this.pipelines.get(`gather ${mode} ${layout}`, this.gatherLayout, {
      code: gatherSrc,
      preludes: [valuesSrc, gatherCommonSrc],
      constants: { WG: WG_GATHER, LAYOUT: LAYOUT_CODE[layout], LAYOUT_HWC: LAYOUT_CODE.hwc, ...modes },
    });
  }

  /** Records the splat into `encoder` (nothing is submitted) and returns the output tensor. */
  encode(encoder: GPUCommandEncoder, args: SplatArgs): GpuTensor {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const plan = this.validate(args);
    const { H, W, N, flowsPerChunk } = plan;
    const output = args.output ?? createTensor(this.device, plan.outputShape, 'float32', 'splat output');
    if (plan.strategy === 'atomic') {
      this.encodeAtomic(encoder, args, plan, output);
      return output;
    }
    const scratch = this.ensureScratch(flowsPerChunk * (H + 1) * (W + 1), flowsPerChunk * H * W);
    // One scratch serves every chunk in turn: each chunk is binned, then gathered, in order.
    for (let base = 0; base < N; base += flowsPerChunk) {
      const chunk: BinChunk = {
        base,
        flows: Math.min(flowsPerChunk, N - base),
        offsets: scratch.offsets,
        entries: scratch.entries,
        points: scratch.points,
      };
      this.encodeBinChunk(encoder, args.flows, H, W, chunk, scratch);
      this.encodeGatherChunk(encoder, args, plan, chunk, output);
    }
    return output;
  }

  /**
   * Bins a flow set once (count, scan, fill, sort) for gathers of any number of source maps
   * with encodeGather: stage 2 splats frame 0's tokens of every attention with the same few
   * flow sets. The bins hold the geometry of `flows` as they are when the recorded commands
   * run; later changes to `flows` do not reach them. The caller owns the result (dispose()).
   * `first`: bin flows first .. N-1 only (the gathers then see N - first flows), default 0.
   */
  prepareBins(encoder: GPUCommandEncoder, flows: GpuTensor, options: { first?: number } = {}): SplatBins {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    checkTensor(KERNEL, 'flows', flows, { rank: 4, dtype: 'float32', shape: [undefined, 2, undefined, undefined] });
    checkBindingSize(KERNEL, 'flows', byteSize(flows), this.device);
    const first = options.first ?? 0;
    if (!Number.isInteger(first) || first < 0 || first >= flows.shape[0]) {
      throw new KernelInputError(KERNEL, 'first', `is ${first}, expected an integer from 0 to ${flows.shape[0] - 1}`);
    }
    const [, , H, W] = flows.shape;
    const N = flows.shape[0] - first;
    const perChunk = Math.min(N, this.flowsPerChunkByStorage(H, W, 'gather', 1, 1), this.maxFlowsPerChunk);
    if (perChunk < 1)
      throw new KernelInputError(
        KERNEL,
        'flows',
        `needs ${this.perFlowBytes(H, W, 'gather', 1, 1)} bytes of scratch for one flow, over maxStorageBufferBindingSize ${this.device.limits.maxStorageBufferBindingSize}`,
      );
    const scratch = this.ensureScratch(perChunk * (H + 1) * (W + 1), perChunk * H * W);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const buf = (size: number, label: string) => this.device.createBuffer({ size: Math.max(16, size), usage, label });
    const chunks: BinChunk[] = [];
    for (let base = 0; base < N; base += perChunk) {
      const nf = Math.min(perChunk, N - base);
      const chunk: BinChunk = {
        base,
        flows: nf,
        offsets: buf((nf * (H + 1) * (W + 1) + 1) * 4, 'splat bins offsets'),
        entries: buf((nf * H * W + 1) * ENTRY_BYTES, 'splat bins entries'),
        points: buf(nf * H * W * POINT_BYTES, 'splat bins points'),
      };
      this.encodeBinChunk(encoder, flows, H, W, chunk, scratch, first);
      chunks.push(chunk);
    }
    // The flows the gathers see: a shape over the same buffer (only validation reads it).
    return new SplatBins({ buffer: flows.buffer, shape: [N, 2, H, W], dtype: 'float32' }, chunks);
  }

  /**
   * Gathers `args.input` through bins from prepareBins: the same output as encode() with the
   * bins' flows ('gather' strategy), bit for bit, without binning again.
   */
  encodeGather(encoder: GPUCommandEncoder, bins: SplatBins, args: SplatGatherArgs): GpuTensor {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    if (!(bins instanceof SplatBins)) throw new KernelInputError(KERNEL, 'bins', 'must come from prepareBins');
    if (bins.disposed) throw new KernelInputError(KERNEL, 'bins', 'were disposed');
    checkTensor(KERNEL, 'input', args.input, { rank: 4, dtype: 'float32' });
    const [, d1, d2, d3] = args.input.shape;
    const [h, w] = (args.layout ?? 'chw') === 'hwc' ? [d1, d2] : [d2, d3];
    const [, , bh, bw] = bins.flows.shape;
    if (h !== bh || w !== bw) throw new KernelInputError(KERNEL, 'input', `is ${w}x${h}, the bins are of ${bw}x${bh} flows`);
    const full: SplatArgs = { ...args, flows: bins.flows, strategy: 'gather' };
    const plan = this.validate(full);
    for (const chunk of bins.chunks) {
      if (chunk.flows > plan.flowsPerChunkByIndex) {
        throw new KernelInputError(
          KERNEL,
          'bins',
          `hold ${chunk.flows} flows per chunk; this input allows ${plan.flowsPerChunkByIndex} (index range): prepare them with a smaller maxFlowsPerChunk`,
        );
      }
    }
    const output = args.output ?? createTensor(this.device, plan.outputShape, 'float32', 'splat output');
    for (const chunk of bins.chunks) this.encodeGatherChunk(encoder, full, plan, chunk, output);
    return output;
  }

  /**
   * Count, scan, fill and sort of one chunk of flows (flows first + chunk.base .. of the
   * tensor) into the chunk's offsets / entries / points.
   */
  private encodeBinChunk(
    encoder: GPUCommandEncoder,
    flows: GpuTensor,
    H: number,
    W: number,
    chunk: BinChunk,
    scratch: Scratch,
    first = 0,
  ): void {
    const nf = chunk.flows;
    const sources = nf * H * W;
    const bins = nf * (H + 1) * (W + 1);
    const binParams = uniformBuffer(this.device, [nf, H, W, first + chunk.base], 'splat bin params');
    const binGroup = (tally: GPUBuffer) =>
      bindGroup(this.device, this.binLayout, [
        binParams,
        flows,
        { buffer: tally, size: (bins + 1) * 4 },
        { buffer: chunk.offsets, size: (bins + 1) * 4 },
        { buffer: chunk.entries, size: (sources + 1) * ENTRY_BYTES },
        { buffer: chunk.points, size: sources * POINT_BYTES },
      ]);
    const [bx, by] = dispatchGrid(this.device, KERNEL, sources, WG_BIN, this.gridCap);

    // 1. count the sources of each bin (the element past the last bin stays 0)
    encoder.clearBuffer(scratch.tally, 0, (bins + 1) * 4);
    let pass = encoder.beginComputePass({ label: 'splat count' });
    pass.setPipeline(this.binPipeline('count'));
    pass.setBindGroup(0, binGroup(scratch.tally));
    pass.dispatchWorkgroups(bx, by);
    pass.end();
    encoder.copyBufferToBuffer(scratch.tally, 0, chunk.offsets, 0, (bins + 1) * 4);
    encoder.clearBuffer(scratch.tally, 0, (bins + 1) * 4);

    pass = encoder.beginComputePass({ label: 'splat bins' });
    // 2. exclusive scan: bin starts, and the total after the last bin
    this.encodeScan(pass, chunk.offsets, scratch.levels, bins + 1);
    // 3. fill the bins (tally becomes the per-bin cursor)
    pass.setPipeline(this.binPipeline('fill'));
    pass.setBindGroup(0, binGroup(scratch.tally));
    pass.dispatchWorkgroups(bx, by);
    // 4. sort each bin by source index (determinism, CPU order)
    pass.setPipeline(this.pipelines.get('sort', this.sortLayout, { code: sortSrc, constants: { WG: WG_SORT } }));
    pass.setBindGroup(
      0,
      bindGroup(this.device, this.sortLayout, [
        uniformBuffer(this.device, [bins], 'splat sort params'),
        { buffer: chunk.offsets, size: (bins + 1) * 4 },
        { buffer: chunk.entries, size: (sources + 1) * ENTRY_BYTES },
      ]),
    );
    pass.dispatchWorkgroups(...dispatchGrid(this.device, KERNEL, bins, WG_SORT, this.gridCap));
    pass.end();
  }

  /** 5. The gather of one binned chunk of flows into `output`. */
  private encodeGatherChunk(encoder: GPUCommandEncoder, args: SplatArgs, plan: SplatPlan, chunk: BinChunk, output: GpuTensor): void {
    const { B, C, H, W, N, layout } = plan;
    const hw = H * W;
    const nf = chunk.flows;
    const sources = nf * hw;
    const bins = nf * (H + 1) * (W + 1);
    const vec4 = layout === 'hwc' && C % 4 === 0 && C >= VEC4_MIN_CHANNELS;
    const vec4Wg = Math.min(WG_GATHER_VEC4, Math.ceil(C / 4 / VEC4_PER_LANE));
    const gatherParams = uniformBuffer(
      this.device,
      [B, nf, C, H, W, args.metric?.shape[0] ?? 1, args.metric?.shape[1] ?? 1, chunk.base, N, 0, 0, 0],
      'splat gather params',
    );
    const group = bindGroup(this.device, this.gatherLayout, [
      gatherParams,
      args.metric ?? this.dummyMetric,
      { buffer: chunk.offsets, size: (bins + 1) * 4 },
      { buffer: chunk.entries, size: (sources + 1) * ENTRY_BYTES },
      { buffer: chunk.points, size: sources * POINT_BYTES },
      args.input,
      output,
    ]);
    const grid = vec4
      ? dispatchGrid(this.device, KERNEL, B * nf * hw, 1, this.gridCap)
      : dispatchGrid(this.device, KERNEL, B * nf * Math.ceil(C / 4) * hw, WG_GATHER, this.gridCap);
    encodeDispatch(encoder, 'splat gather', this.gatherPipeline(vec4 ? 'vec4' : 'pixels', args.mode, layout, vec4Wg), group, grid);
  }

  /** encode + submit. The output is ready for any later GPU work on this device. */
  run(args: SplatArgs): GpuTensor {
    return submitNow(this.device, 'splat', (encoder) => this.encode(encoder, args));
  }

  /** Frees the scratch buffers; safe to call twice. Outputs already returned stay valid. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropScratch();
    this.accumulator?.destroy();
    this.accumulator = null;
    this.dummyMetric.destroy();
  }

  private encodeAtomic(encoder: GPUCommandEncoder, args: SplatArgs, plan: SplatPlan, output: GpuTensor): void {
    const { B, C, H, W, N, flowsPerChunk, layout } = plan;
    const hw = H * W;
    const K = C + (args.mode === 'sum' ? 0 : 1);
    const accBytes = B * flowsPerChunk * K * hw * 4;
    const atomicConstants = {
      WG: WG_ATOMIC,
      MODE_SUM: MODE_CODE.sum,
      MODE_LINEAR: MODE_CODE.linear,
      MODE_SOFT: MODE_CODE.soft,
      LAYOUT_HWC: LAYOUT_CODE.hwc,
    };
    if (!this.accumulator || this.accumulator.size < accBytes) {
      // An older accumulator may still be used by recorded, unsubmitted commands: drop it, don't destroy it.
      this.accumulator = this.device.createBuffer({
        size: accBytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
        label: 'splat accumulator',
      });
    }
    for (let base = 0; base < N; base += flowsPerChunk) {
      const nf = Math.min(flowsPerChunk, N - base);
      const params = uniformBuffer(
        this.device,
        [B, nf, C, H, W, args.metric?.shape[0] ?? 1, args.metric?.shape[1] ?? 1, base, N, MODE_CODE[args.mode], LAYOUT_CODE[layout], K],
        'splat atomic params',
      );
      const group = bindGroup(this.device, this.atomicLayout, [
        params,
        args.input,
        args.flows,
        args.metric ?? this.dummyMetric,
        { buffer: this.accumulator, size: B * nf * K * hw * 4 },
        output,
      ]);
      encoder.clearBuffer(this.accumulator, 0, B * nf * K * hw * 4);
      const pass = encoder.beginComputePass({ label: 'splat atomic' });
      pass.setBindGroup(0, group);
      pass.setPipeline(
        this.pipelines.get('scatter', this.atomicLayout, {
          code: atomicSrc,
          preludes: [valuesSrc],
          entryPoint: 'scatter',
          constants: atomicConstants,
        }),
      );
      pass.dispatchWorkgroups(...dispatchGrid(this.device, KERNEL, B * nf * K * hw, WG_ATOMIC, this.gridCap));
      pass.setPipeline(
        this.pipelines.get('normalise', this.atomicLayout, {
          code: atomicSrc,
          preludes: [valuesSrc],
          entryPoint: 'normalise',
          constants: atomicConstants,
        }),
      );
      pass.dispatchWorkgroups(...dispatchGrid(this.device, KERNEL, B * nf * C * hw, WG_ATOMIC, this.gridCap));
      pass.end();
    }
  }

  private encodeScan(pass: GPUComputePassEncoder, offsets: GPUBuffer, levels: GPUBuffer[], n: number): void {
    // Level l holds sizes[l] elements (level 0 = the counts in `offsets`); chunk sums of level
    // l go to levels[l]. Reduce down to a level of at most SCAN_CHUNK elements, scan that one
    // serially, then scan every level below from its (now exclusive-scanned) chunk sums.
    const sizes: number[] = [n];
    while (sizes[sizes.length - 1] > SCAN_CHUNK) sizes.push(Math.ceil(sizes[sizes.length - 1] / SCAN_CHUNK));
    const buffers = [offsets, ...levels];
    const top = sizes.length - 1;
    const groups = sizes.map((size, l) =>
      bindGroup(this.device, this.scanLayout, [
        uniformBuffer(this.device, [size, l === top ? 1 : 0], 'splat scan params'),
        { buffer: buffers[l], size: size * 4 },
        { buffer: buffers[l + 1], size: Math.ceil(size / SCAN_CHUNK) * 4 },
      ]),
    );
    const chunks = (size: number) => dispatchGrid(this.device, KERNEL, Math.ceil(size / SCAN_CHUNK), WG_SCAN, this.gridCap);
    pass.setPipeline(this.scanPipeline('reduce_chunks'));
    for (let l = 0; l < top; l++) {
      pass.setBindGroup(0, groups[l]);
      pass.dispatchWorkgroups(...chunks(sizes[l]));
    }
    pass.setPipeline(this.scanPipeline('scan_chunks'));
    for (let l = top; l >= 0; l--) {
      pass.setBindGroup(0, groups[l]);
      pass.dispatchWorkgroups(...chunks(l === top ? 1 : sizes[l]));
    }
  }

  private ensureScratch(bins: number, sources: number): Scratch {
    if (this.scratch && this.scratch.bins >= bins && this.scratch.sources >= sources) return this.scratch;
    // Buffers of an earlier, smaller scratch may still be referenced by recorded but not yet
    // submitted commands, so they are dropped (garbage-collected), not destroyed.
    bins = Math.max(bins, this.scratch?.bins ?? 0);
    sources = Math.max(sources, this.scratch?.sources ?? 0);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buf = (size: number, label: string) => this.device.createBuffer({ size: Math.max(16, size), usage, label });
    const levels: GPUBuffer[] = [];
    let size = bins + 1;
    do {
      size = Math.ceil(size / SCAN_CHUNK);
      levels.push(buf(size * 4, 'splat scan level'));
    } while (size > 1);
    this.scratch = {
      bins,
      sources,
      tally: buf((bins + 1) * 4, 'splat tally'),
      offsets: buf((bins + 1) * 4, 'splat offsets'),
      entries: buf((sources + 1) * ENTRY_BYTES, 'splat entries'),
      points: buf(sources * POINT_BYTES, 'splat points'),
      levels,
    };
    return this.scratch;
  }

  private dropScratch(): void {
    const s = this.scratch;
    this.scratch = null;
    if (!s) return;
    for (const b of [s.tally, s.offsets, s.entries, s.points, ...s.levels]) b.destroy();
  }

  private validate(args: SplatArgs): SplatPlan {
    const dev = this.device;
    if (!args || typeof args !== 'object') throw new KernelInputError(KERNEL, 'args', 'is missing');
    if (!(args.mode in MODE_CODE)) {
      throw new KernelInputError(KERNEL, 'mode', `is ${JSON.stringify(args.mode)}, expected one of ${Object.keys(MODE_CODE).join(', ')}`);
    }
    const layout = args.layout ?? 'chw';
    const strategy = args.strategy ?? 'gather';
    if (strategy !== 'gather' && strategy !== 'atomic') {
      throw new KernelInputError(KERNEL, 'strategy', `is ${JSON.stringify(args.strategy)}, expected 'gather' or 'atomic'`);
    }
    if (!(layout in LAYOUT_CODE)) {
      throw new KernelInputError(KERNEL, 'layout', `is ${JSON.stringify(args.layout)}, expected 'chw' or 'hwc'`);
    }
    checkTensor(KERNEL, 'input', args.input, { rank: 4, dtype: 'float32' });
    const [B, d1, d2, d3] = args.input.shape;
    const [C, H, W] = layout === 'chw' ? [d1, d2, d3] : [d3, d1, d2];
    checkTensor(KERNEL, 'flows', args.flows, { dtype: 'float32', shape: [undefined, 2, H, W] });
    const N = args.flows.shape[0];
    const needsMetric = args.mode === 'linear' || args.mode === 'soft';
    if (needsMetric) {
      if (!args.metric) throw new KernelInputError(KERNEL, 'metric', `is required in '${args.mode}' mode`);
      checkTensor(KERNEL, 'metric', args.metric, { dtype: 'float32', shape: [undefined, undefined, H, W] });
      const [mb, mn] = args.metric.shape;
      if (mb !== 1 && mb !== B) throw new KernelInputError(KERNEL, 'metric', `has batch ${mb}, expected 1 or ${B} (input batch)`);
      if (mn !== 1 && mn !== N) throw new KernelInputError(KERNEL, 'metric', `has ${mn} flows, expected 1 or ${N} (flow count)`);
    } else if (args.metric) {
      throw new KernelInputError(KERNEL, 'metric', `must be absent in '${args.mode}' mode (the metric is constant)`);
    }
    const outputShape = layout === 'chw' ? [B, N, C, H, W] : [B, N, H, W, C];
    if (args.output) {
      checkTensor(KERNEL, 'output', args.output, { dtype: 'float32', shape: outputShape });
      for (const [name, t] of [
        ['input', args.input],
        ['flows', args.flows],
        ['metric', args.metric],
      ] as const) {
        if (t && t.buffer === args.output.buffer)
          throw new KernelInputError(KERNEL, 'output', `shares its buffer with '${name}'; splatting cannot run in place`);
      }
    }
    checkBindingSize(KERNEL, 'input', byteSize(args.input), dev);
    checkBindingSize(KERNEL, 'flows', byteSize(args.flows), dev);
    if (args.metric) checkBindingSize(KERNEL, 'metric', byteSize(args.metric), dev);
    const outBytes = outputShape.reduce((a, b) => a * b, 1) * 4;
    checkBindingSize(KERNEL, 'output', outBytes, dev);
    if (outBytes > dev.limits.maxBufferSize) {
      throw new KernelInputError(
        KERNEL,
        'output',
        `needs ${outBytes} bytes, over this device's maxBufferSize of ${dev.limits.maxBufferSize}`,
      );
    }

    // Flows per chunk: list storage within one binding, and every index below 2^31.
    const hw = H * W;
    const byStorage = this.flowsPerChunkByStorage(H, W, strategy, B, C);
    const flowsPerChunkByIndex = Math.floor(MAX_INVOCATIONS / (B * (C + 1) * hw));
    const flowsPerChunk = Math.min(N, byStorage, flowsPerChunkByIndex, this.maxFlowsPerChunk);
    if (flowsPerChunk < 1) {
      const what =
        byStorage < 1
          ? `needs ${this.perFlowBytes(H, W, strategy, B, C)} bytes of scratch for one flow, over maxStorageBufferBindingSize ${dev.limits.maxStorageBufferBindingSize}`
          : `has ${B * C * hw} elements per flow, over ${MAX_INVOCATIONS} (index range)`;
      throw new KernelInputError(KERNEL, 'input', what);
    }
    return { B, C, H, W, N, layout, outputShape, flowsPerChunk, flowsPerChunkByIndex, strategy };
  }

  /**
   * Scratch bytes per flow of the largest binding: gather, the landing points (H W vec2<f32>)
   * or the (H+1)(W+1) + 1 bin offsets; atomic, the accumulator (C + 1 channels).
   */
  private perFlowBytes(H: number, W: number, strategy: SplatStrategy, B: number, C: number): number {
    return strategy === 'gather' ? Math.max(H * W * POINT_BYTES, (H + 1) * (W + 1) * 4) : B * (C + 1) * H * W * 4;
  }

  /** Flows per chunk whose scratch fits one binding. */
  private flowsPerChunkByStorage(H: number, W: number, strategy: SplatStrategy, B: number, C: number): number {
    const limit = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    return Math.floor((limit - 16) / this.perFlowBytes(H, W, strategy, B, C));
  }
}
