/**
 * Model-pack manifest (schema 1), as written by tools/export (`manifest.py`; documented in
 * tools/export/README.md, "manifest.json"). Types only here; validation of untrusted JSON into
 * these types lives beside them (`parseManifest`), so every way a manifest enters memory goes
 * through one checker.
 */
import { AppError } from '../errors';
import { checkStage2Plan } from './packCheck';

export const MANIFEST_SCHEMA = 1;

/**
 * Weight/activation precisions of a pack (tools/export/README.md, "Precisions"): q4c8 and q4c8f16 are q4 and q4f16
 * with int8 convolution weights, the packs under 3 GB at full size.
 */
export type Precision = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16' | 'q4c8' | 'q4c8f16';

export type TensorDtype = 'float32' | 'int32' | 'int64' | 'float16';

/** A dimension: a number, or a symbol the runtime fills in ('batch', 'batch_frames', or any). */
export type Dim = number | string;

export interface TensorSpec {
  name: string;
  dtype: TensorDtype;
  shape: Dim[];
  /** Free text from the exporter (what a tensor is for). */
  note?: string;
}

/** One file of a pack; `path` is relative to the manifest. */
export interface FileEntry {
  path: string;
  bytes: number;
  sha256: string;
}

export interface ComponentSpec {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Files per precision: the .onnx first, then its external-data file if any. */
  files: Partial<Record<Precision, FileEntry[]>>;
  /** UNets and the ControlNet: how their spatial attention is sliced (absent: not sliced). */
  spatial_attention?: SpatialAttentionSpec;
}

/** One spatial attention shape of a UNet and the query chunks its exported graph computes it in. */
export interface AttentionChunking {
  /** Query tokens (the level's h * w). */
  queries: number;
  /** Key tokens: the level's tokens (self-attention) or the text's (cross-attention). */
  keys: number;
  /** Query rows per chunk (the last chunk may be shorter). */
  rows: number;
  /** ceil(queries / rows). */
  chunks: number;
}

/**
 * The exporter's query-chunked spatial attention: each chunk's scores (images, heads, rows, keys)
 * in fp32 stay within score_bytes at `images` images (CFG batch 2 x frames), unless one row is
 * already over it; score_bytes null: one chunk of every row (the whole matrix).
 */
export interface SpatialAttentionSpec {
  heads: number;
  images: number;
  score_bytes: number | null;
  chunks: AttentionChunking[];
}

export interface SegmentSpec {
  index: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  files: Partial<Record<Precision, FileEntry[]>>;
}

export interface OnnxPlanStep {
  kind: 'onnx';
  segment: number;
  inputs: string[];
  outputs: string[];
}

export interface MotionAttentionPlanStep {
  kind: 'motion_attention';
  module: string;
  /** Projected LayerNorm'ed tokens (batch*F, h, w, 3C), channels [q | k | v] (no position encoding). */
  qkv: string;
  /** Frame 0's projected [k | v] (batch, h, w, 2C): what is warped. */
  frame0_kv: string;
  /** Projected position table (2F-1, 3C): row s = [Wq pe_s | Wk pe_s | Wv pe_s]. */
  pe: string;
  /** Name of the warped frame-0 [k | v] (batch, F-1, h, w, 2C) (goldens / inspection; read only by the attention). */
  warped: string;
  /** Attention output (batch*F, h, w, C), heads concatenated; to_out runs in the next segment. */
  output: string;
  flow: string;
  frames: number;
  height: number;
  width: number;
  channels: number;
  heads: number;
  splat: 'avg';
  splat_eps: number;
  /**
   * Whose frame 0 each batch entry warps: its own ('same'), or, as the authors' code does under
   * guidance, entry (b (F-1) + i-1) mod batch for frame i ('reference_quirk', pipeline/neural/plan.ts frame0Source).
   */
  frame0_batch: Frame0Batch;
  resized_flow: string;
}

export type Frame0Batch = 'same' | 'reference_quirk';

export type PlanStep = OnnxPlanStep | MotionAttentionPlanStep;

export interface SegmentedComponentSpec {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  segments: SegmentSpec[];
  plan: PlanStep[];
  spatial_attention?: SpatialAttentionSpec;
}

export interface SchedulerSpec {
  name: 'DDIM';
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: 'linear' | 'scaled_linear';
  steps_offset: number;
  clip_sample: boolean;
  set_alpha_to_one: boolean;
  prediction_type: 'epsilon' | 'v_prediction';
  eta: number;
  zero_terminal_snr: boolean;
  timestep_spacing: 'leading' | 'trailing';
  num_inference_steps: number;
  guidance_scale: number;
}

