/**
 * Model-pack manifest (schema 1), as written by tools/export (`manifest.py`; documented in
 * tools/export/README.md, "manifest.json"). Types only here; validation of untrusted JSON into
 * these types lives beside them (`parseManifest`), so every way a manifest enters memory goes
 * through one checker.
 */

export const MANIFEST_SCHEMA = 1;

export type Precision = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';

export type TensorDtype = 'float32' | 'int32' | 'int64' | 'float16';

/** A dimension: a number, or a symbol the runtime fills in ('batch', 'batch_frames', or any). */
export type Dim = number | string;

export interface TensorSpec {
  name: string;
  dtype: TensorDtype;
  shape: Dim[];
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
}

export interface SegmentSpec {
  index: number;
  inputs: string[];
  outputs: string[];
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
  /** Name of the LayerNorm'ed token tensor (batch*F, h, w, C). */
  input: string;
  /** Name of the interleaved tensor (batch, 2F-1, h, w, C). */
  output: string;
  flow: string;
  frames: number;
  height: number;
  width: number;
  channels: number;
  heads: number;
  splat: 'avg';
  splat_eps: number;
  frame0_batch: 'same' | 'reference_quirk';
  resized_flow: string;
}

export type PlanStep = OnnxPlanStep | MotionAttentionPlanStep;

export interface SegmentedComponentSpec {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  segments: SegmentSpec[];
  plan: PlanStep[];
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
