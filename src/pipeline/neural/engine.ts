/**
 * NeuralMotionEngine: stage 1 of Motion-I2V (src/pipeline/neural/stage1.ts) behind the app's
 * MotionEngine interface. `motion()` turns a Project + reference image into dense flows with the
 * diffusion UNet and the trajectory ControlNet; `render()` is stage 2, which this engine does not
 * have yet (the classical renderer renders its flows).
 *
 * Canvas: a pack is exported for one canvas (the tiny test pack: 64 x 48; the real one: 512 x
 * 320). When the project's canvas differs, the image is resized to the pack's canvas (bilinear),
 * trajectories, brush and Flow Unit are scaled with it, stage 1 runs at the pack's size, and the
 * flows are resized back to the project's canvas with their displacements rescaled (FlowResize)
 * and the brush is applied again at that resolution (static pixels stay exactly still).
 * Frames: a pack predicts a fixed number of frames; a project asking for another number is
 * refused with a message saying which number to choose (no temporal resampling is invented).
 *
 * Sessions are created on first use (lazily) from the PackSource and kept until dispose().
 */
import { AppError, AbortError } from '../../errors';
import { FlowResize } from '../../gpu/kernels/flowResize';
import { Stage1LayoutKernels } from '../../gpu/kernels/stage1Layout';
import { uploadTensor, type GpuTensor } from '../../gpu/tensor';
import { staticMask } from '../../motion/brush';
import { buildSparseConditions } from '../../motion/conditions';
import type { Project } from '../../motion/types';
import type { ComponentName, Manifest, Precision } from '../../models/manifest';
import type { ComponentSession } from '../../models/session';
import { chooseVariant } from '../../models/signature';
import { loadComponent, type PackSource } from '../../models/source';
import { flowCount, type EngineInput, type Flows, type Frames, type MotionEngine, type RunOptions } from '../engine';
import { schedulerFromManifest } from '../scheduler';
import { ClipTokenizer, DEFAULT_NEGATIVE_PROMPT } from '../text';
import { STAGE1_COMPONENTS } from './memory';
import { stage1Noise } from './noise';
import { loadingDetail, STARTING_DETAIL } from './progressWords';
import { loadStage1Sessions, Stage1Pipeline } from './stage1';

/** Per-run settings of the neural motion stage. */
export interface NeuralMotionSettings {
  prompt: string;
  /** Empty: the authors' default negative prompt. */
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  /** Motion strength: the frame-stride condition of frame i is motionStride * i (reference: 8). */
  motionStride: number;
  /** ControlNet residual scale (reference: 1). */
  controlScale: number;
  /** Zero-terminal-SNR betas with trailing timesteps (Lin et al. 2024) instead of the reference's. */
  zeroTerminalSnr: boolean;
}

/** Settings from the project (prompt, negative prompt, seed, steps, guidance, stride, ControlNet scale), else the manifest's defaults. */
export function defaultNeuralSettings(manifest: Manifest, project?: Project): NeuralMotionSettings {
  const s = project?.settings;
  return {
    prompt: s?.prompt ?? '',
    negativePrompt: s?.negativePrompt || DEFAULT_NEGATIVE_PROMPT,
    seed: s?.seed ?? 42,
    steps: s?.steps ?? manifest.scheduler.num_inference_steps,
    guidance: s?.guidance ?? manifest.scheduler.guidance_scale,
    motionStride: s?.motionStride ?? manifest.strides[0] ?? 8,
    controlScale: s?.controlScale ?? 1,
    zeroTerminalSnr: manifest.scheduler.zero_terminal_snr,
  };
}

export interface NeuralEngineOptions {
  device: GPUDevice;
  manifest: Manifest;
  source: PackSource;
  /** Adapter features for the variant choice. */
  features: { shaderF16: boolean };
  /** The user's variant override. */
  precision?: Precision;
  /** Overrides per run, on top of defaultNeuralSettings(manifest, project). */
  settings?: (project: Project) => Partial<NeuralMotionSettings>;
}

export class NeuralMotionEngine implements MotionEngine {
  readonly kind = 'neural' as const;
  readonly precision: Precision;
  private loaded: Promise<{ pipeline: Stage1Pipeline; sessions: ComponentSession[] }> | null = null;
  private readonly layout: Stage1LayoutKernels;
  private readonly resize: FlowResize;
  private disposed = false;

  constructor(private readonly options: NeuralEngineOptions) {
    this.precision = chooseVariant(options.manifest.precisions, options.features, options.precision);
    this.layout = new Stage1LayoutKernels(options.device);
    this.resize = new FlowResize(options.device);
  }

  /** Loads every stage-1 session once; `onLoading` hears which one is loading (first call only). */
  private load(
    onLoading?: (detail: string, fraction: number) => void,
  ): Promise<{ pipeline: Stage1Pipeline; sessions: ComponentSession[] }> {
    this.loaded ??= (async () => {
      const { source, manifest, device } = this.options;
      const sessions: ComponentSession[] = [];
      try {
        const get = async (name: ComponentName) => {
          const k = sessions.length;
          onLoading?.(loadingDetail(k, STAGE1_COMPONENTS.length, name), k / STAGE1_COMPONENTS.length);
          const s = await loadComponent(source, manifest, name, this.precision, device);
          sessions.push(s);
          return s;
        };
        const s = await loadStage1Sessions(get);
        const dec = new TextDecoder();
        const tokenizer = ClipTokenizer.fromFiles(
          dec.decode(await source(manifest.tokenizer.vocab)),
          dec.decode(await source(manifest.tokenizer.merges)),
          manifest.tokenizer.max_length,
        );
        return { pipeline: new Stage1Pipeline(device, manifest, s, tokenizer), sessions };
      } catch (e) {
        for (const s of sessions) void s.dispose();
        this.loaded = null;
        throw e;
      }
    })();
    return this.loaded;
  }

