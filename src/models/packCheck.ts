/**
 * Whether a model pack's parts fit together, checked before any of it runs:
 * - `checkStage2Plan` (from parseManifest, so at install and at every open): the stage-2 plan
 *   against the segments it names: every tensor is written before it is read, each segment runs
 *   once with exactly its listed inputs and outputs, a tensor handed from one step to the next
 *   has the same type and fixed sizes on both sides, each motion attention's inputs (projected
 *   qkv, frame 0's [k | v], projected position table) and output have the sizes and frame count
 *   the step states, and the plan ends in noise_pred.
 * - `checkPackFiles` (at install, once every file is verified): every ONNX file of the variant
 *   declares the inputs and outputs the manifest lists for it (read from the file's header,
 *   onnxHeader.ts; no session is created).
 * Messages name the part of the pack in words ("part 3 of 15 of the video model") and the tensor
 * by its name, never a shape list; the numbers go to `detail` for the console.
 */
import type { ComponentName, Dim, Manifest, Precision, SegmentedComponentSpec, TensorSpec } from './manifest';
import { COMPONENT_NAMES } from './manifest';
import { readOnnxSignature } from './onnxHeader';
import { ModelPackError } from './packErrors';
import { checkSignature, ModelSignatureError } from './signature';

const GRAPH_INPUTS = ['sample', 'timestep', 'encoder_hidden_states'] as const;

const COMPONENT_WORDS: Record<ComponentName, string> = {
  text_encoder: 'the text encoder',
  vae_encoder: 'the image encoder (VAE)',
  vae_decoder: 'the image decoder (VAE)',
  flow_vae_encoder: 'the motion encoder',
  flow_vae_decoder: 'the motion decoder',
  controlnet: 'the trajectory ControlNet',
  stage1_unet: 'the motion model (stage-1 UNet)',
};

/** A part of the pack in words: a component, or segment `index` of the stage-2 UNet. */
export function partWords(part: ComponentName | { segment: number; of: number }): string {
  return typeof part === 'string' ? COMPONENT_WORDS[part] : `part ${part.segment + 1} of ${part.of} of the video model (stage-2 UNet)`;
}

/** The pack's parts do not fit together: `problem` says how in words, `detail` adds the numbers. */
export class PackMismatchError extends ModelPackError {
  readonly detail: string;
  constructor(packName: string, problem: string, detail = '', options?: { path?: string; cause?: unknown }) {
    super(
      'mismatch',
      `The model pack "${packName}" cannot be used: ${problem}. Its files do not belong together; re-export it with tools/export or ` +
        'download it again. Your project is not affected.',
      options,
    );
    this.name = 'PackMismatchError';
    this.detail = detail;
  }
}

const dims = (s: readonly Dim[]) => `[${s.join(', ')}]`;

/** Where two specs of one tensor disagree (dtype, rank, or a dimension fixed on both sides), or null. */
function specDifference(a: TensorSpec, b: TensorSpec): string | null {
  if (a.dtype !== b.dtype) return `its number type (${a.dtype} vs ${b.dtype})`;
  if (a.shape.length !== b.shape.length) return `its number of dimensions (${a.shape.length} vs ${b.shape.length})`;
  for (let i = 0; i < a.shape.length; i++) {
    const x = a.shape[i];
    const y = b.shape[i];
    if (typeof x === 'number' && typeof y === 'number' && x !== y) return `its size`;
  }
  return null;
}

/** Whether fixed dimensions of `spec` differ from `want` (null: any size fits). */
function sizeDiffers(spec: TensorSpec, want: readonly (number | null)[]): boolean {
  if (spec.shape.length !== want.length) return true;
  return want.some((w, i) => w !== null && typeof spec.shape[i] === 'number' && spec.shape[i] !== w);
}

/**
 * Checks the stage-2 plan against its segments (see the file header). `frames` is the pack's
 * video length (frame 0 included), which every motion attention must use. Throws
 * PackMismatchError naming the step, the part and the tensor.
 */
