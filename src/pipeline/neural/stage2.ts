/**
 * Stage 2 of Motion-I2V on the GPU: reference image + pixel flows f(0->i) -> video. Same
 * semantics as tools/export/pipelines.py `stage2` (the reference the goldens come from), in the
 * diffusers order: check inputs -> encode prompt -> set timesteps -> encode the reference image
 * (SD VAE, image in [-1, 1], latent times vae_scale) -> prepare latents (noise) -> denoise ->
 * decode (SD VAE per frame, to [0, 1]).
 *
 * Denoising, per step: selective noising (frame 0 of the latents is the clean reference latent;
 * the UNet gives frame 0 the t = 1 embedding itself, as exported), the UNet as the manifest's
 * plan (src/pipeline/neural/plan.ts) with classifier-free guidance (batch [uncond, cond]), the
 * DDIM step, and, except after the last step, the brush blend: in static areas the latents are
 * replaced by the reference latent noised to the next timestep with the initial noise. After the
 * last step frame 0 is the clean latent again.
 *
 * Flows are resized and binned once per run (StageFlows) and reused by every attention of every
 * step. Everything stays on the GPU between sessions and kernels.
 */
import { AbortError, KernelInputError } from '../../errors';
import { DdimStepKernel } from '../../gpu/kernels/ddimStep';
import { Stage1LayoutKernels } from '../../gpu/kernels/stage1Layout';
import { Stage2LayoutKernels } from '../../gpu/kernels/stage2Layout';
import { createTensor, uploadTensor, type GpuTensor } from '../../gpu/tensor';
import type { Manifest } from '../../models/manifest';
import type { ComponentSession, SessionOutput } from '../../models/session';
import { encodeText, type ClipTokenizer } from '../text';
import { gaussian, mulberry32 } from './noise';
import type { Stage2Unet, StageFlows } from './plan';
import type { Stage1Scheduler } from './stage1';

export interface Stage2Sessions {
  textEncoder: ComponentSession;
  vaeEncoder: ComponentSession;
  vaeDecoder: ComponentSession;
  unet: Stage2Unet;
}

export interface Stage2Request {
  /** [1, 3, H, W] float32 reference image in [0, 1] (the pack's canvas). */
  image01: GpuTensor;
  prompt: string;
  negativePrompt: string;
  steps: number;
  /** Classifier-free guidance scale; <= 1 runs the conditional branch only. */
  guidance: number;
  /**
   * Pixel flows f(0->i) at the pack's canvas: [F, 2, H, W] with flow 0 = 0, or [F-1, 2, H, W]
   * (stage 1's output; the zero flow of frame 0 is prepended).
   */
  flows: GpuTensor;
  /** [1, 4, F, h, w] initial noise (the reference's noise_stage2). */
  noise: Float32Array;
  /** [1, 4, h, w] posterior noise of the reference image's VAE encoding (zeros give the mean). */
  imageEps: Float32Array;
  /** [H, W] brush static mask (1 = static: its latents follow the reference image). */
  staticMask?: Float32Array;
}

export interface Stage2Options {
  signal?: AbortSignal;
  /** After each DDIM step: step k (1-based) of n; after each decoded frame: onDecode(f + 1, F). */
  onStep?: (k: number, n: number) => void;
  onDecode?: (k: number, n: number) => void;
}

export interface Stage2Result {
  /** [F, 3, H, W] float32 in [0, 1]. Caller destroys. */
  video: GpuTensor;
  /** [1, 4, F, h, w] final latents (for tests). Caller destroys. */
  latents: GpuTensor;
}

/** Seeded noise of stage 2, drawn in this order: initial latents [1, 4, F, h, w], image VAE posterior [1, 4, h, w]. */
export function stage2Noise(
  seed: number,
  shape: { frames: number; height: number; width: number },
): { noise: Float32Array; imageEps: Float32Array } {
  // another stream than stage 1's for the same seed (stage1Noise uses mulberry32(seed))
  const random = mulberry32((seed ^ 0x5f3759df) >>> 0);
  const plane = 4 * shape.height * shape.width;
  return { noise: gaussian(random, plane * shape.frames), imageEps: gaussian(random, plane) };
}

/** PyTorch 'nearest' to the latent grid (src = floor(dst * in / out)), as the reference downsamples the brush. */
export function nearestMask(mask: ArrayLike<number>, H: number, W: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[y * w + x] = mask[Math.floor((y * H) / h) * W + Math.floor((x * W) / w)];
  }
  return out;
}

