/**
 * The stage-2 UNet as the manifest's plan (tools/export/README.md, "Stage-2 cut"): ONNX
 * segments and, between them, the WGSL motion-augmented attention on shared GPU buffers: the
 * segment before the cut projects the tokens (qkv, frame 0's [k | v], the projected position
 * table); here flow resize -> splat of frame 0's [k | v] ('hwc', 2C channels) -> MotionAttention
 * (shaders/motion_attention.wgsl); the segment after applies to_out and the residual.
 *
 * Under guidance (batch 2) each entry warps its own frame 0 (plan `frame0_batch: 'same'`). A pack
 * exported with `--frame0-batch reference_quirk` asks for the authors' mixing instead: entry b
 * warps frame 0 of entry frame0Source(b, j) with flow j + 1. Since the splat of one entry's
 * frame 0 with flow j does not depend on who asks for it, that is the 'same' splat with its
 * (entry, flow) slices copied to other entries: buffer copies on the GPU, no other kernel. It needs
 * both entries in one call; stage 2 always runs guidance batched (batch 1 is the unguided run,
 * where both modes agree).
 *
 * Tensors live in a name -> GPU buffer map (the plan's names are SSA: unique within one call);
 * a liveness pass over the plan gives each name its last reader, and the buffer is released as
 * soon as that reader's work is submitted (ORT outputs go back to ORT's pool, our warped and
 * attention buffers are destroyed; both are safe once submitted: later writes queue behind). The
 * graph inputs belong to the caller and are never released here.
 *
 * Flows are resized once per feature size and binned once per flow set (`prepareFlows`), and the
 * same StageFlows serves every attention at that size in every step: stage 2 splats with the
 * same 4 flow sets (full size) some thousand times per video.
 */
import { KernelInputError } from '../../errors';
import { FlowResize } from '../../gpu/kernels/flowResize';
import { MotionAttention } from '../../gpu/kernels/motionAttention';
import { SoftmaxSplat, type SplatBins } from '../../gpu/kernels/splat';
import { createTensor, type GpuTensor } from '../../gpu/tensor';
import type {
  FileEntry,
  Frame0Batch,
  Manifest,
  MotionAttentionPlanStep,
  PlanStep,
  Precision,
  SegmentedComponentSpec,
  TensorSpec,
} from '../../models/manifest';
import { checkStage2Plan } from '../../models/packCheck';
import { ComponentSession, type ExternalData, type SessionOutput } from '../../models/session';
import type { PackSource } from '../../models/source';
import { AppError } from '../../errors';

/** The UNet call's own inputs (the flows come separately, as a StageFlows). */
export interface Stage2UnetInputs {
  /** [B, 4, F, h, w] */
  sample: GpuTensor;
  /** [B] */
  timestep: GpuTensor;
  /** [B, L, D] */
  encoder_hidden_states: GpuTensor;
}

export interface Stage2UnetRunOptions {
  /**
   * Test hook: called with every tensor the plan produces (segment outputs, each attention's
   * warped frame-0 [k | v] and output), before it can
   * be released. Awaited, so it may read the tensor back.
   */
  inspect?: (name: string, t: GpuTensor) => void | Promise<void>;
}

/** Flows resized to each attention size of the plan and binned once; dispose() when the flow set is done. */
export class StageFlows {
  disposed = false;
  constructor(
    /** [F, 2, h, w] per size key `${h}x${w}` (the plan's resized_flow names are `flow_${h}x${w}`). */
    readonly resized: ReadonlyMap<string, GpuTensor>,
    readonly bins: ReadonlyMap<string, SplatBins>,
  ) {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.bins.values()) b.dispose();
    for (const t of this.resized.values()) t.buffer.destroy();
  }
}

const KERNEL = 'Stage2Unet';

/**
 * The batch entry whose frame 0 entry `b` warps with flow j + 1 (j = 0 .. frames-2) in a batch of
 * `batch`: its own, or (b (frames-1) + j) mod batch as the authors' code indexes it (a repeat where
 * a reshape was meant; tools/export/softsplat.py frame0_source).
 */
export function frame0Source(b: number, j: number, batch: number, frames: number, mode: Frame0Batch): number {
  return mode === 'same' ? b : (b * (frames - 1) + j) % batch;
}

/** For every name the plan reads, the index of the last step that reads it. */
export function lastReaders(plan: readonly PlanStep[]): Map<string, number> {
  const last = new Map<string, number>();
  plan.forEach((s, i) => {
    for (const n of s.kind === 'onnx' ? s.inputs : [s.qkv, s.frame0_kv, s.pe]) last.set(n, i);
  });
  return last;
}

/**
 * Checks that the plan is runnable before anything is loaded (models/packCheck.ts: names,
 * segments, sizes handed between steps, noise_pred). parseManifest already ran it; a spec built
 * in code (tests) is checked here again.
 */