export type ComponentName =
  | 'text_encoder'
  | 'vae_encoder'
  | 'vae_decoder'
  | 'flow_vae_encoder'
  | 'flow_vae_decoder'
  | 'controlnet'
  | 'stage1_unet';

export interface Manifest {
  schema: number;
  name: string;
  precisions: Precision[];
  canvas: { width: number; height: number };
  latent: { width: number; height: number; channels: number; factor: number };
  /** Frames of a video, frame 0 included. */
  frames: number;
  /** Frames stage 1 predicts (frames - 1 flows). */
  stage1_frames: number;
  /** Frame-stride condition per stage-1 frame. */
  strides: number[];
  vae_scale: number;
  text: { max_length: number; hidden_size: number };
  scheduler: SchedulerSpec;
  tokenizer: { vocab: string; merges: string; max_length: number; files: FileEntry[] };
  components: Record<ComponentName, ComponentSpec> & { stage2_unet?: SegmentedComponentSpec };
  goldens?: FileEntry[];
}

// ---------------------------------------------------------------------------------------------
// Validation: untrusted JSON -> Manifest. Every message names the field by its JSON path
// (`components.vae_encoder.files.fp32[0].sha256`) so a broken or forged pack can be fixed.

export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'q8', 'q4', 'q4f16', 'q4c8', 'q4c8f16'];
export const COMPONENT_NAMES: readonly ComponentName[] = [
  'text_encoder',
  'vae_encoder',
  'vae_decoder',
  'flow_vae_encoder',
  'flow_vae_decoder',
  'controlnet',
  'stage1_unet',
];
const DTYPES: readonly TensorDtype[] = ['float32', 'int32', 'int64', 'float16'];

/** A manifest that is not valid JSON, not schema 1, or has a field out of its allowed range. */
export class ManifestError extends AppError {
  /** JSON path of the offending field ('' for the whole document). */
  readonly field: string;
  readonly reason: 'json' | 'schema' | 'field';
  constructor(reason: 'json' | 'schema' | 'field', field: string, message: string) {
    super('model-pack', message);
    this.name = 'ManifestError';
    this.field = field;
    this.reason = reason;
  }
}

function fail(field: string, problem: string): never {
  throw new ManifestError(
    'field',
    field,
    `This model pack's manifest.json is invalid: ${field} ${problem}. Re-export the pack with tools/export, or download it again.`,
  );
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: Json, field: string): Record<string, Json> {
  if (!isObject(v)) fail(field, 'must be an object');
  return v;
}
function arr(v: Json, field: string): Json[] {
  if (!Array.isArray(v)) fail(field, 'must be a list');
  return v;
}
function str(v: Json, field: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(field, 'must be a non-empty string');
  return v;
}
function num(v: Json, field: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, 'must be a finite number');
  if (v < min || v > max) fail(field, `must be between ${min} and ${max} (is ${v})`);
  return v;
}
function int(v: Json, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(field, 'must be an integer');
  if (v < min || v > max) fail(field, `must be between ${min} and ${max} (is ${v})`);
  return v;
}
function bool(v: Json, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, 'must be true or false');
  return v;
}
function oneOf<T extends string>(v: Json, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return v as T;
}
function strings(v: Json, field: string): string[] {
  return arr(v, field).map((s, i) => str(s, `${field}[${i}]`));
}

/** The largest file a pack may list (1 TiB): a sanity bound that still allows multi-GB external data. */
const MAX_FILE_BYTES = 2 ** 40;

/**
 * A path relative to the manifest's folder, in plain segments: no scheme, no absolute path, no
 * `.`/`..`, no backslash or control characters. A forged manifest cannot make the loader fetch
 * from another origin or write outside the pack's own folder.
 */
