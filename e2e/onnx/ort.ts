/**
 * onnxruntime-web (native WebGPU EP) for tests and benchmarks, imported through Vite so the
 * bare specifier resolves; sessions run on the caller's GPUDevice (the app's shared device).
 */
import * as ort from 'onnxruntime-web/webgpu';

ort.env.wasm.wasmPaths = '/ort/';

export { ort };

/** A session on `device` whose outputs stay on the GPU (`tensor.gpuBuffer`). */
export function createGpuSession(model: Uint8Array, device: GPUDevice): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    executionProviders: [{ name: 'webgpu', device } as ort.InferenceSession.WebGpuExecutionProviderOption],
    preferredOutputLocation: 'gpu-buffer',
  });
}

/** Wraps one of our GPU buffers (tensor) as an ORT input without copying. */
export function gpuInput(t: { buffer: GPUBuffer; shape: readonly number[] }): ort.Tensor {
  return ort.Tensor.fromGpuBuffer(t.buffer as unknown as ort.Tensor.GpuBufferType, { dataType: 'float32', dims: t.shape });
}
