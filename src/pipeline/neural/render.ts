/**
 * Neural rendering (stage 2 of Motion-I2V) behind the app's render contract: reference image +
 * Flows -> Frames. `NeuralRenderer.render` is what NeuralMotionEngine.render() can delegate to;
 * `renderNeural` is the one-shot form (sessions created and released around one render).
 *
 * Canvas: a pack is exported for one canvas. When the image/flows canvas differs, the image is
 * resized to the pack's canvas (bilinear), the flows with FlowResize (displacements rescaled)
 * and the brush by nearest; stage 2 runs at the pack's size and the frames are resized back
 * (bilinear) when packed to RGBA8. Frame 0 of the result is the reference image itself (the
 * Frames contract), frames 1..N are the decoded video's.
 *
 * Fusion (the paper's ablations, Table 2): only 'attention' (the released model) can run. The
 * other two rows of the table are separately trained models ('none': no stage 1, plain 1-D
 * temporal attention; 'additive': warped features added to the frames' features), not switches of
 * the released weights, and the exported graphs hard-wire the 2F-1-token motion attention, so
 * they are refused with a message rather than imitated.
 */
import { AbortError, AppError } from '../../errors';
import { FlowResize } from '../../gpu/kernels/flowResize';
import { Stage1LayoutKernels } from '../../gpu/kernels/stage1Layout';
import { Stage2LayoutKernels } from '../../gpu/kernels/stage2Layout';
import type { GpuTensor } from '../../gpu/tensor';
import type { Manifest, Precision } from '../../models/manifest';
import type { ComponentSession } from '../../models/session';
import { chooseVariant } from '../../models/signature';
import { loadComponent, type PackSource } from '../../models/source';
import { loadingDetail, STARTING_DETAIL } from './progressWords';
import { staticMask } from '../../motion/brush';
import type { Project } from '../../motion/types';
import type { EngineInput, Flows, Frames, RenderEngine, RunOptions } from '../engine';
import { schedulerFromManifest } from '../scheduler';
import { ClipTokenizer, DEFAULT_NEGATIVE_PROMPT } from '../text';
import { Stage2Unet } from './plan';
import { nearestMask, Stage2Pipeline, stage2Noise } from './stage2';

/** How the warped reference features reach the frames (the paper's ablation, Table 2). */
export type MotionFusion = 'attention' | 'additive' | 'none';

export interface NeuralRenderSettings {
  prompt: string;
  /** Empty: the authors' default negative prompt. */
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  /** Zero-terminal-SNR betas with trailing timesteps instead of the reference's. */
  zeroTerminalSnr: boolean;
  /** Only 'attention' runs with the released model (see the file header). */
  fusion: MotionFusion;
}

export function defaultRenderSettings(manifest: Manifest): NeuralRenderSettings {
  return {
    prompt: '',
    negativePrompt: DEFAULT_NEGATIVE_PROMPT,
    seed: 42,
    steps: manifest.scheduler.num_inference_steps,
    guidance: manifest.scheduler.guidance_scale,
    zeroTerminalSnr: manifest.scheduler.zero_terminal_snr,
    fusion: 'attention',
  };
}

export interface NeuralRendererOptions {
  device: GPUDevice;
  manifest: Manifest;
  source: PackSource;
  /** Adapter features for the variant choice. */
  features: { shaderF16: boolean };
  /** The user's variant override. */
  precision?: Precision;
}

export interface NeuralRenderInput {
  /** Reference image, packed RGBA8 uint32 [H, W] (the project's canvas). */
  image: GpuTensor;
  /** [N, 2, H, W] pixel flows f(0->i), i = 1..N; stage 2 prepends the zero flow of frame 0. */
  flows: Flows;
  /** [H, W] brush static mask (1 = static), optional. */
  staticMask?: Float32Array;
}

interface Loaded {
  pipeline: Stage2Pipeline;
  sessions: ComponentSession[];
  unet: Stage2Unet;
}

export class NeuralRenderer {
  readonly precision: Precision;
  private loaded: Promise<Loaded> | null = null;
  private readonly layout1: Stage1LayoutKernels;
  private readonly layout2: Stage2LayoutKernels;
  private readonly resize: FlowResize;
  private disposed = false;

