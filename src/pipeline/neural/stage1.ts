/**
 * Stage 1 of Motion-I2V on the GPU: reference image -> dense pixel flows f(0->i), i = 1..F-1.
 * Same semantics as tools/export/pipelines.py `stage1` (the reference the goldens come from), in
 * the diffusers order: check inputs -> encode prompt -> set timesteps -> prepare latents (image
 * latent, noise, ControlNet condition) -> denoise (DDIM + classifier-free guidance, batch
 * [uncond, cond], frame-stride condition, ControlNet residuals) -> decode (flow VAE, pixels,
 * brush).
 *
 * Classifier-free guidance runs its two halves in one batch of 2, or one after the other at batch
 * 1 (same numbers, half the UNet's working set) when the batch-2 graph's largest tensor would not
 * fit the device's maxStorageBufferBindingSize (`chooseGuidanceBatching`, from the manifest's shapes).
 *
 * Everything stays on the GPU between sessions and kernels; the only uploads are what the CPU
 * makes (token ids, noise, the sparse condition from src/motion, timesteps, strides) and nothing
 * is read back. Scaling quirks kept from the reference: the SD VAE sees the image in [0,1] and
 * its latent is times vae_scale; the ControlNet condition is the flow-VAE posterior sample NOT
 * scaled plus the mask downsampled 1/8 by nearest; flow decode is latent / vae_scale -> decoder
 * -> clamp(2v - 1, -1, 1) * (W, H) -> times (1 - brush static mask).
 *
 * The pieces are swappable: the scheduler (any object with setTimesteps/stepCoefficients), the
 * tokenizer and the sessions are passed in.
 */
import { AbortError, KernelInputError } from '../../errors';
import { DdimStepKernel } from '../../gpu/kernels/ddimStep';
import { Stage1LayoutKernels } from '../../gpu/kernels/stage1Layout';
import { byteSize, createTensor, numel, uploadTensor, type GpuTensor } from '../../gpu/tensor';
import type { ComponentName, Manifest } from '../../models/manifest';
import type { ComponentSession, SessionOutput } from '../../models/session';
import type { DdimStepCoefficients } from '../scheduler';
import { encodeText, type ClipTokenizer } from '../text';
import { chooseGuidanceBatching, type GuidanceBatching } from './memory';

/** What stage 1 needs from a scheduler (src/pipeline/scheduler.ts DdimScheduler has it). */
export interface Stage1Scheduler {
  readonly initNoiseSigma: number;
  setTimesteps(n: number): number[];
  stepCoefficients(t: number): DdimStepCoefficients;
}

export interface Stage1Sessions {
  textEncoder: ComponentSession;
  vaeEncoder: ComponentSession;
  flowVaeEncoder: ComponentSession;
  flowVaeDecoder: ComponentSession;
  unet: ComponentSession;
  /** Needed when the request has a `control`. */
  controlnet?: ComponentSession;
}

/** Stage 1's sessions, created one after another through `get` (the engine's loader; the GPU kit's I2V benchmark). */
export async function loadStage1Sessions(get: (name: ComponentName) => Promise<ComponentSession>): Promise<Stage1Sessions> {
  return {
    textEncoder: await get('text_encoder'),
    vaeEncoder: await get('vae_encoder'),
    flowVaeEncoder: await get('flow_vae_encoder'),
    flowVaeDecoder: await get('flow_vae_decoder'),
    controlnet: await get('controlnet'),
    unet: await get('stage1_unet'),
  };
}

export interface Stage1Control {
  /** [F1, 2, H, W] sparse flow in the flow VAE's [0,1] units (0.5 = no motion), frames 1..F-1. */
  sparseFlow01: Float32Array;
  /** [F1, H, W] or [H, W] (one plane for all frames): 1 where the flow is known. */
  mask: Float32Array;
  /** [F1, 4, h, w] posterior noise of the flow-VAE encoding (zeros give the mean). */
  eps: Float32Array;
  /** Residual scale (the reference's control_scale, 1). */
  scale: number;
}