function relPath(v: Json, field: string): string {
  const p = str(v, field);
  const bad =
    p.length > 512 ||
    p.startsWith('/') ||
    /[\\:?#%\u0000-\u001f\u007f]/.test(p) ||
    p.split('/').some((seg) => seg === '' || seg === '.' || seg === '..');
  if (bad) fail(field, `must be a plain relative path inside the pack (is ${JSON.stringify(p.slice(0, 80))})`);
  return p;
}

function fileEntry(v: Json, field: string): FileEntry {
  const o = obj(v, field);
  const path = relPath(o.path, `${field}.path`);
  const bytes = int(o.bytes, `${field}.bytes`, 0, MAX_FILE_BYTES);
  const sha256 = o.sha256;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) fail(`${field}.sha256`, 'must be 64 lowercase hex digits');
  return { path, bytes, sha256 };
}
function fileList(v: Json, field: string, allowEmpty = false): FileEntry[] {
  const list = arr(v, field).map((e, i) => fileEntry(e, `${field}[${i}]`));
  if (!allowEmpty && list.length === 0) fail(field, 'must list at least one file');
  return list;
}
function filesByPrecision(v: Json, field: string, precisions: Precision[]): Partial<Record<Precision, FileEntry[]>> {
  const o = obj(v, field);
  const out: Partial<Record<Precision, FileEntry[]>> = {};
  for (const key of Object.keys(o)) {
    const p = oneOf(key, `${field} key "${key}"`, PRECISIONS);
    out[p] = fileList(o[key], `${field}.${p}`);
  }
  for (const p of precisions) if (!out[p]) fail(`${field}.${p}`, `is missing (the pack declares precision "${p}")`);
  return out;
}
function tensorSpec(v: Json, field: string): TensorSpec {
  const o = obj(v, field);
  const spec: TensorSpec = {
    name: str(o.name, `${field}.name`),
    dtype: oneOf(o.dtype, `${field}.dtype`, DTYPES),
    shape: arr(o.shape, `${field}.shape`).map((d, i) => {
      if (typeof d === 'string' && d.length > 0) return d;
      return int(d, `${field}.shape[${i}]`, 0, 2 ** 31);
    }),
  };
  if (o.note !== undefined) spec.note = str(o.note, `${field}.note`);
  return spec;
}
function tensors(v: Json, field: string): TensorSpec[] {
  return arr(v, field).map((t, i) => tensorSpec(t, `${field}[${i}]`));
}

function spatialAttention(v: Json, field: string): SpatialAttentionSpec {
  const o = obj(v, field);
  const heads = int(o.heads, `${field}.heads`, 1, 1024);
  const images = int(o.images, `${field}.images`, 1, 2 ** 20);
  const scoreBytes = o.score_bytes === null ? null : int(o.score_bytes, `${field}.score_bytes`, 1);
  const chunks = arr(o.chunks, `${field}.chunks`).map((c, i): AttentionChunking => {
    const f = `${field}.chunks[${i}]`;
    const co = obj(c, f);
    const queries = int(co.queries, `${f}.queries`, 1, 2 ** 31);
    const keys = int(co.keys, `${f}.keys`, 1, 2 ** 31);
    const rows = int(co.rows, `${f}.rows`, 1, queries);
    const n = int(co.chunks, `${f}.chunks`, 1, queries);
    if (n !== Math.ceil(queries / rows)) fail(`${f}.chunks`, `must be ceil(queries / rows) = ${Math.ceil(queries / rows)}`);
    if (scoreBytes === null && rows !== queries) fail(`${f}.rows`, `must be queries (${queries}) without score_bytes`);
    // over the budget only when a single row is (the exporter's rule: at least one row per chunk)
    if (scoreBytes !== null && rows > 1 && 4 * images * heads * rows * keys > scoreBytes) {
      fail(`${f}.rows`, `one chunk's scores (${4 * images * heads * rows * keys} bytes) exceed score_bytes`);
    }
    return { queries, keys, rows, chunks: n };
  });
  return { heads, images, score_bytes: scoreBytes, chunks };
}

function planStep(v: Json, field: string, segments: number): PlanStep {
  const o = obj(v, field);
  const kind = oneOf(o.kind, `${field}.kind`, ['onnx', 'motion_attention'] as const);
  if (kind === 'onnx') {
    return {
      kind,
      segment: int(o.segment, `${field}.segment`, 0, segments - 1),
      inputs: strings(o.inputs, `${field}.inputs`),
      outputs: strings(o.outputs, `${field}.outputs`),
    };
  }
  return {
    kind,
    module: str(o.module, `${field}.module`),
    qkv: str(o.qkv, `${field}.qkv`),
    frame0_kv: str(o.frame0_kv, `${field}.frame0_kv`),
    pe: str(o.pe, `${field}.pe`),
    warped: str(o.warped, `${field}.warped`),
    output: str(o.output, `${field}.output`),
    flow: str(o.flow, `${field}.flow`),
    frames: int(o.frames, `${field}.frames`, 1),
    height: int(o.height, `${field}.height`, 1),
    width: int(o.width, `${field}.width`, 1),
    channels: int(o.channels, `${field}.channels`, 1),
    heads: int(o.heads, `${field}.heads`, 1),
    splat: oneOf(o.splat, `${field}.splat`, ['avg'] as const),
    splat_eps: num(o.splat_eps, `${field}.splat_eps`, 0),
    frame0_batch: oneOf(o.frame0_batch, `${field}.frame0_batch`, ['same', 'reference_quirk'] as const),
    resized_flow: str(o.resized_flow, `${field}.resized_flow`),
  };
}

