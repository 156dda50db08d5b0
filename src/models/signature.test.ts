import { describe, expect, it } from 'vitest';
import { checkSignature, chooseVariant, ModelSignatureError } from './signature';
import type { TensorSpec } from './manifest';

const spec: { inputs: TensorSpec[]; outputs: TensorSpec[] } = {
  inputs: [
    { name: 'image', dtype: 'float32', shape: [1, 3, 48, 64] },
    { name: 'eps', dtype: 'float32', shape: [1, 4, 6, 8] },
  ],
  outputs: [{ name: 'latent', dtype: 'float32', shape: ['n', 4, 6, 8] }],
};
const tensor = (name: string, type: string, shape: (number | string)[]) => ({ name, isTensor: true, type, shape });

describe('checkSignature', () => {
  it('accepts a matching session (symbolic dims match anything)', () => {
    expect(() =>
      checkSignature('vae_encoder', spec, {
        inputNames: ['image', 'eps'],
        outputNames: ['latent'],
        inputMetadata: [tensor('image', 'float32', ['b', 3, 48, 64]), tensor('eps', 'float32', [1, 4, 6, 8])],
        outputMetadata: [tensor('latent', 'float32', [1, 4, 'h', 8])],
      }),
    ).not.toThrow();
  });

  it.each([
    [
      'a missing input',
      { inputNames: ['image'], outputNames: ['latent'] },
      /"vae_encoder", tensor "eps" is an input in the manifest but not in the ONNX file/,
    ],
    [
      'an extra output',
      { inputNames: ['image', 'eps'], outputNames: ['latent', 'mean'] },
      /tensor "mean" is an output of the ONNX file but not in the manifest/,
    ],
    [
      'another dtype',
      { inputNames: ['image', 'eps'], outputNames: ['latent'], inputMetadata: [tensor('eps', 'float16', [1, 4, 6, 8])] },
      /"eps" has dtype float16 in the ONNX file, float32/,
    ],
    [
      'another dimension',
      { inputNames: ['image', 'eps'], outputNames: ['latent'], inputMetadata: [tensor('image', 'float32', [1, 3, 96, 64])] },
      /"image" has dimension 2 = 96 in the ONNX file, 48/,
    ],
    [
      'another rank',
      { inputNames: ['image', 'eps'], outputNames: ['latent'], outputMetadata: [tensor('latent', 'float32', [4, 6, 8])] },
      /"latent" has rank 3/,
    ],
  ])('refuses %s, naming component and tensor', (_what, session, message) => {
    let err: unknown;
    try {
      checkSignature('vae_encoder', spec, session);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelSignatureError);
    expect((err as ModelSignatureError).code).toBe('model-pack');
    expect((err as Error).message).toMatch(message);
  });
});

describe('chooseVariant', () => {
  it('prefers fp16 then q4f16 with shader-f16, fp32/q8/q4 without', () => {
    expect(chooseVariant(['fp32', 'q8', 'fp16', 'q4f16'], { shaderF16: true })).toBe('fp16');
    expect(chooseVariant(['q8', 'q4f16'], { shaderF16: true })).toBe('q4f16');
    expect(chooseVariant(['fp32', 'q8', 'fp16', 'q4f16'], { shaderF16: false })).toBe('fp32');
    expect(chooseVariant(['q4', 'q8', 'q4f16'], { shaderF16: false })).toBe('q8');
    expect(chooseVariant(['q4', 'fp16'], { shaderF16: false })).toBe('q4');
    expect(chooseVariant(['q4c8f16', 'q4c8'], { shaderF16: true })).toBe('q4c8f16');
    expect(chooseVariant(['q4c8f16', 'q4c8'], { shaderF16: false })).toBe('q4c8');
    expect(() => chooseVariant(['q4c8f16'], { shaderF16: false }, 'q4c8f16')).toThrow(/shader-f16/);
  });
  it('lets the user override within what the pack and adapter allow', () => {
    expect(chooseVariant(['fp32', 'q8', 'q4'], { shaderF16: false }, 'q4')).toBe('q4');
    expect(() => chooseVariant(['fp32', 'q8'], { shaderF16: false }, 'q4')).toThrow(/no q4 variant/);
    expect(() => chooseVariant(['fp32', 'fp16'], { shaderF16: false }, 'fp16')).toThrow(/shader-f16/);
  });
  it('says so when only f16 variants exist on an adapter without shader-f16', () => {
    expect(() => chooseVariant(['fp16', 'q4f16'], { shaderF16: false })).toThrow(/Install a pack with fp32, q8, q4 or q4c8/);
  });
});
