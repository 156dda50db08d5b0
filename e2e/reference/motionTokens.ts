/**
 * CPU reference of stage 2's motion-token step (tools/export/softsplat.py motion_tokens, and
 * tools/export/README.md "The WGSL step"), the oracle for src/gpu/kernels/motionTokens.ts:
 * per batch entry b and frame i = 1..F-1, splat (avg) frame 0 of entry src(b, i) with flow i,
 * one pair at a time with the test oracle's scatter loop, then lay out
 * kv[b] = [tok[b,0], warp_1, tok[b,1], ..., warp_{F-1}, tok[b,F-1]].
 */
import { splatReference } from './splat';

export interface MotionTokensCase {
  /** [B F, h, w, C] frame-major tokens. */
  tok: Float32Array;
  /** [F, 2, h, w] pixel flows at the tokens' size; flow 0 unused. */
  flows: Float32Array;
  B: number;
  F: number;
  h: number;
  w: number;
  C: number;
  frame0Batch?: 'same' | 'reference_quirk';
}

/** Returns kv [B, 2F - 1, h, w, C]. */
export function motionTokensReference(c: MotionTokensCase): Float32Array {
  const { B, F, h, w, C } = c;
  const row = h * w * C;
  const kv = new Float32Array(B * (2 * F - 1) * row);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < F; i++) {
      kv.set(c.tok.subarray((b * F + i) * row, (b * F + i + 1) * row), (b * (2 * F - 1) + 2 * i) * row);
    }
    for (let i = 1; i < F; i++) {
      const src = c.frame0Batch === 'reference_quirk' ? (b * (F - 1) + i - 1) % B : b;
      const frame0 = c.tok.subarray(src * F * row, (src * F + 1) * row);
      const flow = c.flows.subarray(i * 2 * h * w, (i + 1) * 2 * h * w);
      const warped = splatReference({ input: frame0, B: 1, C, H: h, W: w, layout: 'hwc', flows: flow, N: 1, mode: 'avg' });
      kv.set(warped, (b * (2 * F - 1) + 2 * i - 1) * row);
    }
  }
  return kv;
}
