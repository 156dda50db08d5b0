/**
 * Which precision of a pack to install and run, and the files that takes. The manifest's file
 * list drives everything: the loader downloads exactly `packFiles(...)`, nothing else.
 */
import { COMPONENT_NAMES, type FileEntry, type Manifest, type Precision } from './manifest';
import { ModelPackError } from './packErrors';

/** Precisions whose activations are fp16: they need the adapter's `shader-f16`. */
export const F16_PRECISIONS: readonly Precision[] = ['fp16', 'q4f16', 'q4c8f16'];

/**
 * Preference when the user leaves it to the app: the most accurate precision the adapter runs
 * (fp16 activations where `shader-f16` exists, fp32 otherwise), then smaller quantised ones.
 * The pack manager shows each variant's size, so a user can pick a smaller download. q4c8 / q4c8f16 (int8
 * convolutions; 2.9 / 2.7 GB at full size against q4f16's 4.3 GB) come last in their group: a pack that offers
 * nothing else (the exporter's default) gets them, one that also offers q4f16 or q4 gets the more accurate one
 * unless the user picks the small one.
 */
const AUTO_ORDER: Record<'f16' | 'f32', readonly Precision[]> = {
  f16: ['fp16', 'q4f16', 'q4c8f16', 'fp32', 'q8', 'q4', 'q4c8'],
  f32: ['fp32', 'q8', 'q4', 'q4c8'],
};

export interface VariantOptions {
  /** The adapter has `shader-f16`. */
  shaderF16: boolean;
  /** The user's choice; undefined or 'auto' lets the app choose. */
  override?: Precision | 'auto';
}

export function chooseVariant(manifest: Manifest, { shaderF16, override }: VariantOptions): Precision {
  const offered = manifest.precisions.join(', ');
  if (override && override !== 'auto') {
    if (!manifest.precisions.includes(override)) {
      throw new ModelPackError('variant', `This model pack has no ${override} variant; it offers ${offered}.`);
    }
    if (F16_PRECISIONS.includes(override) && !shaderF16) {
      throw new ModelPackError(
        'variant',
        `The ${override} variant needs a GPU with 16-bit float shaders (shader-f16), which this one lacks. Choose ${runnable(manifest, false) || 'another pack'}.`,
      );
    }
    return override;
  }
  const pick = AUTO_ORDER[shaderF16 ? 'f16' : 'f32'].find((p) => manifest.precisions.includes(p));
  if (!pick) {
    throw new ModelPackError(
      'variant',
      `This model pack offers only ${offered}, which needs 16-bit float shaders (shader-f16) that this GPU lacks. Use a pack exported with fp32, q8, q4 or q4c8.`,
    );
  }
  return pick;
}

function runnable(manifest: Manifest, shaderF16: boolean): string {
  return manifest.precisions.filter((p) => shaderF16 || !F16_PRECISIONS.includes(p)).join(', ');
}

export interface PackFileOptions {
  /** Also take the golden tensors (test data; the app does not need them). */
  goldens?: boolean;
}

/** The files one variant needs: tokenizer, every component and stage-2 segment, goldens if asked; each path once. */
export function packFiles(manifest: Manifest, variant: Precision, { goldens = false }: PackFileOptions = {}): FileEntry[] {
  const out = new Map<string, FileEntry>();
  const add = (list: FileEntry[] | undefined, what: string) => {
    if (!list)
      throw new ModelPackError(
        'variant',
        `This model pack has no ${variant} files for ${what}; it offers ${manifest.precisions.join(', ')}.`,
      );
    for (const e of list) if (!out.has(e.path)) out.set(e.path, e);
  };
  add(manifest.tokenizer.files, 'the tokenizer');
  for (const name of COMPONENT_NAMES) add(manifest.components[name].files[variant], name);
  manifest.components.stage2_unet?.segments.forEach((s) => add(s.files[variant], `stage-2 segment ${s.index}`));
  if (goldens && manifest.goldens) add(manifest.goldens, 'the goldens');
  return [...out.values()];
}

export function totalBytes(files: readonly FileEntry[]): number {
  return files.reduce((s, f) => s + f.bytes, 0);
}

/** The id an installed pack is stored under: one folder per pack name and variant. */
/**
 * Bytes per parameter of each precision's full-size pack (tools/export/README.md, "Full-size sizes": total bytes /
 * 3,485 M parameters): what "smaller" means when memory runs out. q4 keeps its convolutions in fp32, so it is
 * larger than q8; the tiny pack's files rank the same way.
 */
const WEIGHT_BYTES: Record<Precision, number> = { fp32: 4, fp16: 2, q4: 2.19, q4f16: 1.23, q8: 1.04, q4c8: 0.83, q4c8f16: 0.78 };

/** The precisions of `available` with smaller weights than `variant` that an adapter with/without shader-f16 runs, smallest last. */
export function smallerVariants(available: readonly Precision[], variant: Precision, shaderF16: boolean): Precision[] {
  return available
    .filter((p) => WEIGHT_BYTES[p] < WEIGHT_BYTES[variant] && (shaderF16 || !F16_PRECISIONS.includes(p)))
    .sort((a, b) => WEIGHT_BYTES[b] - WEIGHT_BYTES[a]);
}

export function packId(name: string, variant: Precision): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 80) || 'pack';
  return `${slug}.${variant}`;
}
