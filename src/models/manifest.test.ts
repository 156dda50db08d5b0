import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from './manifest';

const TINY = readFileSync(resolve(import.meta.dirname, '../../public/models/tiny/manifest.json'), 'utf8');
const tiny = () => JSON.parse(TINY);

function fieldOf(mutate: (m: any) => void): { field: string; message: string; reason: string } {
  const m = tiny();
  mutate(m);
  try {
    parseManifest(JSON.stringify(m));
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    const err = e as ManifestError;
    expect(err.code).toBe('model-pack');
    return { field: err.field, message: err.message, reason: err.reason };
  }
  throw new Error('parseManifest accepted a bad manifest');
}

describe('parseManifest', () => {
  it('accepts the real tiny manifest and keeps every file entry', () => {
    const m = parseManifest(TINY);
    const raw = tiny();
    expect(m.name).toBe('motion-i2v-tiny');
    expect(m.precisions).toEqual(['fp32', 'q8', 'q4', 'q4c8']);
    expect(m.components.vae_encoder.files.fp32).toEqual(raw.components.vae_encoder.files.fp32);
    expect(m.components.stage2_unet!.segments).toEqual(raw.components.stage2_unet.segments);
    expect(m.components.stage2_unet!.inputs).toEqual(raw.components.stage2_unet.inputs);
    expect(m.components.stage2_unet!.plan).toEqual(raw.components.stage2_unet.plan);
    expect(m.goldens).toEqual(raw.goldens);
    expect(m.scheduler).toEqual(raw.scheduler);
    expect(m.components.stage1_unet.spatial_attention).toEqual(raw.components.stage1_unet.spatial_attention);
    expect(m.components.stage2_unet!.spatial_attention).toEqual(raw.components.stage2_unet.spatial_attention);
    // the tiny pack's top level is sliced (4 chunks of 6 of its 24 query rows in stage 1)
    expect(m.components.stage1_unet.spatial_attention!.chunks[0]).toEqual({ queries: 24, keys: 24, rows: 6, chunks: 4 });
  });

  it('names the field of a forged sha256', () => {
    const r = fieldOf((m) => (m.components.vae_encoder.files.fp32[0].sha256 = 'abc'));
    expect(r.field).toBe('components.vae_encoder.files.fp32[0].sha256');
    expect(r.message).toContain('components.vae_encoder.files.fp32[0].sha256');
  });

  it.each([
    [
      'a path escaping the pack',
      (m: any) => (m.components.controlnet.files.q8[0].path = '../../etc/passwd'),
      'components.controlnet.files.q8[0].path',
    ],
    ['an absolute URL as path', (m: any) => (m.tokenizer.files[0].path = 'https://evil.example/x'), 'tokenizer.files[0].path'],
    ['an absolute path', (m: any) => (m.goldens[3].path = '/x.bin'), 'goldens[3].path'],
    ['negative bytes', (m: any) => (m.components.stage1_unet.files.q4[0].bytes = -1), 'components.stage1_unet.files.q4[0].bytes'],
    ['fractional bytes', (m: any) => (m.components.stage1_unet.files.q4[0].bytes = 1.5), 'components.stage1_unet.files.q4[0].bytes'],
    ['a missing component', (m: any) => delete m.components.text_encoder, 'components.text_encoder'],
    ['a declared precision without files', (m: any) => delete m.components.vae_decoder.files.q8, 'components.vae_decoder.files.q8'],
    ['an unknown precision', (m: any) => (m.precisions = ['fp32', 'int3']), 'precisions[1]'],
    ['a bad dtype', (m: any) => (m.components.vae_encoder.inputs[0].dtype = 'float64'), 'components.vae_encoder.inputs[0].dtype'],
    ['a segment out of order', (m: any) => (m.components.stage2_unet.segments[2].index = 7), 'components.stage2_unet.segments[2].index'],
    [
      'a plan step naming no segment',
      (m: any) => (m.components.stage2_unet.plan[0].segment = 99),
      'components.stage2_unet.plan[0].segment',
    ],
    [
      'an attention chunk count that does not cover its queries',
      (m: any) => (m.components.controlnet.spatial_attention.chunks[0].chunks = 3),
      'components.controlnet.spatial_attention.chunks[0].chunks',
    ],
    [
      'attention chunks over their score budget',
      (m: any) => {
        const c = m.components.stage1_unet.spatial_attention.chunks[0];
        c.rows = 12;
        c.chunks = 2;
      },
      'components.stage1_unet.spatial_attention.chunks[0].rows',
    ],
    ['strides of the wrong length', (m: any) => m.strides.pop(), 'strides'],
    ['a string where a number belongs', (m: any) => (m.canvas.width = '64'), 'canvas.width'],
    ['a scheduler of another kind', (m: any) => (m.scheduler.name = 'PNDM'), 'scheduler.name'],
    ['a tokenizer vocab not among its files', (m: any) => (m.tokenizer.vocab = 'tokenizer/other.json'), 'tokenizer.vocab'],
    [
      'one path listed twice with other contents',
      (m: any) => (m.components.vae_encoder.files.q4[0].path = m.components.vae_encoder.files.fp32[0].path),
      'components.vae_encoder.files.q4[0]',
    ],
  ])('rejects %s, naming the field', (_what, mutate, field) => {
    expect(fieldOf(mutate).field).toBe(field);
  });

  it('rejects another schema version with a message saying which side to update', () => {
    const newer = fieldOf((m) => (m.schema = 2));
    expect(newer.reason).toBe('schema');
    expect(newer.message).toMatch(/schema 2; this app reads schema 1\. Update the app/);
    const older = fieldOf((m) => (m.schema = 0));
    expect(older.message).toMatch(/Re-export/);
    expect(fieldOf((m) => delete m.schema).field).toBe('schema');
  });

  it('rejects text that is not JSON without leaking parser internals', () => {
    try {
      parseManifest(TINY.slice(0, 500));
      throw new Error('accepted');
    } catch (e) {
      expect((e as ManifestError).reason).toBe('json');
      expect((e as Error).message).toMatch(/not valid JSON/);
      expect((e as Error).message).not.toMatch(/position|Unexpected/);
    }
  });
});
