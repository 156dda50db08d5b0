/**
 * ONNX Runtime sessions on the app's shared GPUDevice (onnxruntime-web's native WebGPU EP).
 *
 * Inputs and outputs are GPU buffers: inputs are our own GpuTensors wrapped without a copy
 * (Tensor.fromGpuBuffer), outputs stay where ORT wrote them (`preferredOutputLocation:
 * 'gpu-buffer'`) and are handed on as GpuTensors, so nothing is read back between sessions and
 * kernels. ORT rounds its buffers up: an output's `buffer.size` may exceed its tensor, so bind
 * `byteSize(t)` (src/gpu/tensor.ts), never the whole buffer.
 *
 * Each session is checked against the manifest's TensorSpecs when it is created: an ONNX file
 * whose input/output names, dtypes or fixed dimensions differ from the manifest is refused with
 * a message naming the component and the tensor, before anything runs.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { AppError } from '../errors';
import type { DType, GpuTensor } from '../gpu/tensor';
import type { ComponentSpec, Precision } from './manifest';
import { checkSignature } from './signature';

export { chooseVariant, checkSignature, ModelSignatureError } from './signature';

// ORT fetches its wasm glue at run time; the Vite config serves it from our origin under /ort/.
ort.env.wasm.wasmPaths = `${(import.meta as ImportMeta & { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/'}ort/`;

export { ort };

/** An ONNX file's external-data file (weights of models over 2 GB), by the name the model refers to. */
export interface ExternalData {
  path: string;
  data: Uint8Array;
}

/** A session on `device` whose outputs stay on the GPU (`tensor.gpuBuffer`). */
export function createGpuSession(model: Uint8Array, device: GPUDevice, externalData?: ExternalData[]): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    executionProviders: [{ name: 'webgpu', device } as ort.InferenceSession.WebGpuExecutionProviderOption],
    preferredOutputLocation: 'gpu-buffer',
    // errors only: ORT warns on every session that it placed shape ops on the CPU (by design), which
    // reached the console as errors on every pack load
    logSeverityLevel: 3,
    ...(externalData?.length ? { externalData } : {}),
  });
}

const ORT_DTYPE: Record<DType, ort.Tensor.Type | undefined> = { float32: 'float32', int32: 'int32', float16: 'float16', uint32: 'uint32' };

/** Wraps one of our GPU tensors as an ORT input without copying. */
export function gpuInput(t: GpuTensor): ort.Tensor {
  const dataType = ORT_DTYPE[t.dtype];
  if (!dataType) throw new Error(`no ORT dtype for ${t.dtype}`);
  return ort.Tensor.fromGpuBuffer(t.buffer as unknown as ort.Tensor.GpuBufferType, {
    dataType: dataType as ort.Tensor.GpuBufferDataTypes,
    dims: t.shape,
  });
}

/** An output of a session run: a GpuTensor view of ORT's buffer; dispose() returns it to ORT. */
export interface SessionOutput extends GpuTensor {
  dispose(): void;
}

/** One pack component as a session: run() takes and returns GPU tensors by ONNX name. */
export class ComponentSession {
  private released = false;
  private constructor(
    readonly component: string,
    readonly precision: Precision,
    private readonly session: ort.InferenceSession,
  ) {}

  /** Creates the session on `device` and checks it against `spec` (released again when it does not match). */
  static async create(
    component: string,
    precision: Precision,
    spec: Pick<ComponentSpec, 'inputs' | 'outputs'>,
    model: Uint8Array,
    device: GPUDevice,
    externalData?: ExternalData[],
  ): Promise<ComponentSession> {
    let session: ort.InferenceSession;
    try {
      session = await createGpuSession(model, device, externalData);
    } catch (e) {
      throw new AppError(
        'model-pack',
        `The model file of "${component}" (${precision}) could not be loaded: ${e instanceof Error ? e.message : String(e)}. Re-download the pack or choose another variant.`,
        { cause: e },
      );
    }
    try {
      checkSignature(component, spec, session);
    } catch (e) {
      await session.release();
      throw e;
    }
    return new ComponentSession(component, precision, session);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs on GPU inputs; every output comes back as a GPU tensor the caller disposes. */
  async run(inputs: Record<string, GpuTensor>): Promise<Record<string, SessionOutput>> {
    if (this.released) throw new Error(`session ${this.component} was released`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const t = inputs[name];
      if (!t) throw new Error(`${this.component}: input ${name} missing`);
      feeds[name] = gpuInput(t);
    }
    const result = await this.session.run(feeds);
    const out: Record<string, SessionOutput> = {};
    for (const name of this.session.outputNames) {
      const t = result[name] as ort.Tensor;
      const dtype = t.type as DType;
      out[name] = { buffer: t.gpuBuffer as unknown as GPUBuffer, shape: [...t.dims], dtype, dispose: () => t.dispose() };
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