export function checkPlan(spec: SegmentedComponentSpec, packName?: string, frames?: number): void {
  checkStage2Plan(spec, packName, frames);
}

export class Stage2Unet {
  private readonly resize: FlowResize;
  private readonly splat: SoftmaxSplat;
  private readonly attention: MotionAttention;
  /** Per attention size, frame 0's warped [k | v] (scratch between splat and attention). */
  private readonly warped = new Map<string, GpuTensor>();
  /** Per attention size, each entry's own warped frame 0 before the quirk's reordering. */
  private readonly ownWarped = new Map<string, GpuTensor>();
  private readonly last: Map<string, number>;
  private disposed = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly spec: SegmentedComponentSpec,
    /** Sessions by segment index. */
    private readonly sessions: ReadonlyMap<number, ComponentSession>,
  ) {
    checkPlan(spec);
    this.resize = new FlowResize(device);
    this.splat = new SoftmaxSplat(device);
    this.attention = new MotionAttention(device);
    this.last = lastReaders(spec.plan);
  }

  /** Creates one session per segment (checked against the manifest), in plan order. */
  /** `onSegment(k, n)` is told before segment k of n loads (progress words). */
  static async load(
    source: PackSource,
    manifest: Manifest,
    precision: Precision,
    device: GPUDevice,
    onSegment?: (k: number, n: number) => void,
  ): Promise<Stage2Unet> {
    const spec = manifest.components.stage2_unet;
    if (!spec) throw new AppError('model-pack', `The model pack "${manifest.name}" has no stage-2 UNet. Install a pack with stage 2.`);
    checkPlan(spec, manifest.name, manifest.frames);
    const sessions = new Map<number, ComponentSession>();
    try {
      for (const [k, seg] of spec.segments.entries()) {
        onSegment?.(k, spec.segments.length);
        const files: FileEntry[] | undefined = seg.files[precision];
        const name = `stage2_unet.seg${String(seg.index).padStart(2, '0')}`;
        if (!files?.length)
          throw new AppError(
            'model-pack',
            `The model pack has no ${precision} file for "${name}". Choose another variant or reinstall the pack.`,
          );
        const model = await source(files[0].path);
        const external: ExternalData[] = [];
        for (const f of files.slice(1)) external.push({ path: f.path.split('/').pop()!, data: await source(f.path) });
        const io = { inputs: seg.inputs.map(asSpec), outputs: seg.outputs.map(asSpec) };
        sessions.set(seg.index, await ComponentSession.create(name, precision, io, model, device, external));
      }
    } catch (e) {
      await Promise.all([...sessions.values()].map((s) => s.dispose()));
      throw e;
    }
    return new Stage2Unet(device, spec, sessions);
  }

  /** The attention sizes of the plan, `${h}x${w}`. */
  get sizes(): string[] {
    return [...new Set(this.attentions().map((s) => `${s.height}x${s.width}`))];
  }

  /**
   * Resizes `flow` [F, 2, H, W] (pixel flows f(0 -> i), flow 0 = 0) to every attention size of the
   * plan and bins each once. The caller disposes the result; `flow` may be freed afterwards.
   */
  prepareFlows(flow: GpuTensor): StageFlows {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    const frames = this.attentions()[0]?.frames;
    if (flow.shape.length !== 4 || flow.shape[0] !== frames || flow.shape[1] !== 2) {
      throw new KernelInputError(KERNEL, 'flow', `has shape ${JSON.stringify(flow.shape)}, expected [${frames}, 2, H, W]`);
    }
    const resized = new Map<string, GpuTensor>();
    const bins = new Map<string, SplatBins>();
    const enc = this.device.createCommandEncoder({ label: 'stage-2 flows' });
    for (const s of this.attentions()) {
      const key = `${s.height}x${s.width}`;
      if (resized.has(key)) continue;
      const r = this.resize.encode(enc, { flows: flow, height: s.height, width: s.width });
      resized.set(key, r);
      bins.set(key, this.splat.prepareBins(enc, r, { first: 1 }));
    }
    this.device.queue.submit([enc.finish()]);
    return new StageFlows(resized, bins);
  }

  /** One UNet call; returns noise_pred [B, 4, F, h, w] (the caller disposes it). */
  async run(inputs: Stage2UnetInputs, flows: StageFlows, options: Stage2UnetRunOptions = {}): Promise<SessionOutput> {
    if (this.disposed) throw new KernelInputError(KERNEL, 'this', 'was disposed');
    if (flows.disposed) throw new KernelInputError(KERNEL, 'flows', 'were disposed');
    // owned tensors by name, with how to release them
    const live = new Map<string, { t: GpuTensor; release: () => void }>();
    const get = (name: string): GpuTensor => {
      if (name in inputs) return inputs[name as keyof Stage2UnetInputs];
      const e = live.get(name);
      if (!e) throw new KernelInputError(KERNEL, name, 'is read by the plan but was not produced');
      return e.t;
    };
    const releaseAfter = (step: number) => {
      for (const [name, e] of live) {
        if (name === 'noise_pred') continue;
        const last = this.last.get(name);
        if (last === undefined || last <= step) {
          e.release();
          live.delete(name);
        }
      }
    };
    try {
      for (let i = 0; i < this.spec.plan.length; i++) {
        const s = this.spec.plan[i];
        if (s.kind === 'onnx') {
          const session = this.sessions.get(s.segment)!;
          const feeds: Record<string, GpuTensor> = {};
          for (const n of s.inputs) feeds[n] = get(n);
          const out = await session.run(feeds);
          for (const n of s.outputs) {
            const o = out[n];
            if (!o) throw new KernelInputError(KERNEL, n, `is not an output of segment ${s.segment}`);
            live.set(n, { t: o, release: () => o.dispose() });
            await options.inspect?.(n, o);
          }
          for (const [n, o] of Object.entries(out)) if (!s.outputs.includes(n)) o.dispose();
        } else {
          const key = `${s.height}x${s.width}`;
          const bins = flows.bins.get(key);
          if (!bins) throw new KernelInputError(KERNEL, 'flows', `have no bins at ${key}`);
          const qkv = get(s.qkv);
          const kv0 = get(s.frame0_kv);
          const B = kv0.shape[0];
          const P = s.height * s.width;
          const C = s.channels;
          const shape = [B, s.frames - 1, s.height, s.width, 2 * C];
          const warped = this.scratchAt(this.warped, key, shape, 'warped k|v');
          const mixes = s.frame0_batch !== 'same' && B > 1;
          const own = mixes ? this.scratchAt(this.ownWarped, key, shape, 'own warped k|v') : warped;
          const enc = this.device.createCommandEncoder({ label: 'stage-2 motion attention' });
          this.splat.encodeGather(enc, bins, { input: kv0, mode: 'avg', layout: 'hwc', output: own });
          if (mixes) {
            const slice = P * 2 * C * 4;
            for (let b = 0; b < B; b++) {
              for (let j = 0; j < s.frames - 1; j++) {
                const from = frame0Source(b, j, B, s.frames, s.frame0_batch) * (s.frames - 1) + j;
                enc.copyBufferToBuffer(own.buffer, from * slice, warped.buffer, (b * (s.frames - 1) + j) * slice, slice);
              }
            }
          }
          const out = this.attention.encode(enc, {
            qkv: { buffer: qkv.buffer, dtype: qkv.dtype, shape: [B, s.frames, P, 3 * C] },
            warped: { buffer: warped.buffer, dtype: warped.dtype, shape: [B, s.frames - 1, P, 2 * C] },
            pe: get(s.pe),
            heads: s.heads,
          });
          this.device.queue.submit([enc.finish()]);
          await options.inspect?.(s.warped, warped);
          const o: GpuTensor = { buffer: out.buffer, dtype: out.dtype, shape: [B * s.frames, s.height, s.width, C] };
          live.set(s.output, { t: o, release: () => out.buffer.destroy() });
          await options.inspect?.(s.output, o);
        }
        releaseAfter(i);
      }
      const np = live.get('noise_pred');
      if (!np) throw new KernelInputError(KERNEL, 'noise_pred', 'was not produced by the plan');
      live.delete('noise_pred');
      return np.t as SessionOutput;
    } finally {
      for (const e of live.values()) e.release();
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.splat.dispose();
    this.attention.dispose();
    for (const t of [...this.warped.values(), ...this.ownWarped.values()]) t.buffer.destroy();
    await Promise.all([...this.sessions.values()].map((s) => s.dispose()));
  }

  /**
   * A warped frame-0 [k | v] buffer of one attention size, reused by every attention at that
   * size: the queue runs each attention's splat and kernel before the next one's splat.
   */
  private scratchAt(cache: Map<string, GpuTensor>, key: string, shape: number[], what: string): GpuTensor {
    const t = cache.get(key);
    if (t && t.shape.join() === shape.join()) return t;
    // a previous buffer may still be read by submitted work: destroy() waits for it
    t?.buffer.destroy();
    const n = createTensor(this.device, shape, 'float32', `stage-2 ${what} ${key}`);
    cache.set(key, n);
    return n;
  }

  private attentions(): MotionAttentionPlanStep[] {
    return this.spec.plan.filter((s): s is MotionAttentionPlanStep => s.kind === 'motion_attention');
  }
}

/** Segment I/O in the manifest: TensorSpecs (the exporter writes them), or bare names. */
function asSpec(x: string | TensorSpec): TensorSpec {
  return typeof x === 'string' ? { name: x, dtype: 'float32', shape: [] } : x;
}
