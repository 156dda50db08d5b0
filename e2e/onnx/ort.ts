/**
 * onnxruntime-web (native WebGPU EP) for tests and benchmarks: the product's session factory
 * (src/models/session.ts), so tests run ORT exactly as the app does, on the caller's GPUDevice.
 */
import type * as ortTypes from 'onnxruntime-web/webgpu';
import { ort, createGpuSession } from '../../src/models/session';

export { ort, createGpuSession };

/** Wraps one of our GPU buffers (tensor) as an ORT input without copying. */
export function gpuInput(t: { buffer: GPUBuffer; shape: readonly number[] }): ortTypes.Tensor {
  return ort.Tensor.fromGpuBuffer(t.buffer as unknown as ortTypes.Tensor.GpuBufferType, { dataType: 'float32', dims: t.shape });
}
