/**
 * Peak GPU memory of stage 1, estimated from a pack's manifest (its tensor shapes and file
 * sizes). Model, per run of stage 1 with every session kept loaded (the engine does):
 *
 *  - weights: the bytes of every stage-1 component file in that precision (resident);
 *  - run tensors: text states, image latent, noisy latents, the UNet sample, the ControlNet
 *    condition and its residuals (both alive between ControlNet and UNet), all fp32 graph I/O;
 *  - the UNet's (or ControlNet's) working set at its largest level, where the exported graph's
 *    spatial self-attention materialises the score matrix per image and head: scores and softmax
 *    output are alive together, in fp32 for every precision (the fp16 graphs compute Softmax in
 *    fp32 islands), i.e. 8 bytes per (batch * frames * heads * tokens^2); plus a handful of
 *    feature maps of that level (`featureMaps` tensors of batch * frames * C * tokens).
 *
 * The level sizes come from the UNet's down_residual_0 spec (channels, h, w); `heads` is the
 * UNet's (8 in the reference). This is an estimate of what ORT must hold at once, not a
 * measurement: allocator rounding and ORT's own scratch come on top.
 */
import type { ComponentName, Manifest, Precision } from '../../models/manifest';
import { F16_PRECISIONS } from '../../models/variant';

export const STAGE1_COMPONENTS: readonly ComponentName[] = [
  'text_encoder',
  'vae_encoder',
  'flow_vae_encoder',
  'flow_vae_decoder',
  'controlnet',
  'stage1_unet',
];

export interface Stage1MemoryOptions {
  /** Spatial attention heads of the UNet (reference 8). */
  heads?: number;
  /** 2 with classifier-free guidance in one batch, 1 with sequential guidance. */
  batch?: number;
  /** Feature maps of the largest level alive besides the attention (reference: about 6). */
  featureMaps?: number;
  /**
   * 'materialized' (the exported graphs: MatMul, Softmax, MatMul) or 'fused' (an attention op
   * that never holds the score matrix, e.g. ORT's MultiHeadAttention with flash attention; the
   * exporter does not emit it yet): then only the feature maps remain.
   */
  attention?: 'materialized' | 'fused';
  /** Weight bytes per component, when the manifest's file sizes are not the ones to count. */
  weightBytes?: Partial<Record<ComponentName, number>>;
}

export interface Stage1MemoryEstimate {
  precision: Precision;
  batch: number;
  weights: number;
  runTensors: number;
  attention: number;
  featureMaps: number;
  peak: number;
  /** The largest single tensor (one attention score matrix for all images and heads), against maxStorageBufferBindingSize. */
  largestTensor: number;
}

const F32 = 4;

export function stage1PeakMemory(
  manifest: Pick<Manifest, 'canvas' | 'latent' | 'stage1_frames' | 'text' | 'components'>,
  precision: Precision,
  options: Stage1MemoryOptions = {},
): Stage1MemoryEstimate {
  const heads = options.heads ?? 8;
  const B = options.batch ?? 2;
  const maps = options.featureMaps ?? 6;
  const F1 = manifest.stage1_frames;
  const { width: w, height: h } = manifest.latent;
  const act = F16_PRECISIONS.includes(precision) ? 2 : 4;

  let weights = 0;
  for (const name of STAGE1_COMPONENTS) {
    const given = options.weightBytes?.[name];
    if (given !== undefined) {
      weights += given;
      continue;
    }
    const files = manifest.components[name]?.files[precision];
    if (!files) throw new Error(`manifest has no ${precision} files for ${name}`);
    weights += files.reduce((s, f) => s + f.bytes, 0);
  }

  const unetInputs = manifest.components.stage1_unet.inputs;
  const residualElems = unetInputs
    .filter((s) => s.name.includes('residual'))
    .reduce((sum, s) => sum + B * F1 * s.shape.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1), 0);
  const context = B * manifest.text.max_length * manifest.text.hidden_size;
  const latentFrames = 4 * F1 * h * w;
  const runTensors =
    F32 * (context + 4 * h * w + latentFrames + B * 2 * latentFrames + B * 5 * F1 * h * w + residualElems + B * latentFrames);

  const top = unetInputs.find((s) => s.name === 'down_residual_0');
  if (!top) throw new Error('stage1_unet has no down_residual_0 input to size its top level');
  const [, C, th, tw] = top.shape as number[];
  const tokens = th * tw;
  const images = B * F1;
  const scoreElems = images * heads * tokens * tokens;
  const fused = options.attention === 'fused';
  const attention = fused ? 0 : 8 * scoreElems;
  const featureMaps = maps * images * C * tokens * act;
  return {
    precision,
    batch: B,
    weights,
    runTensors,
    attention,
    featureMaps,
    peak: weights + runTensors + attention + featureMaps,
    largestTensor: fused ? images * C * tokens * F32 * 4 : F32 * scoreElems,
  };
}
