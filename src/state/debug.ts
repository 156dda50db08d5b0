/**
 * A read-only hook on `window.__motionI2V` for browser tests and for curious users in the
 * console: the current project and the stage-1 conditions the engines will receive.
 */
import { buildSparseConditions, type SparseConditions } from '../motion/conditions';
import type { Project } from '../motion/types';
import { gpuManager } from './gpu';
import { getCanvasImageData } from './image';
import { useProjectStore } from './project';

export interface MotionI2VDebug {
  project(): Project;
  conditions(): SparseConditions;
  canvasImage(): Promise<ImageData>;
  /** Destroys the GPU device as a loss would (checks that the editor keeps the work). */
  simulateGpuLoss(): Promise<void>;
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
    simulateGpuLoss: () => gpuManager.simulateLoss(),
  };
}