  constructor(private readonly options: NeuralRendererOptions) {
    this.precision = chooseVariant(options.manifest.precisions, options.features, options.precision);
    this.layout1 = new Stage1LayoutKernels(options.device);
    this.layout2 = new Stage2LayoutKernels(options.device);
    this.resize = new FlowResize(options.device);
  }

  /** Loads the stage-2 sessions once; `onLoading` hears which one is loading (first call only). */
  private load(onLoading?: (detail: string, fraction: number) => void): Promise<Loaded> {
    this.loaded ??= (async () => {
      const { source, manifest, device } = this.options;
      const sessions: ComponentSession[] = [];
      let unet: Stage2Unet | undefined;
      const parts = 4;
      try {
        const get = async (name: 'text_encoder' | 'vae_encoder' | 'vae_decoder') => {
          onLoading?.(loadingDetail(sessions.length, parts, name), sessions.length / parts);
          const s = await loadComponent(source, manifest, name, this.precision, device);
          sessions.push(s);
          return s;
        };
        const textEncoder = await get('text_encoder');
        const vaeEncoder = await get('vae_encoder');
        const vaeDecoder = await get('vae_decoder');
        unet = await Stage2Unet.load(source, manifest, this.precision, device, (k, n) =>
          onLoading?.(loadingDetail(3, parts, 'stage2_unet', { k, n }), (3 + k / n) / parts),
        );
        const dec = new TextDecoder();
        const tokenizer = ClipTokenizer.fromFiles(
          dec.decode(await source(manifest.tokenizer.vocab)),
          dec.decode(await source(manifest.tokenizer.merges)),
          manifest.tokenizer.max_length,
        );
        return { pipeline: new Stage2Pipeline(device, manifest, { textEncoder, vaeEncoder, vaeDecoder, unet }, tokenizer), sessions, unet };
      } catch (e) {
        for (const s of sessions) void s.dispose();
        void unet?.dispose();
        this.loaded = null;
        throw e;
      }
    })();
    return this.loaded;
  }

