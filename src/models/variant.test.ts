import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localSource, packBaseUrl } from './loader';
import { parseManifest, type Manifest } from './manifest';
import { formatBytes, ModelPackError } from './packErrors';
import { createRateMeter } from './progress';
import { chooseVariant, packFiles, packId, smallerVariants, totalBytes } from './variant';

const DIR = resolve(import.meta.dirname, '../../public/models/tiny');
const tiny = parseManifest(readFileSync(resolve(DIR, 'manifest.json'), 'utf8'));
const withPrecisions = (ps: Manifest['precisions']): Manifest => ({ ...tiny, precisions: ps });

describe('chooseVariant', () => {
  it('takes fp32 activations without shader-f16 and fp16 with it', () => {
    expect(chooseVariant(tiny, { shaderF16: false })).toBe('fp32');
    expect(chooseVariant(withPrecisions(['q4f16', 'fp16', 'q8']), { shaderF16: true })).toBe('fp16');
    expect(chooseVariant(withPrecisions(['q4f16', 'q8']), { shaderF16: true })).toBe('q4f16');
    expect(chooseVariant(withPrecisions(['q4f16', 'q8']), { shaderF16: false })).toBe('q8');
    // the exporter's default pack: the small pair, one for each kind of adapter
    expect(chooseVariant(withPrecisions(['q4c8f16', 'q4c8']), { shaderF16: true })).toBe('q4c8f16');
    expect(chooseVariant(withPrecisions(['q4c8f16', 'q4c8']), { shaderF16: false })).toBe('q4c8');
    expect(chooseVariant(withPrecisions(['q4c8f16', 'q4f16']), { shaderF16: true })).toBe('q4f16');
    expect(() => chooseVariant(withPrecisions(['q4c8f16']), { shaderF16: false, override: 'q4c8f16' })).toThrow(/shader-f16/);
  });
  it('honours the user override and refuses one the pack or GPU cannot serve', () => {
    expect(chooseVariant(tiny, { shaderF16: false, override: 'q4' })).toBe('q4');
    expect(() => chooseVariant(tiny, { shaderF16: true, override: 'fp16' })).toThrow(/no fp16 variant; it offers fp32, q8, q4/);
    expect(() => chooseVariant(withPrecisions(['fp16']), { shaderF16: false, override: 'fp16' })).toThrow(/shader-f16/);
    expect(() => chooseVariant(withPrecisions(['fp16', 'q4f16']), { shaderF16: false })).toThrow(ModelPackError);
  });
});

describe('smallerVariants', () => {
  it('lists the lighter precisions the adapter can run, heaviest first', () => {
    const all = ['fp32', 'fp16', 'q8', 'q4', 'q4f16', 'q4c8', 'q4c8f16'] as const;
    // full-size pack bytes: q4 (fp32 convs) 7.6 GB > fp16 7.0 > q4f16 4.3 > q8 3.6 > q4c8 2.9 > q4c8f16 2.7
    expect(smallerVariants(all, 'fp32', false)).toEqual(['q4', 'q8', 'q4c8']);
    expect(smallerVariants(all, 'fp32', true)).toEqual(['q4', 'fp16', 'q4f16', 'q8', 'q4c8', 'q4c8f16']);
    expect(smallerVariants(all, 'fp16', true)).toEqual(['q4f16', 'q8', 'q4c8', 'q4c8f16']);
    expect(smallerVariants(all, 'q4f16', false)).toEqual(['q8', 'q4c8']);
    expect(smallerVariants(['fp32', 'q8', 'q4'], 'q4', false)).toEqual(['q8']);
    expect(smallerVariants(['fp32', 'q8', 'q4', 'q4c8'], 'q8', false)).toEqual(['q4c8']);
    expect(smallerVariants(all, 'q4c8f16', true)).toEqual([]);
  });
});