export function checkStage2Plan(spec: SegmentedComponentSpec, packName = 'this pack', frames?: number): void {
  const n = spec.segments.length;
  const bad = (problem: string, detail = '') => new PackMismatchError(packName, `its stage-2 plan ${problem}`, detail);
  const part = (segment: number) => partWords({ segment, of: n });
  /** The spec each tensor was written with (graph inputs, segment outputs, motion attentions' outputs). */
  const written = new Map<string, TensorSpec>();
  for (const name of GRAPH_INPUTS) written.set(name, spec.inputs.find((t) => t.name === name) ?? { name, dtype: 'float32', shape: [] });
  const used = new Set<number>();
  /** Outputs of a motion attention: the sizes their reader must accept. */
  const attnSizes = new Map<string, (number | null)[]>();
  spec.plan.forEach((s, i) => {
    const step = `step ${i + 1}`;
    const reads = s.kind === 'onnx' ? s.inputs : [s.qkv, s.frame0_kv, s.pe];
    for (const r of reads) if (!written.has(r)) throw bad(`(${step}) reads "${r}" before any step writes it`);
    if (s.kind === 'onnx') {
      const seg = spec.segments.find((g) => g.index === s.segment);
      if (!seg) throw bad(`(${step}) runs ${part(s.segment)}, which the pack does not have`);
      if (used.has(s.segment)) throw bad(`runs ${part(s.segment)} twice`);
      used.add(s.segment);
      for (const name of s.inputs) {
        const input = seg.inputs.find((t) => t.name === name);
        if (!input) throw bad(`(${step}) gives ${part(s.segment)} an input "${name}" that this part does not take`);
        const from = written.get(name)!;
        const made = attnSizes.get(name);
        if (made && sizeDiffers(input, made)) {
          throw bad(
            `(${step}) gives ${part(s.segment)} the attention output "${name}" of another size than the motion attention makes`,
            `${name}: segment input ${dims(input.shape)}, attention writes ${dims(made.map((d) => d ?? '?'))}`,
          );
        }
        const diff = from.shape.length ? specDifference(from, input) : null;
        if (diff) {
          throw bad(
            `(${step}) hands "${name}" to ${part(s.segment)} with another ${diff.replace(/^its /, '')} than the step that writes it`,
            `${name}: written ${from.dtype} ${dims(from.shape)}, read ${input.dtype} ${dims(input.shape)}`,
          );
        }
      }
      for (const t of seg.inputs)
        if (!s.inputs.includes(t.name)) throw bad(`(${step}) does not give ${part(s.segment)} its input "${t.name}"`);
      for (const name of s.outputs) {
        const out = seg.outputs.find((t) => t.name === name);
        if (!out) throw bad(`(${step}) expects an output "${name}" that ${part(s.segment)} does not make`);
        written.set(name, out);
      }
      for (const t of seg.outputs)
        if (!s.outputs.includes(t.name)) throw bad(`(${step}) leaves out the output "${t.name}" of ${part(s.segment)}`);
    } else if (s.kind === 'motion_attention') {
      if (s.splat !== 'avg') throw bad(`(${step}) asks for a splat mode this app does not have`);
      if (frames !== undefined && s.frames !== frames) {
        throw bad(`(${step}) warps ${s.frames} frames, but the pack makes ${frames}-frame videos`, `frames ${s.frames} vs ${frames}`);
      }
      if (s.frame0_batch !== 'same' && s.frame0_batch !== 'reference_quirk')
        throw bad(`(${step}) takes frame 0 from the batch entries in a way this app does not know`);
      if (s.channels % s.heads !== 0) throw bad(`(${step}) splits its features into a number of heads that does not divide them`);
      if (!spec.inputs.some((t) => t.name === s.flow))
        throw bad(`(${step}) reads the motion "${s.flow}", which is not an input of the video model`);
      const C = s.channels;
      const wants: [string, (number | null)[]][] = [
        [s.qkv, [null, s.height, s.width, 3 * C]],
        [s.frame0_kv, [null, s.height, s.width, 2 * C]],
        [s.pe, [2 * s.frames - 1, 3 * C]],
      ];
      for (const [name, size] of wants) {
        const t = written.get(name)!;
        if (sizeDiffers(t, size)) {
          throw bad(
            `(${step}) reads "${name}" of another size than the motion attention works at`,
            `${name}: ${dims(t.shape)}, attention wants ${dims(size.map((d) => d ?? '?'))}`,
          );
        }
        if (t.dtype !== 'float32') throw bad(`(${step}) reads "${name}" as ${t.dtype}; the motion attention takes float32`);
      }
      written.set(s.output, { name: s.output, dtype: 'float32', shape: [] });
      attnSizes.set(s.output, [null, s.height, s.width, C]);
    } else {
      throw bad(`(${step}) has a kind of step this app does not know`);
    }
  });
  const np = written.get('noise_pred');
  if (!np) throw bad('never writes the prediction "noise_pred"');
  const want = spec.outputs.find((t) => t.name === 'noise_pred');
  const diff = want && np.shape.length ? specDifference(np, want) : null;
  if (diff) throw bad(`writes "noise_pred" with another ${diff.replace(/^its /, '')} than the video model declares`);
  const flow = spec.inputs.find((t) => t.name === 'flow');
  if (flow && frames !== undefined && typeof flow.shape[0] === 'number' && flow.shape[0] !== frames) {
    throw bad(`takes motion for ${flow.shape[0]} frames, but the pack makes ${frames}-frame videos`);
  }
}