export class Stage2Pipeline {
  private readonly layout: Stage2LayoutKernels;
  private readonly layout1: Stage1LayoutKernels;
  private readonly ddim: DdimStepKernel;

  constructor(
    private readonly device: GPUDevice,
    private readonly manifest: Manifest,
    private readonly sessions: Stage2Sessions,
    private readonly tokenizer: ClipTokenizer,
  ) {
    this.layout = new Stage2LayoutKernels(device);
    this.layout1 = new Stage1LayoutKernels(device);
    this.ddim = new DdimStepKernel(device);
  }

  private checkInputs(r: Stage2Request): { F: number; H: number; W: number; h: number; w: number } {
    const m = this.manifest;
    const F = m.frames;
    const { width: W, height: H } = m.canvas;
    const { width: w, height: h } = m.latent;
    const K = 'Stage2';
    const expectLength = (name: string, a: ArrayLike<number> | undefined, n: number, shape: string) => {
      if (!a || a.length !== n) throw new KernelInputError(K, name, `has ${a?.length ?? 0} values, expected ${n} (${shape})`);
    };
    if (r.image01.shape.join() !== [1, 3, H, W].join())
      throw new KernelInputError(K, 'image01', `has shape ${JSON.stringify(r.image01.shape)}, expected [1,3,${H},${W}]`);
    const fs = r.flows.shape;
    if (fs.length !== 4 || (fs[0] !== F && fs[0] !== F - 1) || fs[1] !== 2 || fs[2] !== H || fs[3] !== W || r.flows.dtype !== 'float32') {
      throw new KernelInputError(K, 'flows', `has shape ${JSON.stringify(fs)}, expected [${F} or ${F - 1},2,${H},${W}] float32`);
    }
    if (!Number.isInteger(r.steps) || r.steps < 1) throw new KernelInputError(K, 'steps', `must be a positive integer, got ${r.steps}`);
    if (!Number.isFinite(r.guidance)) throw new KernelInputError(K, 'guidance', `must be finite, got ${r.guidance}`);
    expectLength('noise', r.noise, 4 * F * h * w, `[1,4,${F},${h},${w}]`);
    expectLength('imageEps', r.imageEps, 4 * h * w, `[1,4,${h},${w}]`);
    if (r.staticMask) expectLength('staticMask', r.staticMask, H * W, `[${H},${W}]`);
    return { F, H, W, h, w };
  }