describe('packFiles', () => {
  it('lists the tokenizer, every component and segment of one variant, and goldens only when asked', () => {
    const q8 = packFiles(tiny, 'q8');
    const paths = q8.map((f) => f.path);
    expect(paths).toContain('tokenizer/vocab.json');
    expect(paths).toContain('stage1_unet.q8.onnx');
    expect(paths).toContain('stage2_unet.seg14.q8.onnx');
    expect(paths.some((p) => p.startsWith('goldens/'))).toBe(false);
    expect(paths.every((p) => p.startsWith('tokenizer/') || p.includes('.q8.'))).toBe(true);
    expect(new Set(paths).size).toBe(paths.length);
    // Every listed byte count equals the committed file's size.
    for (const f of q8) expect(readFileSync(resolve(DIR, f.path)).byteLength).toBe(f.bytes);
    const withGoldens = packFiles(tiny, 'q8', { goldens: true });
    expect(withGoldens.length).toBe(q8.length + tiny.goldens!.length);
    expect(totalBytes(withGoldens)).toBeGreaterThan(totalBytes(q8));
  });
  it('makes a folder-safe id per name and variant', () => {
    expect(packId('motion-i2v-tiny', 'q8')).toBe('motion-i2v-tiny.q8');
    expect(packId('../Evil/Name', 'fp32')).toBe('evil-name.fp32');
  });
});

describe('packBaseUrl', () => {
  const origin = 'http://127.0.0.1:4173';
  it('turns what a user types into the folder URL', () => {
    expect(packBaseUrl('https://example.com/packs/full', origin).href).toBe('https://example.com/packs/full/');
    expect(packBaseUrl('https://example.com/packs/full/manifest.json?x=1#y', origin).href).toBe('https://example.com/packs/full/');
    expect(packBaseUrl('/models/tiny', origin).href).toBe('http://127.0.0.1:4173/models/tiny/');
    expect(packBaseUrl('http://localhost:9000/p/', origin).href).toBe('http://localhost:9000/p/');
  });
  it('refuses plain http elsewhere, other schemes and credentials', () => {
    for (const bad of ['http://example.com/p/', 'ftp://example.com/p/', 'https://user:pw@example.com/p/', 'javascript:alert(1)']) {
      expect(() => packBaseUrl(bad, origin), bad).toThrow(/https/);
    }
  });
});

describe('localSource', () => {
  const file = (name: string, text = name) => new File([text], name.split('/').pop()!);
  it('finds the pack folder by its manifest.json and maps pack paths below it', async () => {
    const src = localSource([
      { path: 'out/manifest.json', file: file('out/manifest.json', '{"schema":1}') },
      { path: 'out/tokenizer/vocab.json', file: file('out/tokenizer/vocab.json', 'V') },
      { path: 'out/goldens/tokenizer.bin', file: file('x') },
    ]);
    expect(src.info).toEqual({ kind: 'local', label: 'out' });
    expect(await src.readManifest()).toBe('{"schema":1}');
    const opened = await src.open({ path: 'tokenizer/vocab.json', bytes: 1, sha256: '0'.repeat(64) }, 0);
    expect(await new Response(opened.body).text()).toBe('V');
    expect(() => src.check!([{ path: 'tokenizer/merges.txt', bytes: 1, sha256: '0'.repeat(64) }])).toThrow(
      /lacks 1 file.*tokenizer\/merges\.txt/,
    );
  });
  it('matches loose files by unique name and resumes from an offset', async () => {
    const src = localSource([
      { path: 'manifest.json', file: file('manifest.json') },
      { path: 'vocab.json', file: file('vocab.json', 'abcdef') },
    ]);
    const opened = await src.open({ path: 'tokenizer/vocab.json', bytes: 6, sha256: '0'.repeat(64) }, 4);
    expect(opened.start).toBe(4);
    expect(await new Response(opened.body).text()).toBe('ef');
  });
  it('says so when no manifest.json was chosen', () => {
    expect(() => localSource([{ path: 'a.onnx', file: file('a.onnx') }])).toThrow(/no manifest\.json/);
  });
});

describe('rate meter and sizes', () => {
  it('measures bytes per second over its window and gives time left', () => {
    const m = createRateMeter(1000);
    expect(m.eta(100)).toBeNull();
    m.sample(0, 0);
    m.sample(500, 500);
    m.sample(1000, 1000);
    expect(m.rate()).toBeCloseTo(1000);
    expect(m.eta(3000)).toBeCloseTo(3);
    // A stall drags the rate down once the window slides past the fast samples.
    m.sample(1000, 3000);
    m.sample(1000, 4000);
    expect(m.rate()).toBe(0);
  });
  it('formats sizes in decimal units', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 KB');
    expect(formatBytes(20_100_000)).toBe('20.1 MB');
    expect(formatBytes(2.5e9)).toBe('2.5 GB');
  });
});
