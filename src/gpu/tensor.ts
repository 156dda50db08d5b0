/**
 * GPU tensors: a GPUBuffer plus the shape and dtype that give it meaning. Row-major, innermost
 * dimension last, like PyTorch/ONNX. ORT outputs and our kernels exchange these directly; the
 * buffer may be larger than the tensor (ORT rounds sizes up), so always bind `byteSize(t)`.
 */
import { KernelInputError } from '../errors';

export type DType = 'float32' | 'int32' | 'uint32' | 'float16';

export interface GpuTensor {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  int32: 4,
  uint32: 4,
  float16: 2,
};

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function byteSize(t: { shape: readonly number[]; dtype: DType }): number {
  return numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
}

/** Storage buffers must be bound in multiples of 4 bytes. */
export function alignedByteSize(t: { shape: readonly number[]; dtype: DType }): number {
  return Math.ceil(byteSize(t) / 4) * 4;
}

/** STORAGE | COPY_SRC | COPY_DST, as numbers so this module also loads where WebGPU globals are absent (unit tests, workers before init). */
export const TENSOR_USAGE = 0x80 | 0x04 | 0x08;

export function createTensor(device: GPUDevice, shape: readonly number[], dtype: DType = 'float32', label?: string): GpuTensor {
  const size = Math.max(4, alignedByteSize({ shape, dtype }));
  const buffer = device.createBuffer({ size, usage: TENSOR_USAGE, label });
  return { buffer, shape: [...shape], dtype };
}

type HostArray = Float32Array | Int32Array | Uint32Array | Uint16Array;

export function uploadTensor(
  device: GPUDevice,
  data: HostArray,
  shape: readonly number[],
  dtype: DType = 'float32',
  label?: string,
): GpuTensor {
  if (data.length !== numel(shape)) {
    throw new KernelInputError('uploadTensor', 'data', `has ${data.length} elements, shape ${JSON.stringify(shape)} needs ${numel(shape)}`);
  }
  const t = createTensor(device, shape, dtype, label);
  device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return t;
}

/** Copy a tensor back to the CPU. Only for what the UI shows and for tests. */
export async function readTensor(device: GPUDevice, t: GpuTensor): Promise<Float32Array | Int32Array | Uint32Array | Uint16Array> {
  const size = alignedByteSize(t);
  const staging = device.createBuffer({ size, usage: 0x01 /* MAP_READ */ | 0x08 /* COPY_DST */ });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(t.buffer, 0, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x01 /* GPUMapMode.READ */);
  const bytes = staging.getMappedRange().slice(0, byteSize(t));
  staging.unmap();
  staging.destroy();
  const n = numel(t.shape);
  switch (t.dtype) {
    case 'float32':
      return new Float32Array(bytes, 0, n);
    case 'int32':
      return new Int32Array(bytes, 0, n);
    case 'uint32':
      return new Uint32Array(bytes, 0, n);
    case 'float16':
      return new Uint16Array(bytes, 0, n);
  }
}

/**
 * Shared argument checks for kernel wrappers: each throws a KernelInputError naming the kernel,
 * the argument and the expectation, before anything is dispatched.
 */
export function checkTensor(
  kernel: string,
  name: string,
  t: GpuTensor | undefined,
  expect: { rank?: number; dtype?: DType; shape?: readonly (number | undefined)[] },
): void {
  if (!t || !t.buffer) throw new KernelInputError(kernel, name, 'is missing');
  if (expect.dtype && t.dtype !== expect.dtype) {
    throw new KernelInputError(kernel, name, `has dtype ${t.dtype}, expected ${expect.dtype}`);
  }
  const rank = expect.rank ?? expect.shape?.length;
  if (rank !== undefined && t.shape.length !== rank) {
    throw new KernelInputError(kernel, name, `has rank ${t.shape.length} (shape ${JSON.stringify(t.shape)}), expected rank ${rank}`);
  }
  if (expect.shape) {
    expect.shape.forEach((d, i) => {
      if (d !== undefined && t.shape[i] !== d) {
        throw new KernelInputError(kernel, name, `has shape ${JSON.stringify(t.shape)}, dimension ${i} must be ${d}`);
      }
    });
  }
  if (t.shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new KernelInputError(kernel, name, `has invalid shape ${JSON.stringify(t.shape)}`);
  }
  if (t.buffer.size < byteSize(t)) {
    throw new KernelInputError(kernel, name, `buffer holds ${t.buffer.size} bytes, shape ${JSON.stringify(t.shape)} needs ${byteSize(t)}`);
  }
}

/** Throws when a binding would exceed the device's maxStorageBufferBindingSize. */
export function checkBindingSize(kernel: string, name: string, bytes: number, device: GPUDevice): void {
  const limit = device.limits.maxStorageBufferBindingSize;
  if (bytes > limit) {
    throw new KernelInputError(
      kernel,
      name,
      `needs a ${bytes}-byte binding, over this device's maxStorageBufferBindingSize of ${limit} bytes`,
    );
  }
}