export interface Stage1Request {
  /** [1, 3, H, W] float32 reference image in [0, 1]. */
  image01: GpuTensor;
  prompt: string;
  negativePrompt: string;
  steps: number;
  /** Classifier-free guidance scale; <= 1 runs the conditional branch only. */
  guidance: number;
  /** Frame-stride condition, one per stage-1 frame (the reference's 8, 16, ...). */
  strides: readonly number[];
  /** [1, 4, F1, h, w] initial noise (the reference's noise_stage1). */
  noise: Float32Array;
  /** [1, 4, h, w] posterior noise of the image's VAE encoding. */
  imageEps: Float32Array;
  control?: Stage1Control;
  /** [H, W] brush static mask (1 = static: its flow is zeroed). */
  staticMask?: Float32Array;
}

export interface Stage1Options {
  signal?: AbortSignal;
  /** After each DDIM step: step k (1-based) of n. */
  onStep?: (k: number, n: number) => void;
  /**
   * How the two CFG halves run: one batch of 2, or batch 1 twice; default: chosen from the
   * manifest's shapes against the device's limits (`chooseGuidanceBatching`).
   */
  guidanceBatching?: GuidanceBatching;
}

export interface Stage1Result {
  /** [F1, 2, H, W] pixel flows f(0->i), i = 1..F-1 (the zero flow of frame 0 is not stored). Caller destroys. */
  flows: GpuTensor;
  /** [1, 4, F1, h, w] final latents (for tests). Caller destroys. */
  latents: GpuTensor;
}

/** Buffers of one run, destroyed together once the GPU is done with them. */
class RunScope {
  private readonly buffers: GPUBuffer[] = [];
  private readonly outputs: SessionOutput[] = [];
  constructor(private readonly device: GPUDevice) {}
  keep<T extends GpuTensor>(t: T): T {
    this.buffers.push(t.buffer);
    return t;
  }
  keepOutput<T extends SessionOutput>(t: T): T {
    this.outputs.push(t);
    return t;
  }
  upload(data: Float32Array | Int32Array, shape: readonly number[], label: string): GpuTensor {
    return this.keep(uploadTensor(this.device, data, shape, data instanceof Int32Array ? 'int32' : 'float32', label));
  }
  async close(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    for (const b of this.buffers) b.destroy();
    for (const o of this.outputs) o.dispose();
  }
}

export class Stage1Pipeline {
  private readonly layout: Stage1LayoutKernels;
  private readonly ddim: DdimStepKernel;

  constructor(
    private readonly device: GPUDevice,
    private readonly manifest: Manifest,
    private readonly sessions: Stage1Sessions,
    private readonly tokenizer: ClipTokenizer,
  ) {
    this.layout = new Stage1LayoutKernels(device);
    this.ddim = new DdimStepKernel(device);
  }