/** Reads a stored or picked file of the pack by its manifest path. */
export type PackFileReader = (path: string) => Promise<Blob>;

/**
 * Checks every ONNX file of `variant` against the manifest's inputs and outputs for it, from the
 * files' headers. Throws PackMismatchError naming the part, the file and the tensor.
 */
export async function checkPackFiles(manifest: Manifest, variant: Precision, read: PackFileReader): Promise<void> {
  const parts: { words: string; spec: { inputs: TensorSpec[]; outputs: TensorSpec[] }; path?: string }[] = [];
  for (const name of COMPONENT_NAMES) {
    const c = manifest.components[name];
    parts.push({ words: partWords(name), spec: c, path: c.files[variant]?.[0]?.path });
  }
  const s2 = manifest.components.stage2_unet;
  for (const seg of s2?.segments ?? []) {
    parts.push({ words: partWords({ segment: seg.index, of: s2!.segments.length }), spec: seg, path: seg.files[variant]?.[0]?.path });
  }
  for (const p of parts) {
    if (!p.path) continue;
    let signature: Awaited<ReturnType<typeof readOnnxSignature>>;
    try {
      signature = await readOnnxSignature(await read(p.path));
    } catch (e) {
      if (e instanceof ModelPackError) throw e;
      throw new PackMismatchError(manifest.name, `the file ${p.path} of ${p.words} is not an ONNX model`, String(e), {
        path: p.path,
        cause: e,
      });
    }
    try {
      checkSignature(p.path, p.spec, signature);
    } catch (e) {
      if (!(e instanceof ModelSignatureError)) throw e;
      throw new PackMismatchError(manifest.name, signatureWords(p.words, p.path, e), e.message, { path: p.path, cause: e });
    }
  }
}

/** A signature mismatch in words: which part, which file, which tensor, and what kind of difference. */
function signatureWords(part: string, path: string, e: ModelSignatureError): string {
  const m = e.message;
  const t = `"${e.tensor}"`;
  if (/is an input in the manifest but not in the ONNX file/.test(m))
    return `the manifest says ${part} takes ${t}, but its file ${path} has no such input`;
  if (/is an output in the manifest but not in the ONNX file/.test(m))
    return `the manifest says ${part} makes ${t}, but its file ${path} has no such output`;
  if (/is an input of the ONNX file but not in the manifest/.test(m))
    return `the file ${path} of ${part} takes ${t}, which the manifest does not list`;
  if (/is an output of the ONNX file but not in the manifest/.test(m))
    return `the file ${path} of ${part} makes ${t}, which the manifest does not list`;
  if (/has dtype/.test(m)) return `the file ${path} of ${part} stores ${t} as another number type than the manifest says`;
  return `the file ${path} of ${part} has ${t} in another size than the manifest says`;
}
