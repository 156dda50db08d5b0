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
import { bindGroup, bindGroupLayout, dispatchGrid, gridCapOption, PipelineCache, uniformBuffer, submitNow } from './common';

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
      return this.pipelines.get(`gather vec4 ${mode} wg${wg}`, this.gatherLayout, { code: gatherVec4Src, preludes: [valuesSrc, gatherCommonSrc], constants: { WG: wg, ...modes } });
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
    const { B, C, H, W, N, flowsPerChunk, layout } = plan;
    const hw = H * W;
    const output = args.output ?? createTensor(this.device, plan.outputShape, 'float32', 'splat output');
    if (plan.strategy === 'atomic') {
      this.encodeAtomic(encoder, args, plan, output);
      return output;
    }
    const bw = W + 1;
    const scratch = this.ensureScratch(flowsPerChunk * (H + 1) * bw, flowsPerChunk * hw);
    const vec4 = layout === 'hwc' && C % 4 === 0 && C >= VEC4_MIN_CHANNELS;
    const vec4Wg = Math.min(WG_GATHER_VEC4, Math.ceil(C / 4 / VEC4_PER_LANE));
    const gather = this.gatherPipeline(vec4 ? 'vec4' : 'pixels', args.mode, layout, vec4Wg);

    for (let base = 0; base < N; base += flowsPerChunk) {
      const nf = Math.min(flowsPerChunk, N - base);
      const sources = nf * hw;
      const bins = nf * (H + 1) * bw;
      const binParams = uniformBuffer(this.device, [nf, H, W, base], 'splat bin params');
      const binGroup = (tally: GPUBuffer) =>
        bindGroup(this.device, this.binLayout, [
          binParams,
          args.flows,
          { buffer: tally, size: (bins + 1) * 4 },
          { buffer: scratch.offsets, size: (bins + 1) * 4 },
          { buffer: scratch.entries, size: (sources + 1) * ENTRY_BYTES },
          { buffer: scratch.points, size: sources * POINT_BYTES },
        ]);
      const [bx, by] = dispatchGrid(this.device, KERNEL, sources, WG_BIN, this.gridCap);

      // 1. count the sources of each bin (the element past the last bin stays 0)
      encoder.clearBuffer(scratch.tally, 0, (bins + 1) * 4);
      let pass = encoder.beginComputePass({ label: 'splat count' });
      pass.setPipeline(this.binPipeline('count'));
      pass.setBindGroup(0, binGroup(scratch.tally));
      pass.dispatchWorkgroups(bx, by);
      pass.end();
      encoder.copyBufferToBuffer(scratch.tally, 0, scratch.offsets, 0, (bins + 1) * 4);
      encoder.clearBuffer(scratch.tally, 0, (bins + 1) * 4);

      pass = encoder.beginComputePass({ label: 'splat bins' });
      // 2. exclusive scan: bin starts, and the total after the last bin
      this.encodeScan(pass, scratch, bins + 1);
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
          { buffer: scratch.offsets, size: (bins + 1) * 4 },
          { buffer: scratch.entries, size: (sources + 1) * ENTRY_BYTES },
        ]),
      );
      pass.dispatchWorkgroups(...dispatchGrid(this.device, KERNEL, bins, WG_SORT, this.gridCap));
      // 5. gather values
      const gatherParams = uniformBuffer(
        this.device,
        [B, nf, C, H, W, args.metric?.shape[0] ?? 1, args.metric?.shape[1] ?? 1, base, N, 0, 0, 0],
        'splat gather params',
      );
      pass.setPipeline(gather);
      pass.setBindGroup(
        0,
        bindGroup(this.device, this.gatherLayout, [
          gatherParams,
          args.metric ?? this.dummyMetric,
          { buffer: scratch.offsets, size: (bins + 1) * 4 },
          { buffer: scratch.entries, size: (sources + 1) * ENTRY_BYTES },
          { buffer: scratch.points, size: sources * POINT_BYTES },
          args.input,
          output,
        ]),
      );
      const grid = vec4
        ? dispatchGrid(this.device, KERNEL, B * nf * hw, 1, this.gridCap)
        : dispatchGrid(this.device, KERNEL, B * nf * Math.ceil(C / 4) * hw, WG_GATHER, this.gridCap);
      pass.dispatchWorkgroups(...grid);
      pass.end();
    }
    return output;
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

  private encodeAtomic(encoder: GPUCommandEncoder, args: SplatArgs, plan: ReturnType<SoftmaxSplat['validate']>, output: GpuTensor): void {
    const { B, C, H, W, N, flowsPerChunk, layout } = plan;
    const hw = H * W;
    const K = C + (args.mode === 'sum' ? 0 : 1);
    const accBytes = B * flowsPerChunk * K * hw * 4;
    const atomicConstants = { WG: WG_ATOMIC, MODE_SUM: MODE_CODE.sum, MODE_LINEAR: MODE_CODE.linear, MODE_SOFT: MODE_CODE.soft, LAYOUT_HWC: LAYOUT_CODE.hwc };
    if (!this.accumulator || this.accumulator.size < accBytes) {
      // An older accumulator may still be used by recorded, unsubmitted commands: drop it, don't destroy it.
      this.accumulator = this.device.createBuffer({ size: accBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: 'splat accumulator' });
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
      pass.setPipeline(this.pipelines.get('scatter', this.atomicLayout, { code: atomicSrc, preludes: [valuesSrc], entryPoint: 'scatter', constants: atomicConstants }));
      pass.dispatchWorkgroups(...dispatchGrid(this.device, KERNEL, B * nf * K * hw, WG_ATOMIC, this.gridCap));
      pass.setPipeline(this.pipelines.get('normalise', this.atomicLayout, { code: atomicSrc, preludes: [valuesSrc], entryPoint: 'normalise', constants: atomicConstants }));
      pass.dispatchWorkgroups(...dispatchGrid(this.device, KERNEL, B * nf * C * hw, WG_ATOMIC, this.gridCap));
      pass.end();
    }
  }

  private encodeScan(pass: GPUComputePassEncoder, scratch: Scratch, n: number): void {
    // Level l holds sizes[l] elements (level 0 = the counts in `offsets`); chunk sums of level
    // l go to levels[l]. Reduce down to a level of at most SCAN_CHUNK elements, scan that one
    // serially, then scan every level below from its (now exclusive-scanned) chunk sums.
    const sizes: number[] = [n];
    while (sizes[sizes.length - 1] > SCAN_CHUNK) sizes.push(Math.ceil(sizes[sizes.length - 1] / SCAN_CHUNK));
    const buffers = [scratch.offsets, ...scratch.levels];
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

  private validate(args: SplatArgs) {
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
      for (const [name, t] of [['input', args.input], ['flows', args.flows], ['metric', args.metric]] as const) {
        if (t && t.buffer === args.output.buffer) throw new KernelInputError(KERNEL, 'output', `shares its buffer with '${name}'; splatting cannot run in place`);
      }
    }
    checkBindingSize(KERNEL, 'input', byteSize(args.input), dev);
    checkBindingSize(KERNEL, 'flows', byteSize(args.flows), dev);
    if (args.metric) checkBindingSize(KERNEL, 'metric', byteSize(args.metric), dev);
    const outBytes = outputShape.reduce((a, b) => a * b, 1) * 4;
    checkBindingSize(KERNEL, 'output', outBytes, dev);
    if (outBytes > dev.limits.maxBufferSize) {
      throw new KernelInputError(KERNEL, 'output', `needs ${outBytes} bytes, over this device's maxBufferSize of ${dev.limits.maxBufferSize}`);
    }

    // Flows per chunk: list storage within one binding, and every index below 2^31.
    const hw = H * W;
    // gather: the landing points (H W vec2<f32>, the largest binding of its scratch next to the
    // (H+1)(W+1) + 1 bin offsets); atomic: accumulator (C + 1 channels) per flow.
    const perFlowBytes = strategy === 'gather' ? Math.max(hw * POINT_BYTES, (H + 1) * (W + 1) * 4) : B * (C + 1) * hw * 4;
    const byStorage = Math.floor((Math.min(dev.limits.maxStorageBufferBindingSize, dev.limits.maxBufferSize) - 16) / perFlowBytes);
    const byIndex = Math.floor(MAX_INVOCATIONS / (B * (C + 1) * hw));
    const flowsPerChunk = Math.min(N, byStorage, byIndex, this.maxFlowsPerChunk);
    if (flowsPerChunk < 1) {
      const what = byStorage < 1
        ? `needs ${perFlowBytes} bytes of scratch for one flow, over maxStorageBufferBindingSize ${dev.limits.maxStorageBufferBindingSize}`
        : `has ${B * C * hw} elements per flow, over ${MAX_INVOCATIONS} (index range)`;
      throw new KernelInputError(KERNEL, 'input', what);
    }
    return { B, C, H, W, N, layout, outputShape, flowsPerChunk, strategy };
  }
}
