/**
 * A read-only hook on `window.__motionI2V` for browser tests and for the console in dev and
 * test builds (main.tsx installs it only when the build mode is not 'production'): the current
 * project, the stage-1 conditions the engines will receive, and a simulated GPU loss.
 */
import { buildSparseConditions, type SparseConditions } from '../motion/conditions';
import type { Project } from '../motion/types';
import type { SimulatedFault } from '../pipeline/client';
import { getEngineClient } from './gpu';
import { getCanvasImageData } from './image';
import { useProjectStore } from './project';

export interface MotionI2VDebug {
  project(): Project;
  conditions(): SparseConditions;
  canvasImage(): Promise<ImageData>;
  /** Makes the engine worker lose its GPU device, as a driver reset would. */
  simulateGpuLoss(): void;
  /** The engine worker's next job meets a fault: broken flows out of its motion stage, or GPU memory exhausted at its `atSession`-th model session (SimulatedFault). */
  simulateFault(fault: SimulatedFault, atSession?: number): void;
}

declare global {
  interface Window {
    __motionI2V?: MotionI2VDebug;
  }
}

export function installDebugHook(): void {
  window.__motionI2V = {
    project: () => useProjectStore.getState().project,
    conditions: () => buildSparseConditions(useProjectStore.getState().project),
    canvasImage: () => getCanvasImageData(useProjectStore.getState().project),
    simulateGpuLoss: () => getEngineClient().simulateDeviceLoss(),
    simulateFault: (fault, atSession) => getEngineClient().simulateFault(fault, atSession),
  };
}