  private checkInputs(r: Stage1Request): { F1: number; H: number; W: number; h: number; w: number } {
    const m = this.manifest;
    const F1 = m.stage1_frames;
    const { width: W, height: H } = m.canvas;
    const { width: w, height: h } = m.latent;
    const K = 'Stage1';
    const expectLength = (name: string, a: ArrayLike<number> | undefined, n: number, shape: string) => {
      if (!a || a.length !== n) throw new KernelInputError(K, name, `has ${a?.length ?? 0} values, expected ${n} (${shape})`);
    };
    if (r.image01.shape.join() !== [1, 3, H, W].join())
      throw new KernelInputError(K, 'image01', `has shape ${JSON.stringify(r.image01.shape)}, expected [1,3,${H},${W}]`);
    if (!Number.isInteger(r.steps) || r.steps < 1) throw new KernelInputError(K, 'steps', `must be a positive integer, got ${r.steps}`);
    if (!Number.isFinite(r.guidance)) throw new KernelInputError(K, 'guidance', `must be finite, got ${r.guidance}`);
    expectLength('strides', r.strides, F1, `${F1} frames`);
    expectLength('noise', r.noise, 4 * F1 * h * w, `[1,4,${F1},${h},${w}]`);
    expectLength('imageEps', r.imageEps, 4 * h * w, `[1,4,${h},${w}]`);
    if (r.staticMask) expectLength('staticMask', r.staticMask, H * W, `[${H},${W}]`);
    if (r.control) {
      if (!this.sessions.controlnet) throw new KernelInputError(K, 'control', 'was given but no ControlNet session was loaded');
      expectLength('control.sparseFlow01', r.control.sparseFlow01, F1 * 2 * H * W, `[${F1},2,${H},${W}]`);
      if (r.control.mask.length !== H * W && r.control.mask.length !== F1 * H * W) {
        throw new KernelInputError(K, 'control.mask', `has ${r.control.mask.length} values, expected ${H * W} or ${F1 * H * W}`);
      }
      expectLength('control.eps', r.control.eps, F1 * 4 * h * w, `[${F1},4,${h},${w}]`);
    }
    return { F1, H, W, h, w };
  }

