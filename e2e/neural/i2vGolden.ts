/**
 * The requests of the full-I2V golden (goldens/pipeline_i2v.bin, tools/export/make_tiny.py): its
 * image, prompt, settings, noise, ControlNet condition and brush as Stage1Pipeline and
 * Stage2Pipeline take them. Shared by the browser harness (stage2Harness.ts i2v()) and the GPU
 * kit's I2V benchmark (bench/node/i2v.ts), so both run the golden's inputs the same way.
 */
import type { GpuTensor } from '../../src/gpu/tensor';
import type { Manifest } from '../../src/models/manifest';
import type { Stage1Request } from '../../src/pipeline/neural/stage1';
import type { Stage2Request } from '../../src/pipeline/neural/stage2';
import type { GoldenFile } from '../reference/mi2g';

export interface I2vGoldenMeta {
  prompt: string;
  negative_prompt: string;
  steps: number;
  guidance: number;
}

export function i2vGoldenTensor(g: GoldenFile, name: string) {
  const t = g.tensors.get(name);
  if (!t) throw new Error(`pipeline_i2v.bin has no ${name}`);
  return t;
}

/** Stage 1's request, and stage 2's less its flows (stage 1's output). `image01` is the golden's image01 on the GPU. */
export function i2vGoldenRequests(
  g: GoldenFile,
  manifest: Pick<Manifest, 'strides'>,
  image01: GpuTensor,
): { stage1: Stage1Request; stage2: Omit<Stage2Request, 'flows'> } {
  const meta = g.meta as unknown as I2vGoldenMeta;
  const f32 = (name: string) => i2vGoldenTensor(g, name).data as Float32Array;
  const brush = f32('brush');
  const common = { image01, prompt: meta.prompt, negativePrompt: meta.negative_prompt, steps: meta.steps, guidance: meta.guidance };
  return {
    stage1: {
      ...common,
      strides: manifest.strides,
      noise: f32('noise_stage1'),
      imageEps: f32('eps_image_stage1'),
      control: { sparseFlow01: f32('sparse_flow01'), mask: f32('sparse_mask'), eps: f32('eps_control'), scale: 1 },
      staticMask: brush,
    },
    stage2: { ...common, noise: f32('noise_stage2'), imageEps: f32('eps_image_stage2'), staticMask: brush },
  };
}
