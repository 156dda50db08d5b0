/**
 * Which engines the worker can build, by kind. A factory gets the worker's GPUDevice (the one
 * device all compute runs on, ORT sessions included) and the job's config for that engine
 * (e.g. which model pack). A kind missing here is refused with EngineUnavailableError, whose
 * message says what to install; adding an engine is one line in one of these tables.
 */
import { AppError } from '../errors';
import { openPack } from '../models/store';
import { ClassicalEngine } from './classical';
import type { EngineConfig, MotionEngine, MotionKind, RenderEngine, RenderKind } from './engine';
import { NeuralMotionEngine } from './neural/engine';
import { NeuralRenderEngine } from './neural/render';
import { TrackedMotionEngine } from './tracked';

/** What a factory may want to know about the device's adapter. */
export interface EngineGpu {
  /** A software adapter (SwiftShader): correct but slow. */
  isFallbackAdapter: boolean;
}

/** Builds an engine; may be async (a neural engine first opens its pack from OPFS). */
export type EngineFactory<E> = (device: GPUDevice, config: EngineConfig, gpu: EngineGpu) => E | Promise<E>;

/**
 * One classical engine per device serves both stages (its pipelines are compiled once). On a
 * software adapter holes get the smooth background fill instead of the patch fill: the patch
 * search makes a whole job about 2.4x slower there (bench/README.md, holes), and it is the
 * preview engine people wait on.
 */
const classical = new WeakMap<GPUDevice, ClassicalEngine>();
function classicalOn(device: GPUDevice, _config: EngineConfig, gpu: EngineGpu): ClassicalEngine {
  let engine = classical.get(device);
  if (!engine) classical.set(device, (engine = new ClassicalEngine(device, { holeFill: gpu.isFallbackAdapter ? 'background' : 'patch' })));
  return engine;
}

/**
 * The installed pack whose id is `config.pack` (OPFS, readable in the worker). A pack removed
 * since it was chosen fails with ModelPackError('not-installed'), whose message says to install
 * it again; the job's project is never touched.
 */
async function packOptions(device: GPUDevice, config: EngineConfig) {
  if (typeof config.pack !== 'string' || !config.pack) {
    throw new AppError('engine-unavailable', 'Install a model pack to use the neural engine, or choose the Classical engine.');
  }
  const pack = await openPack(config.pack);
  return {
    device,
    manifest: pack.manifest,
    source: (path: string) => pack.read(path),
    features: { shaderF16: device.features.has('shader-f16') },
    precision: pack.variant,
  };
}

/** Neural stage 1 (diffusion UNet + trajectory ControlNet) from the chosen pack. */
async function neuralMotionOn(device: GPUDevice, config: EngineConfig): Promise<MotionEngine> {
  return new NeuralMotionEngine(await packOptions(device, config));
}

/** Neural stage 2 (video UNet with motion-augmented attention) from the chosen pack. */
async function neuralRenderOn(device: GPUDevice, config: EngineConfig): Promise<RenderEngine> {
  return new NeuralRenderEngine(await packOptions(device, config));
}

export const MOTION_ENGINES: Partial<Record<MotionKind, EngineFactory<MotionEngine>>> = {
  classical: classicalOn,
  neural: neuralMotionOn,
  // Video-to-video: flows tracked in the job's source frames (EngineInput.sourceFrames).
  tracked: (device, config) => new TrackedMotionEngine(device, config),
};

export const RENDER_ENGINES: Partial<Record<RenderKind, EngineFactory<RenderEngine>>> = {
  classical: classicalOn,
  neural: neuralRenderOn,
};