  /** Runs stage 1; rejects with AbortError when `signal` aborts (checked between steps). */
  async run(r: Stage1Request, scheduler: Stage1Scheduler, options: Stage1Options = {}): Promise<Stage1Result> {
    const { F1, H, W, h, w } = this.checkInputs(r);
    const { device } = this;
    const s = this.sessions;
    const scale = this.manifest.vae_scale;
    const signal = options.signal;
    const checkAbort = () => {
      if (signal?.aborted) throw new AbortError();
    };
    const scope = new RunScope(device);
    const owned: GpuTensor[] = [];
    try {
      checkAbort();
      const cfg = r.guidance > 1;
      const B = cfg ? 2 : 1;
      const sequential =
        cfg &&
        (options.guidanceBatching ?? chooseGuidanceBatching(this.manifest, device.limits.maxStorageBufferBindingSize)) === 'sequential';
      // batch of one UNet / ControlNet call
      const NB = sequential ? 1 : B;

      // encode prompt: [uncond, cond]
      const text = await encodeText(device, this.tokenizer, s.textEncoder, {
        prompt: r.prompt,
        negativePrompt: r.negativePrompt,
        guidance: cfg,
      });
      scope.keep(text.inputIds);
      const context = scope.keepOutput(text.hiddenStates);
      // [uncond], [cond] when the halves run one after the other
      const contexts = sequential ? [0, 1].map((i) => scope.keep(this.batchRow(context, i))) : [context];

      // set timesteps
      const timesteps = scheduler.setTimesteps(r.steps);

      // prepare latents: image latent (unscaled; the sample kernel scales it), noise, condition
      const imageLatent = scope.keepOutput(
        (await s.vaeEncoder.run({ image: r.image01, eps: scope.upload(r.imageEps, [1, 4, h, w], 'image eps') })).latent,
      );
      const sigma = scheduler.initNoiseSigma;
      const latents = uploadTensor(
        device,
        sigma === 1 ? r.noise : r.noise.map((v) => v * sigma),
        [1, 4, F1, h, w],
        'float32',
        'flow latents',
      );
      owned.push(latents);
      const stride = scope.upload(
        Float32Array.from({ length: NB * F1 }, (_, i) => r.strides[i % F1]),
        [NB, F1],
        'stride',
      );
      const control = r.control ? scope.keep(await this.prepareControl(r.control, NB, { F1, H, W, h, w }, scope, checkAbort)) : undefined;
      const controlScale = r.control ? scope.upload(new Float32Array([r.control.scale]), [1], 'control scale') : undefined;
      const zeroResiduals = r.control ? undefined : this.zeroResiduals(NB * F1, scope);

      // denoise
      for (let k = 0; k < timesteps.length; k++) {
        checkAbort();
        const t = timesteps[k];
        // per-step inputs and outputs are released as soon as this step's work is submitted: later
        // writes into reused memory (ORT's pool) are queued after it, and destroy() waits for it
        const sample = createTensor(device, [NB, 8, F1, h, w], 'float32', 'unet sample');
        const timestep = uploadTensor(device, new Float32Array(NB).fill(t), [NB], 'float32', 'timestep');
        // sequential halves write their noise predictions into one [2, 4, F1, h, w] for the CFG kernel
        const halves = sequential ? createTensor(device, [2, 4, F1, h, w], 'float32', 'noise pred, both halves') : undefined;
        try {
          let enc = device.createCommandEncoder({ label: 'stage-1 sample' });
          this.layout.assembleSample(enc, { imageLatent, latents, batch: NB, scale, output: sample });
          device.queue.submit([enc.finish()]);
          let eps: SessionOutput | undefined;
          for (let i = 0; i < contexts.length; i++) {
            const common = { sample, timestep, encoder_hidden_states: contexts[i], stride };
            const out = await this.predictNoise(
              common,
              control && controlScale ? { control, control_scale: controlScale } : undefined,
              zeroResiduals,
            );
            if (!halves) {
              eps = out;
              continue;
            }
            const bytes = byteSize(out);
            enc = device.createCommandEncoder({ label: 'stage-1 noise pred half' });
            enc.copyBufferToBuffer(out.buffer, 0, halves.buffer, i * bytes, bytes);
            device.queue.submit([enc.finish()]);
            out.dispose();
          }
          const c = scheduler.stepCoefficients(t);
          enc = device.createCommandEncoder({ label: 'stage-1 ddim step' });
          this.ddim.encode(enc, {
            noisePred: halves ?? eps!,
            latents,
            guidance: r.guidance,
            alphaBar: c.alphaBar,
            alphaBarPrev: c.alphaBarPrev,
          });
          device.queue.submit([enc.finish()]);
          eps?.dispose();
        } finally {
          sample.buffer.destroy();
          timestep.buffer.destroy();
          halves?.buffer.destroy();
        }
        // Wait for the GPU: ORT's run() returns once its work is queued, so without this the
        // steps would be "done" in seconds while the GPU is still minutes behind (a software
        // GPU), progress would sit at the last step and Cancel would land after all of them.
        await device.queue.onSubmittedWorkDone();
        options.onStep?.(k + 1, timesteps.length);
      }
      checkAbort();

      // decode
      const flows = await this.decodeInto(latents, r.staticMask, scope);
      owned.push(flows);
      await scope.close();
      return { flows, latents };
    } catch (e) {
      await scope.close().catch(() => undefined);
      for (const t of owned) t.buffer.destroy();
      throw e;
    }
  }

  /** ControlNet (when a condition is given, else zero residuals) then the UNet: noise_pred [NB, 4, F1, h, w]. */
  private async predictNoise(
    common: Record<string, GpuTensor>,
    control: { control: GpuTensor; control_scale: GpuTensor } | undefined,
    zeroResiduals: Record<string, GpuTensor> | undefined,
  ): Promise<SessionOutput> {
    const s = this.sessions;
    let residuals: Record<string, GpuTensor>;
    let controlOut: Record<string, SessionOutput> | undefined;
    if (control && s.controlnet) {
      controlOut = await s.controlnet.run({ ...common, ...control });
      residuals = controlOut;
    } else {
      residuals = zeroResiduals!;
    }
    try {
      const unetInputs: Record<string, GpuTensor> = { ...common };
      for (const spec of this.manifest.components.stage1_unet.inputs) {
        if (spec.name in common) continue;
        const res = residuals[spec.name];
        if (!res) throw new KernelInputError('Stage1', spec.name, 'is a UNet input that no ControlNet output provides');
        unetInputs[spec.name] = res;
      }
      return (await s.unet.run(unetInputs)).noise_pred;
    } finally {
      // the UNet's work is queued: later writes into this memory (ORT's pool) are queued after it
      if (controlOut) for (const o of Object.values(controlOut)) o.dispose();
    }
  }

