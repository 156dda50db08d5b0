/**
 * Which engines the worker can build, by kind. A factory gets the worker's GPUDevice (the one
 * device all compute runs on, ORT sessions included) and the job's config for that engine
 * (e.g. which model pack). A kind missing here is refused with EngineUnavailableError, whose
 * message says what to install; adding an engine is one line in one of these tables.
 */
import { ClassicalEngine } from './classical';
import type { EngineConfig, MotionEngine, MotionKind, RenderEngine, RenderKind } from './engine';
import { TrackedMotionEngine } from './tracked';

export type EngineFactory<E> = (device: GPUDevice, config: EngineConfig) => E;

/** One classical engine per device serves both stages (its pipelines are compiled once). */
const classical = new WeakMap<GPUDevice, ClassicalEngine>();
function classicalOn(device: GPUDevice): ClassicalEngine {
  let engine = classical.get(device);
  if (!engine) classical.set(device, (engine = new ClassicalEngine(device)));
  return engine;
}

export const MOTION_ENGINES: Partial<Record<MotionKind, EngineFactory<MotionEngine>>> = {
  classical: classicalOn,
  // Video-to-video: flows tracked in the job's source frames (EngineInput.sourceFrames).
  tracked: (device, config) => new TrackedMotionEngine(device, config),
};

export const RENDER_ENGINES: Partial<Record<RenderKind, EngineFactory<RenderEngine>>> = {
  classical: classicalOn,
};