/**
 * Checks untrusted manifest JSON (text or an already parsed value) and returns it typed.
 * Throws ManifestError: `reason: 'json'` when it is not JSON, `'schema'` for another schema
 * version (with a message saying which side to update), `'field'` naming the first bad field.
 * Also rejects a pack that lists one path twice with different contents.
 */
export function parseManifest(input: string | Json): Manifest {
  let raw: Json = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch {
      throw new ManifestError(
        'json',
        '',
        "This model pack's manifest.json is not valid JSON (the file is damaged or is not a manifest). Download it again or re-export the pack.",
      );
    }
  }
  if (!isObject(raw)) fail('(manifest)', 'must be a JSON object');
  const schema = raw.schema;
  if (schema !== MANIFEST_SCHEMA) {
    if (typeof schema === 'number' && Number.isInteger(schema)) {
      const newer = schema > MANIFEST_SCHEMA;
      throw new ManifestError(
        'schema',
        'schema',
        `This model pack uses manifest schema ${schema}; this app reads schema ${MANIFEST_SCHEMA}. ` +
          (newer ? 'Update the app to use this pack.' : 'Re-export the pack with the current tools/export.'),
      );
    }
    fail('schema', `must be the number ${MANIFEST_SCHEMA}`);
  }
  const precisions = arr(raw.precisions, 'precisions').map((p, i) => oneOf(p, `precisions[${i}]`, PRECISIONS));
  if (precisions.length === 0) fail('precisions', 'must name at least one precision');
  if (new Set(precisions).size !== precisions.length) fail('precisions', 'lists a precision twice');

  const canvas = obj(raw.canvas, 'canvas');
  const latent = obj(raw.latent, 'latent');
  const text = obj(raw.text, 'text');
  const sch = obj(raw.scheduler, 'scheduler');
  const tok = obj(raw.tokenizer, 'tokenizer');
  const comps = obj(raw.components, 'components');
  const frames = int(raw.frames, 'frames', 2, 1024);
  const stage1Frames = int(raw.stage1_frames, 'stage1_frames', 1, 1024);
  if (stage1Frames !== frames - 1) fail('stage1_frames', `must be frames - 1 (${frames - 1})`);
  const strides = arr(raw.strides, 'strides').map((s, i) => num(s, `strides[${i}]`, 0));
  if (strides.length !== stage1Frames) fail('strides', `must list stage1_frames (${stage1Frames}) values`);

  const components = {} as Manifest['components'];
  for (const name of COMPONENT_NAMES) {
    const c = obj(comps[name], `components.${name}`);
    components[name] = {
      inputs: tensors(c.inputs, `components.${name}.inputs`),
      outputs: tensors(c.outputs, `components.${name}.outputs`),
      files: filesByPrecision(c.files, `components.${name}.files`, precisions),
    };
    if (c.spatial_attention !== undefined) {
      components[name].spatial_attention = spatialAttention(c.spatial_attention, `components.${name}.spatial_attention`);
    }
  }
  for (const key of Object.keys(comps)) {
    if (key !== 'stage2_unet' && !COMPONENT_NAMES.includes(key as ComponentName)) fail(`components.${key}`, 'is not a known component');
  }
  if (comps.stage2_unet !== undefined) {
    const f = 'components.stage2_unet';
    const s2 = obj(comps.stage2_unet, f);
    const segs = arr(s2.segments, `${f}.segments`);
    const segments = segs.map((s, i): SegmentSpec => {
      const so = obj(s, `${f}.segments[${i}]`);
      const index = int(so.index, `${f}.segments[${i}].index`, 0);
      if (index !== i) fail(`${f}.segments[${i}].index`, `must be ${i}`);
      return {
        index,
        inputs: tensors(so.inputs, `${f}.segments[${i}].inputs`),
        outputs: tensors(so.outputs, `${f}.segments[${i}].outputs`),
        files: filesByPrecision(so.files, `${f}.segments[${i}].files`, precisions),
      };
    });
    components.stage2_unet = {
      inputs: tensors(s2.inputs, `${f}.inputs`),
      outputs: tensors(s2.outputs, `${f}.outputs`),
      segments,
      plan: arr(s2.plan, `${f}.plan`).map((p, i) => planStep(p, `${f}.plan[${i}]`, segments.length)),
    };
    if (s2.spatial_attention !== undefined) {
      components.stage2_unet.spatial_attention = spatialAttention(s2.spatial_attention, `${f}.spatial_attention`);
    }
  }

  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    name: str(raw.name, 'name'),
    precisions,
    canvas: { width: int(canvas.width, 'canvas.width', 8, 16384), height: int(canvas.height, 'canvas.height', 8, 16384) },
    latent: {
      width: int(latent.width, 'latent.width', 1),
      height: int(latent.height, 'latent.height', 1),
      channels: int(latent.channels, 'latent.channels', 1),
      factor: int(latent.factor, 'latent.factor', 1),
    },
    frames,
    stage1_frames: stage1Frames,
    strides,
    vae_scale: num(raw.vae_scale, 'vae_scale', Number.MIN_VALUE),
    text: { max_length: int(text.max_length, 'text.max_length', 1), hidden_size: int(text.hidden_size, 'text.hidden_size', 1) },
    scheduler: {
      name: oneOf(sch.name, 'scheduler.name', ['DDIM'] as const),
      num_train_timesteps: int(sch.num_train_timesteps, 'scheduler.num_train_timesteps', 1),
      beta_start: num(sch.beta_start, 'scheduler.beta_start', 0, 1),
      beta_end: num(sch.beta_end, 'scheduler.beta_end', 0, 1),
      beta_schedule: oneOf(sch.beta_schedule, 'scheduler.beta_schedule', ['linear', 'scaled_linear'] as const),
      steps_offset: int(sch.steps_offset, 'scheduler.steps_offset', 0),
      clip_sample: bool(sch.clip_sample, 'scheduler.clip_sample'),
      set_alpha_to_one: bool(sch.set_alpha_to_one, 'scheduler.set_alpha_to_one'),
      prediction_type: oneOf(sch.prediction_type, 'scheduler.prediction_type', ['epsilon', 'v_prediction'] as const),
      eta: num(sch.eta, 'scheduler.eta', 0, 1),
      zero_terminal_snr: bool(sch.zero_terminal_snr, 'scheduler.zero_terminal_snr'),
      timestep_spacing: oneOf(sch.timestep_spacing, 'scheduler.timestep_spacing', ['leading', 'trailing'] as const),
      num_inference_steps: int(sch.num_inference_steps, 'scheduler.num_inference_steps', 1),
      guidance_scale: num(sch.guidance_scale, 'scheduler.guidance_scale', 0),
    },
    tokenizer: {
      vocab: relPath(tok.vocab, 'tokenizer.vocab'),
      merges: relPath(tok.merges, 'tokenizer.merges'),
      max_length: int(tok.max_length, 'tokenizer.max_length', 1),
      files: fileList(tok.files, 'tokenizer.files'),
    },
    components,
  };
  for (const key of ['vocab', 'merges'] as const) {
    if (!manifest.tokenizer.files.some((e) => e.path === manifest.tokenizer[key]))
      fail(`tokenizer.${key}`, 'must be one of tokenizer.files');
  }
  if (raw.goldens !== undefined) manifest.goldens = fileList(raw.goldens, 'goldens', true);

  // One path, one content: a pack listing the same path with two hashes is forged or broken.
  const seen = new Map<string, FileEntry>();
  for (const { entry, field } of allFileEntries(manifest)) {
    const prev = seen.get(entry.path);
    if (prev && (prev.sha256 !== entry.sha256 || prev.bytes !== entry.bytes))
      fail(field, `lists "${entry.path}" again with other contents`);
    seen.set(entry.path, entry);
  }
  // A plan that names segments, inputs or sizes its segments do not have is refused here, at install and at every open.
  if (manifest.components.stage2_unet) checkStage2Plan(manifest.components.stage2_unet, manifest.name, manifest.frames);
  return manifest;
}

/** Every FileEntry of the manifest with its JSON path (all precisions, tokenizer and goldens). */
export function allFileEntries(m: Manifest): { entry: FileEntry; field: string; precision?: Precision }[] {
  const out: { entry: FileEntry; field: string; precision?: Precision }[] = [];
  m.tokenizer.files.forEach((entry, i) => out.push({ entry, field: `tokenizer.files[${i}]` }));
  const addFiles = (files: Partial<Record<Precision, FileEntry[]>>, base: string) => {
    for (const p of PRECISIONS) files[p]?.forEach((entry, i) => out.push({ entry, field: `${base}.files.${p}[${i}]`, precision: p }));
  };
  for (const name of COMPONENT_NAMES) addFiles(m.components[name].files, `components.${name}`);
  m.components.stage2_unet?.segments.forEach((s, i) => addFiles(s.files, `components.stage2_unet.segments[${i}]`));
  m.goldens?.forEach((entry, i) => out.push({ entry, field: `goldens[${i}]` }));
  return out;
}