  /** Runs stage 2; rejects with AbortError when `signal` aborts (checked between steps and frames). */
  async run(r: Stage2Request, scheduler: Stage1Scheduler, options: Stage2Options = {}): Promise<Stage2Result> {
    const { F, H, W, h, w } = this.checkInputs(r);
    const { device } = this;
    const s = this.sessions;
    const scale = this.manifest.vae_scale;
    const checkAbort = () => {
      if (options.signal?.aborted) throw new AbortError();
    };
    const buffers: GPUBuffer[] = [];
    const outputs: SessionOutput[] = [];
    const keep = <T extends GpuTensor>(t: T): T => (buffers.push(t.buffer), t);
    let stageFlows: StageFlows | undefined;
    let latents: GpuTensor | undefined;
    let video: GpuTensor | undefined;
    const release = async () => {
      await device.queue.onSubmittedWorkDone();
      stageFlows?.dispose();
      for (const b of buffers) b.destroy();
      for (const o of outputs) o.dispose();
    };
    try {
      checkAbort();
      const cfg = r.guidance > 1;
      const B = cfg ? 2 : 1;

      // encode prompt: [uncond, cond]
      const text = await encodeText(device, this.tokenizer, s.textEncoder, {
        prompt: r.prompt,
        negativePrompt: r.negativePrompt,
        guidance: cfg,
      });
      keep(text.inputIds);
      const context = text.hiddenStates;
      outputs.push(context);

      // set timesteps
      const timesteps = scheduler.setTimesteps(r.steps);

      // flows: frame 0's zero flow, then resized to each attention size and binned, once
      let flow = r.flows;
      if (flow.shape[0] === F - 1) {
        flow = keep(createTensor(device, [F, 2, H, W], 'float32', 'stage-2 flows'));
        const enc = device.createCommandEncoder({ label: 'stage-2 zero flow' });
        enc.copyBufferToBuffer(r.flows.buffer, 0, flow.buffer, 2 * H * W * 4, (F - 1) * 2 * H * W * 4);
        device.queue.submit([enc.finish()]);
      }
      stageFlows = s.unet.prepareFlows(flow);

      // encode the reference image: SD VAE on [-1, 1] (the latent stays unscaled; kernels scale it)
      let enc = device.createCommandEncoder({ label: 'stage-2 image' });
      const signed = keep(this.layout.toSigned(enc, r.image01));
      device.queue.submit([enc.finish()]);
      const eps = keep(uploadTensor(device, r.imageEps, [1, 4, h, w], 'float32', 'stage-2 image eps'));
      const refLatent = (await s.vaeEncoder.run({ image: signed, eps })).latent;
      outputs.push(refLatent);

      // prepare latents
      const sigma = scheduler.initNoiseSigma;
      latents = uploadTensor(device, sigma === 1 ? r.noise : r.noise.map((v) => v * sigma), [1, 4, F, h, w], 'float32', 'stage-2 latents');
      const noise = r.staticMask ? keep(uploadTensor(device, r.noise, [1, 4, F, h, w], 'float32', 'stage-2 noise')) : undefined;
      const still = r.staticMask
        ? keep(uploadTensor(device, nearestMask(r.staticMask, H, W, h, w), [h, w], 'float32', 'brush 1/8'))
        : undefined;
      const latentBytes = 4 * F * h * w * 4;

      // denoise
      for (let k = 0; k < timesteps.length; k++) {
        checkAbort();
        const t = timesteps[k];
        const sample = createTensor(device, [B, 4, F, h, w], 'float32', 'stage-2 sample');
        const timestep = uploadTensor(device, new Float32Array(B).fill(t), [B], 'float32', 'timestep');
        try {
          enc = device.createCommandEncoder({ label: 'stage-2 sample' });
          this.layout.setFrame0(enc, { latents, refLatent, scale });
          for (let b = 0; b < B; b++) enc.copyBufferToBuffer(latents.buffer, 0, sample.buffer, b * latentBytes, latentBytes);
          device.queue.submit([enc.finish()]);
          const noisePred = await s.unet.run({ sample, timestep, encoder_hidden_states: context }, stageFlows);
          const c = scheduler.stepCoefficients(t);
          enc = device.createCommandEncoder({ label: 'stage-2 ddim step' });
          this.ddim.encode(enc, { noisePred, latents, guidance: r.guidance, alphaBar: c.alphaBar, alphaBarPrev: c.alphaBarPrev });
          if (k < timesteps.length - 1 && noise && still) {
            const next = scheduler.stepCoefficients(timesteps[k + 1]).alphaBar;
            this.layout.brushBlend(enc, { latents, refLatent, noise, still, scale, alphaBarNext: next });
          }
          device.queue.submit([enc.finish()]);
          noisePred.dispose();
        } finally {
          sample.buffer.destroy();
          timestep.buffer.destroy();
        }
        // Wait for the GPU so that progress and Cancel follow it (ORT's run() returns once queued).
        await device.queue.onSubmittedWorkDone();
        options.onStep?.(k + 1, timesteps.length);
      }
      checkAbort();
      enc = device.createCommandEncoder({ label: 'stage-2 final frame 0' });
      this.layout.setFrame0(enc, { latents, refLatent, scale });
      device.queue.submit([enc.finish()]);

      // decode, frame by frame (as the reference)
      video = createTensor(device, [F, 3, H, W], 'float32', 'stage-2 video');
      for (let f = 0; f < F; f++) {
        checkAbort();
        enc = device.createCommandEncoder({ label: 'stage-2 frame latent' });
        const z = this.layout1.frameLatent(enc, { latents, frame: f, scale });
        device.queue.submit([enc.finish()]);
        try {
          const decoded = (await s.vaeDecoder.run({ latent: z })).image;
          enc = device.createCommandEncoder({ label: 'stage-2 frame' });
          this.layout.videoFrame(enc, { decoded, video, frame: f });
          device.queue.submit([enc.finish()]);
          decoded.dispose();
        } finally {
          z.buffer.destroy();
        }
        await device.queue.onSubmittedWorkDone();
        options.onDecode?.(f + 1, F);
      }
      await release();
      return { video, latents };
    } catch (e) {
      await release().catch(() => undefined);
      latents?.buffer.destroy();
      video?.buffer.destroy();
      throw e;
    }
  }
}
