/**
 * Stage-1 peak memory estimate: checked by hand on the tiny pack's manifest, then evaluated for
 * the full-size pack (512 x 320, 15 flows, SD 1.5 UNet shapes) with weight sizes computed by
 * the exporter's modules from their parameter shapes (Python, at test time) -- the numbers the
 * README quotes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ComponentName, Manifest, Precision, SpatialAttentionSpec, TensorSpec } from '../../models/manifest';
import { chooseGuidanceBatching, STAGE1_COMPONENTS, stage1PeakMemory } from './memory';

const ROOT = resolve(import.meta.dirname, '../../..');
const tiny = JSON.parse(readFileSync(resolve(ROOT, 'public/models/tiny/manifest.json'), 'utf8')) as Manifest;

describe('stage1PeakMemory', () => {
  it('adds up the tiny pack by hand', () => {
    const e = stage1PeakMemory(tiny, 'fp32');
    const files = STAGE1_COMPONENTS.flatMap((c) => tiny.components[c].files.fp32!);
    expect(e.weights).toBe(files.reduce((s, f) => s + f.bytes, 0));
    // top level 16 ch at 4 x 6 = 24 tokens; 2 (CFG) * 3 frames = 6 images, 2 heads. The 8 KiB score
    // budget (configs.TINY) allows floor(8192 / (4 * 6 * 2 * 24)) = 7 of the 24 self-attention query
    // rows, i.e. 4 chunks, evened to 6 rows; cross-attention over 16 text tokens: 10 -> 3 chunks of 8.
    // Largest chunk 6 x 24; scores + softmax, fp32:
    expect(e.attention).toBe(8 * 6 * 2 * 6 * 24);
    // GEGLU: projection 8 * 16 ch and its halves 4 * 16 each, fp32; it is also the largest tensor
    expect(e.feedForward).toBe(4 * 6 * 16 * 16 * 24);
    expect(e.largestTensor).toBe(4 * 6 * 8 * 16 * 24);
    expect(e.largestTensorIs).toBe('GEGLU projection');
    expect(e.featureMaps).toBe(6 * 2 * 3 * 16 * 24 * 4);
    // context 2x16x32, image latent 4x4x6, latents 4x3x4x6, sample 2x8x3x4x6, control 2x5x3x4x6,
    // residuals 6 x (16*24 + 16*24 + 16*6 + 32*6 + 32*6), noise_pred 2x4x3x4x6
    const lat = 4 * 3 * 24;
    expect(e.runTensors).toBe(
      4 * (2 * 16 * 32 + 4 * 24 + lat + 2 * 2 * lat + 2 * 5 * 3 * 24 + 6 * (16 * 24 * 2 + 16 * 6 + 32 * 6 * 2) + 2 * lat),
    );
    expect(e.peak).toBe(e.weights + e.runTensors + e.feedForward + e.featureMaps);
    expect(stage1PeakMemory(tiny, 'fp32', { batch: 1 }).attention).toBe(e.attention / 2);
    // every query row at once: the whole 24 x 24 matrix
    expect(stage1PeakMemory(tiny, 'fp32', { attention: 'materialized' }).attention).toBe(8 * 6 * 2 * 24 * 24);
  });

  it('runs the CFG halves one after the other only when the batch-2 largest tensor cannot be bound', () => {
    // tiny: the GEGLU projection at batch 2, fp32: 6 images x 128 channels x 24 tokens x 4 bytes
    const largest = 6 * 128 * 24 * 4;
    expect(chooseGuidanceBatching(tiny, largest)).toBe('batched');
    expect(chooseGuidanceBatching(tiny, largest - 4)).toBe('sequential');
  });

  it('reads the slicing from the manifest, not from the options', () => {
    const m = structuredClone(tiny);
    const chunk = m.components.stage1_unet.spatial_attention!.chunks[0];
    chunk.rows = 3;
    chunk.chunks = 8;
    // now the cross-attention's 8 x 16 chunk is the largest
    expect(stage1PeakMemory(m, 'fp32').attention).toBe(8 * 6 * 2 * 8 * 16);
    delete m.components.stage1_unet.spatial_attention;
    expect(stage1PeakMemory(m, 'fp32', { heads: 2 }).attention).toBe(8 * 6 * 2 * 24 * 24);
  });

  it('full size, per precision (README numbers)', () => {
    const py = `
import json, math, sys
sys.path.insert(0, ".")
from tools.export.clip import CLIPTextModel
from tools.export.configs import FULL
from tools.export.manifest import spatial_attention_entry
from tools.export.meta import meta_init
from tools.export.sizes import component_sizes
from tools.export.unet import ControlNetModel, UNet3DConditionModel
from tools.export.vae import AutoencoderKL
def split(mods):
    out = {}
    for m in mods:
        for k, v in component_sizes(m).items(): out[k] = out.get(k, 0) + v
    return out
with meta_init():
    vae = AutoencoderKL(FULL.image_vae); fvae = AutoencoderKL(FULL.flow_vae)
    print(json.dumps({"slicing": spatial_attention_entry(FULL, FULL.stage1_unet), "sizes": {"text_encoder": split([CLIPTextModel(FULL.text)]), "vae_encoder": split([vae.encoder, vae.quant_conv]),
        "flow_vae_encoder": split([fvae.encoder, fvae.quant_conv]), "flow_vae_decoder": split([fvae.decoder, fvae.post_quant_conv]),
        "stage1_unet": split([UNet3DConditionModel(FULL.stage1_unet)]), "controlnet": split([ControlNetModel(FULL.stage1_unet)])}}))
`;
    const { sizes, slicing } = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { cwd: ROOT, encoding: 'utf8' })) as {
      sizes: Record<ComponentName, Record<Precision, number>>;
      slicing: SpatialAttentionSpec;
    };
    // the exporter's slicing at 64 x 40 latents, 30 images, 8 heads, 128 MiB: a self-attention row
    // of scores is 4 * 30 * 8 * 2560 = 2,457,600 bytes, 2^27 / that = 54.6 -> 54 rows, 2560 / 54 ->
    // 48 chunks, evened: ceil(2560 / 48) = 54 rows
    expect(slicing.score_bytes).toBe(2 ** 27);
    expect(slicing.chunks[0]).toEqual({ queries: 2560, keys: 2560, rows: 54, chunks: 48 });
    // SD 1.5 UNet skips at 512 x 320 (latent 64 x 40)
    const res = (name: string, c: number, h: number, w: number): TensorSpec => ({
      name,
      dtype: 'float32',
      shape: ['batch_frames', c, h, w],
    });
    const levels: [number, number, number][] = [
      [320, 40, 64],
      [320, 40, 64],
      [320, 40, 64],
      [320, 20, 32],
      [640, 20, 32],
      [640, 20, 32],
      [640, 10, 16],
      [1280, 10, 16],
      [1280, 10, 16],
      [1280, 5, 8],
      [1280, 5, 8],
      [1280, 5, 8],
    ];
    const full = {
      canvas: { width: 512, height: 320 },
      latent: { width: 64, height: 40, channels: 4, factor: 8 },
      stage1_frames: 15,
      text: { max_length: 77, hidden_size: 768 },
      components: {
        stage1_unet: {
          inputs: [...levels.map(([c, h, w], i) => res(`down_residual_${i}`, c, h, w)), res('mid_residual', 1280, 5, 8)],
          outputs: [],
          files: {},
        },
      },
    } as unknown as Manifest;
    const GB = (b: number) => (b / 1e9).toFixed(2);
    const rows: string[] = [];
    full.components.stage1_unet.spatial_attention = slicing;
    const MB = (b: number) => (b / 1e6).toFixed(0);
    for (const p of ['fp32', 'q8', 'q4', 'fp16', 'q4f16', 'q4c8', 'q4c8f16'] as Precision[]) {
      const act = p === 'fp16' || p === 'q4f16' || p === 'q4c8f16' ? 2 : 4;
      const weightBytes = Object.fromEntries(STAGE1_COMPONENTS.map((c) => [c, sizes[c][p]]));
      const two = stage1PeakMemory(full, p, { weightBytes });
      const one = stage1PeakMemory(full, p, { weightBytes, batch: 1 });
      const wholeTwo = stage1PeakMemory(full, p, { weightBytes, attention: 'materialized' });
      const wholeOne = stage1PeakMemory(full, p, { weightBytes, attention: 'materialized', batch: 1 });
      rows.push(
        `| ${p} | ${GB(two.weights)} | ${GB(two.peak)} | ${GB(one.peak)} | ${GB(wholeTwo.peak)} / ${GB(wholeOne.peak)} | ${MB(two.attention / 2)} / ${MB(one.attention / 2)} | ${MB(two.largestTensor)} / ${MB(one.largestTensor)} |`,
      );
      // one chunk of 54 query rows x 2560 keys over 30 images x 8 heads, scores + softmax in fp32
      expect(two.attention).toBe(8 * 30 * 8 * 54 * 2560);
      expect(two.attention / 2).toBeLessThanOrEqual(2 ** 27);
      expect(one.attention).toBe(two.attention / 2);
      // as exported before: the whole 2560^2 matrix
      expect(wholeTwo.attention).toBe(8 * 30 * 8 * 2560 * 2560);
      // the largest tensor is now the GEGLU projection: 8 * 320 channels x 2560 tokens x 30 images
      expect(two.largestTensorIs).toBe('GEGLU projection');
      expect(two.largestTensor).toBe(30 * 8 * 320 * 2560 * act);
      expect(two.peak).toBeGreaterThan(one.peak);
      expect(wholeOne.peak).toBeGreaterThan(one.peak);
    }
    // issue 11: full-size stage 1 in q4f16 within 6 GB, already at CFG batch 2
    const q4f16 = Object.fromEntries(STAGE1_COMPONENTS.map((c) => [c, sizes[c].q4f16]));
    expect(stage1PeakMemory(full, 'q4f16', { weightBytes: q4f16 }).peak).toBeLessThanOrEqual(6e9);
    console.log(
      [
        '| precision | weights | peak, CFG batch 2 | peak, sequential CFG | before slicing, b2 / b1 | largest score chunk, MB, b2 / b1 | largest tensor (GEGLU), MB, b2 / b1 |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...rows,
      ].join('\n'),
    );
    expect(sizes.stage1_unet.fp32).toBe(5259169296); // README "Full-size sizes" table: 5,259 MB
  }, 60_000);
});
