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
import type { ComponentName, Manifest, Precision, TensorSpec } from '../../models/manifest';
import { STAGE1_COMPONENTS, stage1PeakMemory } from './memory';

const ROOT = resolve(import.meta.dirname, '../../..');
const tiny = JSON.parse(readFileSync(resolve(ROOT, 'public/models/tiny/manifest.json'), 'utf8')) as Manifest;

describe('stage1PeakMemory', () => {
  it('adds up the tiny pack by hand', () => {
    const e = stage1PeakMemory(tiny, 'fp32', { heads: 2 });
    const files = STAGE1_COMPONENTS.flatMap((c) => tiny.components[c].files.fp32!);
    expect(e.weights).toBe(files.reduce((s, f) => s + f.bytes, 0));
    // top level 16 ch at 4 x 6 = 24 tokens; 2 (CFG) * 3 frames images, 2 heads: scores + softmax, fp32
    expect(e.attention).toBe(8 * 2 * 3 * 2 * 24 * 24);
    expect(e.largestTensor).toBe(4 * 2 * 3 * 2 * 24 * 24);
    expect(e.featureMaps).toBe(6 * 2 * 3 * 16 * 24 * 4);
    // context 2x16x32, image latent 4x4x6, latents 4x3x4x6, sample 2x8x3x4x6, control 2x5x3x4x6,
    // residuals 6 x (16*24 + 16*24 + 16*6 + 32*6 + 32*6), noise_pred 2x4x3x4x6
    const lat = 4 * 3 * 24;
    expect(e.runTensors).toBe(
      4 * (2 * 16 * 32 + 4 * 24 + lat + 2 * 2 * lat + 2 * 5 * 3 * 24 + 6 * (16 * 24 * 2 + 16 * 6 + 32 * 6 * 2) + 2 * lat),
    );
    expect(e.peak).toBe(e.weights + e.runTensors + e.attention + e.featureMaps);
    expect(stage1PeakMemory(tiny, 'fp32', { heads: 2, batch: 1 }).attention).toBe(e.attention / 2);
  });

  it('full size, per precision (README numbers)', () => {
    const py = `
import json, math, sys
sys.path.insert(0, ".")
from tools.export.clip import CLIPTextModel
from tools.export.configs import FULL
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
    print(json.dumps({"text_encoder": split([CLIPTextModel(FULL.text)]), "vae_encoder": split([vae.encoder, vae.quant_conv]),
        "flow_vae_encoder": split([fvae.encoder, fvae.quant_conv]), "flow_vae_decoder": split([fvae.decoder, fvae.post_quant_conv]),
        "stage1_unet": split([UNet3DConditionModel(FULL.stage1_unet)]), "controlnet": split([ControlNetModel(FULL.stage1_unet)])}))
`;
    const sizes = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { cwd: ROOT, encoding: 'utf8' })) as Record<
      ComponentName,
      Record<Precision, number>
    >;
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
    for (const p of ['fp32', 'q8', 'q4', 'fp16', 'q4f16', 'q4c8', 'q4c8f16'] as Precision[]) {
      const weightBytes = Object.fromEntries(STAGE1_COMPONENTS.map((c) => [c, sizes[c][p]]));
      const two = stage1PeakMemory(full, p, { weightBytes });
      const one = stage1PeakMemory(full, p, { weightBytes, batch: 1 });
      const fusedTwo = stage1PeakMemory(full, p, { weightBytes, attention: 'fused' });
      const fusedOne = stage1PeakMemory(full, p, { weightBytes, attention: 'fused', batch: 1 });
      rows.push(
        `| ${p} | ${GB(two.weights)} | ${GB(two.peak)} | ${GB(one.peak)} | ${GB(two.largestTensor)} / ${GB(one.largestTensor)} | ${GB(fusedTwo.peak)} | ${GB(fusedOne.peak)} |`,
      );
      expect(fusedTwo.peak).toBeLessThan(two.peak);
      expect(two.peak).toBeGreaterThan(one.peak);
      // one 64x40 attention score matrix over 30 images x 8 heads: 2560^2 * 240 fp32 values
      expect(two.largestTensor).toBe(4 * 30 * 8 * 2560 * 2560);
    }
    console.log(
      [
        '| precision | weights | peak, CFG batch 2 | peak, sequential CFG | largest tensor (b2 / b1) | peak, fused attention, b2 | peak, fused attention, b1 |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...rows,
      ].join('\n'),
    );
    expect(sizes.stage1_unet.fp32).toBe(5259169296); // README "Full-size sizes" table: 5,259 MB
  }, 60_000);
});
