/**
 * Peak GPU memory of stage 1, estimated from a pack's manifest (its tensor shapes, file sizes and
 * the UNet's spatial-attention slicing). Model, per run of stage 1 with every session kept loaded
 * (the engine does):
 *
 *  - weights: the bytes of every stage-1 component file in that precision (resident);
 *  - run tensors: text states, image latent, noisy latents, the UNet sample, the ControlNet
 *    condition and its residuals (both alive between ControlNet and UNet), all fp32 graph I/O;
 *  - the UNet's (or ControlNet's) working set at its largest level (`featureMaps` feature maps of
 *    batch * frames * C * tokens, e.g. the residual stream and the block's input), plus the larger
 *    of two phases of its transformer block:
 *    - attention: the exported graph computes the spatial attention in query chunks (manifest
 *      `spatial_attention`: rows per chunk for each queries x keys shape); one chunk's scores and
 *      its softmax output are alive together, in fp32 for every precision (the fp16 graphs compute
 *      Softmax in fp32 islands): 8 bytes per (batch * frames * heads * rows * keys), for the
 *      largest chunk of any level. A manifest without `spatial_attention` (or
 *      `attention: 'materialized'`) holds every query row at once;
 *    - feed-forward: the GEGLU projection (8C wide) and the two halves Split makes of it (4C
 *      each) are alive together: 16 C-wide maps in the activation precision.
 *
 * The level sizes come from the UNet's down_residual_0 spec (channels, h, w); `heads` from the
 * manifest's spatial_attention (else the reference's 8). This is an estimate of what ORT must hold
 * at once, not a measurement: allocator rounding and ORT's own scratch come on top.
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
  /** Spatial attention heads of the UNet (default: the manifest's, else the reference's 8). */
  heads?: number;
  /** 2 with classifier-free guidance in one batch, 1 with sequential guidance. */
  batch?: number;
  /** Feature maps of the largest level alive besides the attention (reference: about 6). */
  featureMaps?: number;
  /**
   * 'sliced' (default: the manifest's query chunks, what the exported graphs hold),
   * 'materialized' (every query row at once: MatMul, Softmax, MatMul over the whole score matrix,
   * as exports before the slicing were) or 'fused' (an attention op that never holds the score
   * matrix; the exporter does not emit one): then no scores are counted.
   */
  attention?: 'sliced' | 'materialized' | 'fused';
  /** Weight bytes per component, when the manifest's file sizes are not the ones to count. */
  weightBytes?: Partial<Record<ComponentName, number>>;
}

export interface Stage1MemoryEstimate {
  precision: Precision;
  batch: number;
  weights: number;
  runTensors: number;
  /** One attention chunk's scores + softmax (fp32) at the largest chunk. */
  attention: number;
  /** The GEGLU projection and its two halves at the top level. */
  feedForward: number;
  featureMaps: number;
  peak: number;
  /**
   * The largest single tensor, against maxStorageBufferBindingSize: one attention chunk's scores
   * (all images and heads) or the top level's GEGLU projection, whichever is larger.
   */
  largestTensor: number;
  /** Which of the two `largestTensor` is. */
  largestTensorIs: 'attention scores' | 'GEGLU projection';
}

const F32 = 4;

export function stage1PeakMemory(
  manifest: Pick<Manifest, 'canvas' | 'latent' | 'stage1_frames' | 'text' | 'components'>,
  precision: Precision,
  options: Stage1MemoryOptions = {},
): Stage1MemoryEstimate {
  const slicing = manifest.components.stage1_unet.spatial_attention;
  const heads = options.heads ?? slicing?.heads ?? 8;
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
  const mode = options.attention ?? 'sliced';
  // query rows x keys of one chunk, the largest over the levels' self- and cross-attentions
  let chunkElems = tokens * tokens;
  if (mode === 'sliced' && slicing) {
    chunkElems = Math.max(...slicing.chunks.map((c) => c.rows * c.keys));
  } else if (mode !== 'fused') {
    chunkElems = Math.max(tokens * tokens, tokens * manifest.text.max_length);
  }
  const scores = mode === 'fused' ? 0 : F32 * images * heads * chunkElems;
  const attention = 2 * scores;
  const gegluProjection = images * 8 * C * tokens * act;
  const feedForward = 2 * gegluProjection;
  const featureMaps = maps * images * C * tokens * act;
  return {
    precision,
    batch: B,
    weights,
    runTensors,
    attention,
    feedForward,
    featureMaps,
    peak: weights + runTensors + Math.max(attention, feedForward) + featureMaps,
    largestTensor: Math.max(scores, gegluProjection),
    largestTensorIs: scores > gegluProjection ? 'attention scores' : 'GEGLU projection',
  };
}

/** How stage 1 runs classifier-free guidance: [uncond, cond] in one batch of 2, or batch 1 twice. */
export type GuidanceBatching = 'batched' | 'sequential';

/**
 * 'sequential' when the batch-2 graphs' largest tensor (fp32 activations: the pipeline does not
 * know the sessions' precision, and fp32 is the larger) exceeds the device's
 * maxStorageBufferBindingSize, which no session could bind; 'batched' otherwise (one UNet call per
 * step instead of two).
 */
export function chooseGuidanceBatching(
  manifest: Pick<Manifest, 'canvas' | 'latent' | 'stage1_frames' | 'text' | 'components'>,
  maxStorageBufferBindingSize: number,
): GuidanceBatching {
  const weightBytes = Object.fromEntries(STAGE1_COMPONENTS.map((c) => [c, 0]));
  const two = stage1PeakMemory(manifest, 'fp32', { batch: 2, weightBytes });
  return two.largestTensor > maxStorageBufferBindingSize ? 'sequential' : 'batched';
}