  /** Row i of a batch-first tensor [B, ...] as its own [1, ...] tensor (caller destroys). */
  private batchRow(t: GpuTensor, i: number): GpuTensor {
    const shape = [1, ...t.shape.slice(1)];
    const row = createTensor(this.device, shape, t.dtype, 'batch row');
    const bytes = byteSize(row);
    const enc = this.device.createCommandEncoder({ label: 'stage-1 batch row' });
    enc.copyBufferToBuffer(t.buffer, i * bytes, row.buffer, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    return row;
  }

  /** The flow decode alone: latents [1, 4, F1, h, w] -> flows [F1, 2, H, W] (caller destroys). */
  async decodeFlows(latents: GpuTensor, staticMask?: Float32Array): Promise<GpuTensor> {
    const scope = new RunScope(this.device);
    try {
      return await this.decodeInto(latents, staticMask, scope);
    } finally {
      await scope.close();
    }
  }

  /** The ControlNet condition alone (caller destroys): [B, 5, F1, h, w]. */
  async buildControl(c: Stage1Control, batch: number): Promise<GpuTensor> {
    const m = this.manifest;
    const scope = new RunScope(this.device);
    try {
      return await this.prepareControl(
        c,
        batch,
        { F1: m.stage1_frames, H: m.canvas.height, W: m.canvas.width, h: m.latent.height, w: m.latent.width },
        scope,
        () => undefined,
      );
    } finally {
      await scope.close();
    }
  }

  /** Per frame through the flow VAE decoder (the reference decodes frame by frame too). */
  private async decodeInto(latents: GpuTensor, staticMaskData: Float32Array | undefined, scope: RunScope): Promise<GpuTensor> {
    const { device } = this;
    const F1 = this.manifest.stage1_frames;
    const { width: W, height: H } = this.manifest.canvas;
    const scale = this.manifest.vae_scale;
    const flows = createTensor(device, [F1, 2, H, W], 'float32', 'stage-1 flows');
    try {
      const staticMask = scope.keep(
        staticMaskData
          ? uploadTensor(device, staticMaskData, [H, W], 'float32', 'brush static mask')
          : createTensor(device, [H, W], 'float32', 'no brush'),
      );
      for (let f = 0; f < F1; f++) {
        let enc = device.createCommandEncoder({ label: 'stage-1 frame latent' });
        const z = this.layout.frameLatent(enc, { latents, frame: f, scale });
        device.queue.submit([enc.finish()]);
        try {
          const decoded = (await this.sessions.flowVaeDecoder.run({ latent: z })).image;
          enc = device.createCommandEncoder({ label: 'stage-1 flow decode' });
          this.layout.decodeFlow(enc, { decoded, staticMask, frame: f, flows });
          device.queue.submit([enc.finish()]);
          decoded.dispose();
        } finally {
          z.buffer.destroy();
        }
      }
      return flows;
    } catch (e) {
      flows.buffer.destroy();
      throw e;
    }
  }

  /** control [B, 5, F1, h, w] = [flow-VAE posterior sample of (s - 0.5) * m + 0.5 (NOT scaled), mask nearest 1/8]. */
  private async prepareControl(
    c: Stage1Control,
    B: number,
    d: { F1: number; H: number; W: number; h: number; w: number },
    scope: RunScope,
    checkAbort: () => void,
  ): Promise<GpuTensor> {
    const { F1, H, W, h, w } = d;
    const plane = H * W;
    const perFrameMask = c.mask.length === F1 * plane;
    const maskAt = (f: number, i: number) => c.mask[(perFrameMask ? f * plane : 0) + i];
    // nearest 1/8 (PyTorch 'nearest' with an output size: src = floor(dst * in / out))
    const mask8 = new Float32Array(F1 * h * w);
    for (let f = 0; f < F1; f++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) mask8[(f * h + y) * w + x] = maskAt(f, Math.floor((y * H) / h) * W + Math.floor((x * W) / w));
      }
    }
    const control = createTensor(this.device, [B, 5, F1, h, w], 'float32', 'control');
    const mask8t = scope.upload(mask8, [F1, h, w], 'control mask 1/8');
    try {
      await this.encodeControlFrames(c, control, mask8t, d, checkAbort);
    } catch (e) {
      control.buffer.destroy();
      throw e;
    }
    return control;
  }

  private async encodeControlFrames(
    c: Stage1Control,
    control: GpuTensor,
    mask8t: GpuTensor,
    d: { F1: number; H: number; W: number; h: number; w: number },
    checkAbort: () => void,
  ): Promise<void> {
    const { F1, H, W, h, w } = d;
    const plane = H * W;
    const perFrameMask = c.mask.length === F1 * plane;
    const maskAt = (f: number, i: number) => c.mask[(perFrameMask ? f * plane : 0) + i];
    for (let f = 0; f < F1; f++) {
      checkAbort();
      const flow = new Float32Array(2 * plane);
      for (let ch = 0; ch < 2; ch++) {
        for (let i = 0; i < plane; i++) flow[ch * plane + i] = (c.sparseFlow01[(f * 2 + ch) * plane + i] - 0.5) * maskAt(f, i) + 0.5;
      }
      const image = uploadTensor(this.device, flow, [1, 2, H, W], 'float32', 'sparse flow frame');
      const eps = uploadTensor(
        this.device,
        c.eps.subarray(f * 4 * h * w, (f + 1) * 4 * h * w),
        [1, 4, h, w],
        'float32',
        'control eps frame',
      );
      try {
        const lat = (await this.sessions.flowVaeEncoder.run({ image, eps })).latent;
        const enc = this.device.createCommandEncoder({ label: 'stage-1 control' });
        this.layout.scatterControl(enc, { frameLatent: lat, mask8: mask8t, frame: f, control });
        this.device.queue.submit([enc.finish()]);
        lat.dispose();
      } finally {
        image.buffer.destroy();
        eps.buffer.destroy();
      }
    }
  }

  /** Zero down/mid residuals for the UNet without ControlNet, shapes from the manifest. */
  private zeroResiduals(batchFrames: number, scope: RunScope): Record<string, GpuTensor> {
    const out: Record<string, GpuTensor> = {};
    for (const spec of this.manifest.components.stage1_unet.inputs) {
      if (!/residual/.test(spec.name)) continue;
      const shape = spec.shape.map((d) => (typeof d === 'number' ? d : d === 'batch_frames' ? batchFrames : NaN));
      if (shape.some((d) => !Number.isInteger(d)))
        throw new KernelInputError('Stage1', spec.name, `has an unknown dimension in ${JSON.stringify(spec.shape)}`);
      out[spec.name] = scope.keep(createTensor(this.device, shape, 'float32', spec.name));
    }
    return out;
  }

  /** Stage-1 input [1, 3, H, W] in [0,1] from the engine's packed RGBA8 image [H, W]. Caller destroys. */
  unpackImage(image: GpuTensor): GpuTensor {
    const enc = this.device.createCommandEncoder({ label: 'stage-1 image' });
    const out = this.layout.unpackRgb01(enc, image);
    this.device.queue.submit([enc.finish()]);
    return out;
  }
}

/** Element count check used by callers that build noise. */
export function latentNoiseLength(manifest: Manifest): number {
  return numel([1, 4, manifest.stage1_frames, manifest.latent.height, manifest.latent.width]);
}
