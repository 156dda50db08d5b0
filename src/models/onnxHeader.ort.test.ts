/**
 * readOnnxSignature against ONNX Runtime itself (its wasm build in Node): for every fp32 .onnx file of
 * the tiny pack and two quantised ones, the inputs and outputs the header reader finds have the names,
 * element types and ranks ORT's session reports, and every fixed dimension of the file is ORT's.
 * ORT also fills in dimensions its shape inference resolves where the file declares a symbol
 * (vae_encoder's latent: the file says Addlatent_dim_0..3, as the `onnx` Python package reads
 * it; ORT says 1, 4, 6, 8), so a symbol here may be a number there. A file cut short or not ONNX
 * at all is refused.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { OnnxFormatError, readOnnxSignature } from './onnxHeader';
import type { ValueMetadata } from './signature';

const BASE = resolve(import.meta.dirname, '../../public/models/tiny');
ort.env.wasm.numThreads = 1;

/** The file's metadata as ORT would report it: a symbolic dimension takes ORT's value. */
function asOrtSees(mine: readonly ValueMetadata[] = [], ort: readonly ort.InferenceSession.ValueMetadata[]) {
  return mine.map((v, i) => {
    const o = ort[i];
    if (!v.isTensor || !o?.isTensor || !v.shape) return v;
    return { ...v, shape: v.shape.map((d, k) => (typeof d === 'string' ? o.shape[k] : d)) };
  });
}
const plain = (m: readonly ort.InferenceSession.ValueMetadata[]) =>
  m.map((v) => (v.isTensor ? { name: v.name, isTensor: true, type: v.type, shape: [...v.shape] } : { name: v.name, isTensor: false }));

describe('readOnnxSignature', () => {
  it('reads what ORT reads, for the files of the tiny pack', async () => {
    const fp32 = readdirSync(BASE).filter((f) => f.endsWith('.onnx') && !/\.q\w+\.onnx$/.test(f));
    expect(fp32.length).toBeGreaterThan(20);
    const files = [...fp32, 'stage1_unet.q4.onnx', 'stage2_unet.seg07.q8.onnx', 'controlnet.q4c8.onnx'];
    for (const f of files) {
      const bytes = readFileSync(`${BASE}/${f}`);
      const s = await ort.InferenceSession.create(bytes);
      try {
        const mine = await readOnnxSignature(new Blob([bytes]));
        expect(mine.inputNames, f).toEqual(s.inputNames);
        expect(mine.outputNames, f).toEqual(s.outputNames);
        expect(asOrtSees(mine.inputMetadata, s.inputMetadata), f).toEqual(plain(s.inputMetadata));
        expect(asOrtSees(mine.outputMetadata, s.outputMetadata), f).toEqual(plain(s.outputMetadata));
      } finally {
        await s.release();
      }
    }
  }, 120_000);

  it('keeps the symbols the file declares', async () => {
    const sig = await readOnnxSignature(new Blob([readFileSync(`${BASE}/vae_encoder.onnx`)]));
    expect(sig.outputMetadata?.find((o) => o.name === 'latent')?.shape).toEqual([0, 1, 2, 3].map((i) => `Addlatent_dim_${i}`));
    const seg = await readOnnxSignature(new Blob([readFileSync(`${BASE}/stage2_unet.seg01.onnx`)]));
    expect(seg.inputMetadata).toEqual([
      { name: 'attn_0', isTensor: true, type: 'float32', shape: ['batch_frames', 4, 6, 16] },
      { name: 'x_0', isTensor: true, type: 'float32', shape: ['batch_frames', 4, 6, 16] },
    ]);
  });

  it('refuses a file that is cut short or is not a model', async () => {
    const bytes = readFileSync(`${BASE}/vae_encoder.onnx`);
    await expect(readOnnxSignature(new Blob([bytes.subarray(0, bytes.length >> 1)]))).rejects.toThrow(OnnxFormatError);
    await expect(readOnnxSignature(new Blob(['{"not": "onnx"}']))).rejects.toThrow(OnnxFormatError);
  });
});
