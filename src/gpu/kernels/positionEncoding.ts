/**
 * AnimateDiff's sinusoidal temporal position encoding (PositionalEncoding in its motion module,
 * max_len 32 in Motion-I2V stage 2), and its projection through to_q / to_k / to_v for the
 * motion-augmented attention kernel (see motionAttention.ts for why the table is projected).
 *
 *   div_i       = exp(2i * (-ln(10000) / C))           (computed in fp32, like torch)
 *   pe[pos, 2i]   = sin(pos * div_i)
 *   pe[pos, 2i+1] = cos(pos * div_i)
 */
import { KernelInputError } from '../../errors';

/** AnimateDiff's max_len for the temporal position encoding (Motion-I2V stage 2). */
export const PE_MAX_LEN = 32;

const f32 = Math.fround;

/** Sinusoidal table [positions, channels] (row-major), identical to AnimateDiff's `pe[0, :positions]`. */
export function sinusoidalPositionTable(positions: number, channels: number, maxLen = PE_MAX_LEN): Float32Array {
  if (!Number.isInteger(channels) || channels <= 0 || channels % 2 !== 0) {
    throw new KernelInputError('sinusoidalPositionTable', 'channels', `must be a positive even integer, got ${channels}`);
  }
  if (!Number.isInteger(positions) || positions <= 0 || positions > maxLen) {
    throw new KernelInputError('sinusoidalPositionTable', 'positions', `must be 1..${maxLen} (the encoding's max_len), got ${positions}`);
  }
  const table = new Float32Array(positions * channels);
  // torch: arange(0, C, 2) (int64) * (-log(10000) / C) (a python double) -> fp32 tensor; exp in fp32.
  const k = -Math.log(10000.0) / channels;
  for (let i = 0; i < channels / 2; i++) {
    const div = f32(Math.exp(f32(2 * i * k)));
    for (let pos = 0; pos < positions; pos++) {
      const angle = f32(pos * div);
      table[pos * channels + 2 * i] = Math.sin(angle);
      table[pos * channels + 2 * i + 1] = Math.cos(angle);
    }
  }
  return table;
}

/**
 * Projected table [positions, 3C]: row s = [Wq pe_s | Wk pe_s | Wv pe_s], with the weights in
 * torch Linear layout [out = C, in = C] (y = W x). This is what the kernel adds to the
 * projected tokens, since W(x + pe) = W x + W pe for bias-free projections. An exporter can
 * bake it per attention; this helper exists for tests and for packs that ship the weights.
 */
export function projectPositionTable(
  pe: Float32Array,
  positions: number,
  channels: number,
  weights: { q: Float32Array; k: Float32Array; v: Float32Array },
): Float32Array {
  const C = channels;
  if (pe.length !== positions * C) {
    throw new KernelInputError('projectPositionTable', 'pe', `has ${pe.length} values, expected ${positions}x${C}`);
  }
  for (const name of ['q', 'k', 'v'] as const) {
    if (weights[name].length !== C * C) {
      throw new KernelInputError('projectPositionTable', `weights.${name}`, `has ${weights[name].length} values, expected ${C}x${C}`);
    }
  }
  const out = new Float32Array(positions * 3 * C);
  const ws = [weights.q, weights.k, weights.v];
  for (let s = 0; s < positions; s++) {
    for (let part = 0; part < 3; part++) {
      const W = ws[part];
      for (let o = 0; o < C; o++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += W[o * C + c] * pe[s * C + c];
        out[s * 3 * C + part * C + o] = acc;
      }
    }
  }
  return out;
}