  async motion(input: EngineInput, options: RunOptions = {}): Promise<Flows> {
    if (this.disposed) throw new AppError('model-pack', 'The neural engine was closed; start the generation again.');
    const { manifest, device } = this.options;
    const { signal } = options;
    const report = (stage: 'prepare' | 'motion', fraction: number) => options.onProgress?.({ stage, fraction });
    const abortIfNeeded = () => {
      if (signal?.aborted) throw new AbortError();
    };
    abortIfNeeded();
    const project = input.project;
    const F1 = manifest.stage1_frames;
    if (flowCount(project) !== F1) {
      throw new AppError(
        'model-pack',
        `The model pack "${manifest.name}" makes ${manifest.frames}-frame videos (frame 0 included); the project asks for ${project.settings.frames}. ` +
          `Set Frames to ${manifest.frames} to use the neural engine.`,
      );
    }
    const settings = { ...defaultNeuralSettings(manifest, project), ...this.options.settings?.(project) };
    const { width: W, height: H } = project.canvas;
    if (input.image.shape[0] !== H || input.image.shape[1] !== W) {
      throw new AppError(
        'kernel-input',
        `The reference image is ${input.image.shape[1]}x${input.image.shape[0]} but the canvas is ${W}x${H}.`,
      );
    }
    report('prepare', 0);
    const { pipeline } = await this.load((detail, fraction) =>
      options.onProgress?.({ stage: 'prepare', fraction: 0.9 * fraction, detail }),
    );
    abortIfNeeded();
    const { width: pw, height: ph } = manifest.canvas;
    const { width: lw, height: lh } = manifest.latent;

    // conditions at the pack's canvas
    const scaled = scaleProject(project, pw, ph);
    const cond = buildSparseConditions(scaled, { frames: manifest.frames });
    const plane = pw * ph;
    const noise = stage1Noise(settings.seed, { frames: F1, height: lh, width: lw });

    const enc = device.createCommandEncoder({ label: 'neural image' });
    const image01 = this.layout.resizeRgb01(enc, input.image, ph, pw);
    device.queue.submit([enc.finish()]);
    report('prepare', 1);
    options.onProgress?.({ stage: 'motion', fraction: 0, detail: STARTING_DETAIL });
    let small: GpuTensor | undefined;
    try {
      const result = await pipeline.run(
        {
          image01,
          prompt: settings.prompt,
          negativePrompt: settings.negativePrompt || DEFAULT_NEGATIVE_PROMPT,
          steps: settings.steps,
          guidance: settings.guidance,
          strides: Array.from({ length: F1 }, (_, i) => settings.motionStride * (i + 1)),
          noise: noise.noise,
          imageEps: noise.imageEps,
          control: {
            sparseFlow01: cond.normalized.subarray(2 * plane),
            mask: cond.mask,
            eps: noise.controlEps,
            scale: settings.controlScale,
          },
          staticMask: cond.staticMask,
        },
        schedulerFromManifest(manifest.scheduler, { zeroTerminalSnr: settings.zeroTerminalSnr }),
        { signal, onStep: (k, n) => options.onProgress?.({ stage: 'motion', fraction: (0.9 * k) / n, step: k, steps: n }) },
      );
      result.latents.buffer.destroy();
      small = result.flows;
      if (pw === W && ph === H) {
        const flows = small;
        small = undefined;
        report('motion', 1);
        return { tensor: flows, width: W, height: H, count: F1 };
      }
      const tensor = this.resize.run({ flows: small, height: H, width: W });
      // the brush again at full resolution: resizing blurs the static edge by a pixel
      const still = uploadTensor(
        device,
        Float32Array.from(staticMask(project.brush, project.canvas)),
        [H, W],
        'float32',
        'brush static mask',
      );
      const enc2 = device.createCommandEncoder({ label: 'neural brush' });
      this.layout.maskFlows(enc2, tensor, still);
      device.queue.submit([enc2.finish()]);
      await device.queue.onSubmittedWorkDone();
      still.buffer.destroy();
      report('motion', 1);
      return { tensor, width: W, height: H, count: F1 };
    } finally {
      image01.buffer.destroy();
      small?.buffer.destroy();
    }
  }

  render(_input: EngineInput, _flows: Flows, _options?: RunOptions): Promise<Frames> {
    return Promise.reject(
      new AppError(
        'model-pack',
        'Neural rendering comes with stage 2 of the neural runtime, which is not built yet. Render with the classical engine; it uses the neural motion as it is.',
      ),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const loaded = this.loaded;
    this.loaded = null;
    void loaded?.then((l) => Promise.all(l.sessions.map((s) => s.dispose()))).catch(() => undefined);
  }
}

/** The project's trajectories, brush and Flow Unit in another canvas's pixels (same picture, other size). */
export function scaleProject(project: Project, width: number, height: number): Project {
  const sx = width / project.canvas.width;
  const sy = height / project.canvas.height;
  if (sx === 1 && sy === 1) return project;
  const pt = (p: { x: number; y: number }) => ({ x: p.x * sx, y: p.y * sy });
  return {
    ...project,
    canvas: { width, height },
    trajectories: project.trajectories.map((t) => ({ ...t, points: t.points.map(pt) })),
    brush: project.brush.map((b) => ({ ...b, radius: b.radius * Math.sqrt(sx * sy), points: b.points.map(pt) })),
    settings: { ...project.settings, flowUnit: Math.max(1, Math.round(project.settings.flowUnit * Math.sqrt(sx * sy))) },
  };
}