  /** Frames [N + 1, H, W] packed RGBA8, frame 0 = the image. Progress: 'prepare', then 'render' per step and per decoded frame. */
  async render(input: NeuralRenderInput, settings: NeuralRenderSettings, options: RunOptions = {}): Promise<Frames> {
    if (this.disposed) throw new AppError('model-pack', 'The neural renderer was closed; start the rendering again.');
    const { manifest, device } = this.options;
    const { signal } = options;
    const report = (stage: 'prepare' | 'render', fraction: number) => options.onProgress?.({ stage, fraction });
    const abortIfNeeded = () => {
      if (signal?.aborted) throw new AbortError();
    };
    abortIfNeeded();
    if (settings.fusion !== 'attention') {
      throw new AppError(
        'model-pack',
        `The "${settings.fusion === 'none' ? 'no motion guidance' : 'additive fusion'}" ablation is a separately trained model in the paper; the model pack "${manifest.name}" has only attention fusion. Choose attention fusion.`,
      );
    }
    const { flows } = input;
    const N = manifest.frames - 1;
    if (flows.count !== N) {
      throw new AppError(
        'model-pack',
        `The model pack "${manifest.name}" makes ${manifest.frames}-frame videos (frame 0 included); the motion has ${flows.count + 1} frames. Set Frames to ${manifest.frames} to render with the neural engine.`,
      );
    }
    const { width: W, height: H } = flows;
    if (input.image.shape[0] !== H || input.image.shape[1] !== W) {
      throw new AppError(
        'kernel-input',
        `The reference image is ${input.image.shape[1]}x${input.image.shape[0]} but the motion is ${W}x${H}; make the motion again.`,
      );
    }
    report('prepare', 0);
    const { pipeline } = await this.load((detail, fraction) =>
      options.onProgress?.({ stage: 'prepare', fraction: 0.9 * fraction, detail }),
    );
    abortIfNeeded();
    const { width: pw, height: ph } = manifest.canvas;
    const { width: lw, height: lh } = manifest.latent;
    const same = pw === W && ph === H;
    const noise = stage2Noise(settings.seed, { frames: manifest.frames, height: lh, width: lw });
    const enc = device.createCommandEncoder({ label: 'neural render inputs' });
    const image01 = this.layout1.resizeRgb01(enc, input.image, ph, pw);
    const packFlows = same ? flows.tensor : this.resize.encode(enc, { flows: flows.tensor, height: ph, width: pw });
    device.queue.submit([enc.finish()]);
    const staticMask = input.staticMask && (same ? input.staticMask : nearestMask(input.staticMask, H, W, ph, pw));
    report('prepare', 1);
    options.onProgress?.({ stage: 'render', fraction: 0, detail: STARTING_DETAIL });
    let video: GpuTensor | undefined;
    try {
      const result = await pipeline.run(
        {
          image01,
          prompt: settings.prompt,
          negativePrompt: settings.negativePrompt || DEFAULT_NEGATIVE_PROMPT,
          steps: settings.steps,
          guidance: settings.guidance,
          flows: packFlows,
          noise: noise.noise,
          imageEps: noise.imageEps,
          staticMask,
        },
        schedulerFromManifest(manifest.scheduler, { zeroTerminalSnr: settings.zeroTerminalSnr }),
        {
          signal,
          onStep: (k, n) => options.onProgress?.({ stage: 'render', fraction: (0.9 * k) / n, step: k, steps: n }),
          onDecode: (k, n) => report('render', 0.9 + (0.1 * k) / n),
        },
      );
      result.latents.buffer.destroy();
      video = result.video;
      const enc2 = device.createCommandEncoder({ label: 'neural frames' });
      const frames = this.layout2.packRgba(enc2, video, H, W);
      // frame 0 is the reference image itself (the Frames contract), not its VAE round trip
      enc2.copyBufferToBuffer(input.image.buffer, 0, frames.buffer, 0, W * H * 4);
      device.queue.submit([enc2.finish()]);
      await device.queue.onSubmittedWorkDone();
      return { tensor: frames, width: W, height: H, count: N + 1 };
    } finally {
      image01.buffer.destroy();
      if (!same) packFlows.buffer.destroy();
      video?.buffer.destroy();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const loaded = this.loaded;
    this.loaded = null;
    void loaded?.then((l) => Promise.all([...l.sessions.map((s) => s.dispose()), l.unet.dispose()])).catch(() => undefined);
  }
}

/** One render with sessions created for it and released after (NeuralRenderer keeps them between renders). */
export async function renderNeural(
  pack: NeuralRendererOptions,
  input: NeuralRenderInput,
  settings: Partial<NeuralRenderSettings>,
  options: RunOptions = {},
): Promise<Frames> {
  const renderer = new NeuralRenderer(pack);
  try {
    return await renderer.render(input, { ...defaultRenderSettings(pack.manifest), ...settings }, options);
  } finally {
    renderer.dispose();
  }
}

/** Stage-2 settings from the project (prompt, negative prompt, seed, steps, guidance), else the manifest's. */
export function projectRenderSettings(manifest: Manifest, project: Project): NeuralRenderSettings {
  const s = project.settings;
  return {
    ...defaultRenderSettings(manifest),
    prompt: s.prompt,
    negativePrompt: s.negativePrompt || DEFAULT_NEGATIVE_PROMPT,
    seed: s.seed,
    steps: s.steps,
    guidance: s.guidance,
  };
}

/**
 * Stage 2 behind the app's RenderEngine seam: renders any engine's flows (neural, classical or
 * tracked) with the pack's video UNet. The brush's static area is blended from the reference
 * latent, as the authors' pipeline does; the project's settings drive the run.
 */
export class NeuralRenderEngine implements RenderEngine {
  readonly kind = 'neural' as const;
  private readonly renderer: NeuralRenderer;
  constructor(private readonly options: NeuralRendererOptions) {
    this.renderer = new NeuralRenderer(options);
  }
  get precision(): Precision {
    return this.renderer.precision;
  }
  render(input: EngineInput, flows: Flows, options: RunOptions = {}): Promise<Frames> {
    const { project } = input;
    const still = project.brush.length ? Float32Array.from(staticMask(project.brush, project.canvas)) : undefined;
    return this.renderer.render(
      { image: input.image, flows, staticMask: still },
      projectRenderSettings(this.options.manifest, project),
      options,
    );
  }
  dispose(): void {
    this.renderer.dispose();
  }
}
