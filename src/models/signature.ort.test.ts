/**
 * The tiny pack's ONNX files against its manifest, through ORT itself (its wasm build in Node:
 * the signature is the model's, whatever the execution provider): every fp32 component passes
 * checkSignature, and a manifest naming a tensor the file lacks is refused.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { ComponentSpec, Manifest } from './manifest';
import { checkSignature, ModelSignatureError } from './signature';

const BASE = resolve(import.meta.dirname, '../../public/models/tiny');
const manifest = JSON.parse(readFileSync(`${BASE}/manifest.json`, 'utf8')) as Manifest;
ort.env.wasm.numThreads = 1;

describe('tiny pack sessions match the manifest', () => {
  it('every fp32 component', async () => {
    for (const [name, c] of Object.entries(manifest.components)) {
      if (name === 'stage2_unet') continue;
      const spec = c as ComponentSpec;
      const s = await ort.InferenceSession.create(readFileSync(`${BASE}/${spec.files.fp32![0].path}`));
      try {
        expect(() => checkSignature(name, spec, s), name).not.toThrow();
      } finally {
        await s.release();
      }
    }
  }, 120_000);

  it('refuses a manifest that renames an input', async () => {
    const spec = manifest.components.vae_encoder;
    const forged = { ...spec, inputs: spec.inputs.map((t) => (t.name === 'eps' ? { ...t, name: 'noise' } : t)) };
    const s = await ort.InferenceSession.create(readFileSync(`${BASE}/${spec.files.fp32![0].path}`));
    try {
      expect(() => checkSignature('vae_encoder', forged, s)).toThrow(ModelSignatureError);
      expect(() => checkSignature('vae_encoder', forged, s)).toThrow(
        /"vae_encoder", tensor "noise" is an input in the manifest but not in the ONNX file/,
      );
    } finally {
      await s.release();
    }
  }, 60_000);
});
