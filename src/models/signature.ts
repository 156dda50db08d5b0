/**
 * Pure checks for pack sessions (no ORT import, so unit tests run in Node): which variant of a
 * pack to load on this adapter, and whether a session's inputs/outputs match the manifest.
 */
import { AppError } from '../errors';
import type { ComponentSpec, Precision, TensorSpec } from './manifest';

/** The part of ORT's ValueMetadata the check reads. */
export interface ValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

/** Variants that need the adapter's `shader-f16` feature (fp16 activations). */
const F16_PRECISIONS: readonly Precision[] = ['fp16', 'q4f16', 'q4c8f16'];
/** Preference order: best quality first among what the adapter can run (as variant.ts's AUTO_ORDER). */
const WITH_F16: readonly Precision[] = ['fp16', 'q4f16', 'q4c8f16', 'fp32', 'q8', 'q4', 'q4c8'];
const WITHOUT_F16: readonly Precision[] = ['fp32', 'q8', 'q4', 'q4c8'];

/**
 * The pack variant to load. With `shader-f16`: fp16, else q4f16 (then the fp32-activation ones);
 * without it only fp32, q8, q4 can run (fp16 graphs fail at session creation there).
 * `override` (the user's choice) wins when the pack has it and the adapter can run it.
 */
export function chooseVariant(available: readonly Precision[], features: { shaderF16: boolean }, override?: Precision): Precision {
  if (override) {
    if (!available.includes(override)) {
      throw new AppError('model-pack', `This model pack has no ${override} variant (it has ${available.join(', ')}). Choose one of those.`);
    }
    if (F16_PRECISIONS.includes(override) && !features.shaderF16) {
      throw new AppError(
        'model-pack',
        `The ${override} variant needs 16-bit float shaders (WebGPU "shader-f16"), which this GPU does not offer. ` +
          `Choose ${WITHOUT_F16.filter((p) => available.includes(p)).join(' or ') || 'another pack'}.`,
      );
    }
    return override;
  }
  const order = features.shaderF16 ? WITH_F16 : WITHOUT_F16;
  const pick = order.find((p) => available.includes(p));
  if (!pick) {
    throw new AppError(
      'model-pack',
      `This model pack has only ${available.join(', ')} weights, which need 16-bit float shaders (WebGPU "shader-f16"); ` +
        'this GPU does not offer them. Install a pack with fp32, q8, q4 or q4c8 weights.',
    );
  }
  return pick;
}

/** What the checker needs from a session (ORT's InferenceSession has these). */
export interface SessionSignature {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly ValueMetadata[];
  outputMetadata?: readonly ValueMetadata[];
}

/** The ONNX file of a component does not match the manifest. */
export class ModelSignatureError extends AppError {
  readonly component: string;
  readonly tensor: string;
  constructor(component: string, tensor: string, problem: string) {
    super(
      'model-pack',
      `The model pack is inconsistent: component "${component}", tensor "${tensor}" ${problem}. ` + 'Re-export or re-download the pack.',
    );
    this.name = 'ModelSignatureError';
    this.component = component;
    this.tensor = tensor;
  }
}

/**
 * Throws ModelSignatureError when the session's inputs/outputs differ from the manifest's specs:
 * a missing or extra name, another dtype, or a fixed dimension that differs (symbolic dims of
 * either side match anything).
 */
export function checkSignature(component: string, spec: Pick<ComponentSpec, 'inputs' | 'outputs'>, session: SessionSignature): void {
  const side = (kind: 'input' | 'output', names: readonly string[], specs: readonly TensorSpec[], meta?: readonly ValueMetadata[]) => {
    for (const s of specs) {
      if (!names.includes(s.name))
        throw new ModelSignatureError(
          component,
          s.name,
          `is an ${kind} in the manifest but not in the ONNX file (it has ${names.join(', ')})`,
        );
    }
    for (const n of names) {
      if (!specs.some((s) => s.name === n))
        throw new ModelSignatureError(component, n, `is an ${kind} of the ONNX file but not in the manifest`);
    }
    for (const m of meta ?? []) {
      const s = specs.find((x) => x.name === m.name);
      if (!s || !m.isTensor) continue;
      if (m.type !== undefined && m.type !== s.dtype)
        throw new ModelSignatureError(component, s.name, `has dtype ${m.type} in the ONNX file, ${s.dtype} in the manifest`);
      const shape = m.shape ?? [];
      if (shape.length === 0) continue;
      if (shape.length !== s.shape.length) {
        throw new ModelSignatureError(component, s.name, `has rank ${shape.length} in the ONNX file, ${s.shape.length} in the manifest`);
      }
      shape.forEach((d, i) => {
        const want = s.shape[i];
        if (typeof d === 'number' && typeof want === 'number' && d !== want) {
          throw new ModelSignatureError(component, s.name, `has dimension ${i} = ${d} in the ONNX file, ${want} in the manifest`);
        }
      });
    }
  };
  side('input', session.inputNames, spec.inputs, session.inputMetadata);
  side('output', session.outputNames, spec.outputs, session.outputMetadata);
}
