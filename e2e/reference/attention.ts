/**
 * Plain CPU reference for the motion-augmented temporal attention of Motion-I2V stage 2, written
 * from the paper / authors' code, in float64, in the order the reference runs it: warp frame 0's
 * tokens, interleave [h0, w1, h1, ..., w_{F-1}, h_{F-1}], add the sinusoidal position encoding,
 * project (q from the originals only), softmax with max subtraction, weighted sum per head.
 * Test-tree only: the product is never compared with itself.
 */

/** Seeded uniform [0, 1) generator (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [-amp, amp). */
export function randomArray(n: number, rand: () => number, amp = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rand() - 1) * amp;
  return a;
}

/** pe[pos, 2i] = sin(pos / 10000^(2i/C)), pe[pos, 2i+1] = cos(same). [positions, C]. */
export function sinusoid(positions: number, C: number): Float64Array {
  const pe = new Float64Array(positions * C);
  for (let pos = 0; pos < positions; pos++) {
    for (let i = 0; i < C / 2; i++) {
      const angle = pos / Math.pow(10000, (2 * i) / C);
      pe[pos * C + 2 * i] = Math.sin(angle);
      pe[pos * C + 2 * i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

/** y[r] = W x[r] for every row: x [rows, cin], W [cout, cin] (torch Linear layout) -> [rows, cout]. */
export function linearRows(x: ArrayLike<number>, rows: number, cin: number, W: ArrayLike<number>, cout: number): Float64Array {
  const y = new Float64Array(rows * cout);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < cout; o++) {
      let acc = 0;
      for (let c = 0; c < cin; c++) acc += W[o * cin + c] * x[r * cin + c];
      y[r * cout + o] = acc;
    }
  }
  return y;
}

/**
 * Softmax splatting, avg mode, one image: src [H, W, C] (channels last), flow [2, H, W] pixels.
 * Each source pixel goes to (x + dx, y + dy) and is shared bilinearly among the 4 neighbours
 * inside the image; out = sum(w x) / (sum(w) + 1e-7); nothing landed -> 0.
 */
export function splatAvg(src: ArrayLike<number>, flow: ArrayLike<number>, H: number, W: number, C: number): Float64Array {
  const acc = new Float64Array(H * W * C);
  const wsum = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const tx = x + flow[y * W + x];
      const ty = y + flow[H * W + y * W + x];
      if (!Number.isFinite(tx) || !Number.isFinite(ty)) continue;
      const x0 = Math.floor(tx);
      const y0 = Math.floor(ty);
      const fx = tx - x0;
      const fy = ty - y0;
      const corners: [number, number, number][] = [
        [x0, y0, (1 - fx) * (1 - fy)],
        [x0 + 1, y0, fx * (1 - fy)],
        [x0, y0 + 1, (1 - fx) * fy],
        [x0 + 1, y0 + 1, fx * fy],
      ];
      for (const [cx, cy, w] of corners) {
        if (cx < 0 || cx >= W || cy < 0 || cy >= H) continue;
        const t = cy * W + cx;
        wsum[t] += w;
        for (let c = 0; c < C; c++) acc[t * C + c] += w * src[(y * W + x) * C + c];
      }
    }
  }
  for (let t = 0; t < H * W; t++) for (let c = 0; c < C; c++) acc[t * C + c] /= wsum[t] + 1e-7;
  return acc;
}

export interface ReferenceInputs {
  B: number;
  F: number;
  P: number;
  C: number;
  heads: number;
  /** LayerNorm'ed tokens of the original frames [B, F, P, C]. */
  tokens: ArrayLike<number>;
  /** Frame-0 tokens warped to frames 1..F-1 [B, F-1, P, C] (unprojected; holes 0). */
  warped: ArrayLike<number>;
  /** to_q / to_k / to_v weights [C, C] each (torch layout, no bias). */
  wq: ArrayLike<number>;
  wk: ArrayLike<number>;
  wv: ArrayLike<number>;
  /** Position table [>= 2F-1, C]; default the sinusoid. */
  pe?: ArrayLike<number>;
}

/**
 * The attention as the reference computes it, before to_out: returns [B, F, P, C] (heads
 * concatenated) and the largest |logit| seen (for tolerance reasoning in tests).
 */
export function motionAttentionReference(inp: ReferenceInputs): { out: Float64Array; maxLogit: number } {
  const { B, F, P, C, heads } = inp;
  const L = 2 * F - 1;
  const hd = C / heads;
  const pe = inp.pe ?? sinusoid(L, C);
  const scale = 1 / Math.sqrt(hd);
  const out = new Float64Array(B * F * P * C);
  let maxLogit = 0;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      // 1. materialise the interleaved sequence and add the position encoding
      const seq = new Float64Array(L * C);
      for (let s = 0; s < L; s++) {
        for (let c = 0; c < C; c++) {
          const x = s % 2 === 0 ? inp.tokens[((b * F + s / 2) * P + p) * C + c] : inp.warped[((b * (F - 1) + (s - 1) / 2) * P + p) * C + c];
          seq[s * C + c] = x + pe[s * C + c];
        }
      }
      // 2. project: queries from the even (original) positions, keys/values from all
      const originals = new Float64Array(F * C);
      for (let i = 0; i < F; i++) originals.set(seq.subarray(2 * i * C, (2 * i + 1) * C), i * C);
      const q = linearRows(originals, F, C, inp.wq, C);
      const k = linearRows(seq, L, C, inp.wk, C);
      const v = linearRows(seq, L, C, inp.wv, C);
      // 3. per head: logits, softmax with max subtraction, weighted sum of values
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < F; i++) {
          const logits = new Float64Array(L);
          for (let s = 0; s < L; s++) {
            let d = 0;
            for (let j = 0; j < hd; j++) d += q[i * C + h * hd + j] * k[s * C + h * hd + j];
            logits[s] = d * scale;
            maxLogit = Math.max(maxLogit, Math.abs(logits[s]));
          }
          const m = Math.max(...logits);
          let sum = 0;
          const w = logits.map((x) => {
            const e = Math.exp(x - m);
            sum += e;
            return e;
          });
          for (let j = 0; j < hd; j++) {
            let o = 0;
            for (let s = 0; s < L; s++) o += (w[s] / sum) * v[s * C + h * hd + j];
            out[((b * F + i) * P + p) * C + h * hd + j] = o;
          }
        }
      }
    }
  }
  return { out, maxLogit };
}

/** max |a - b| / max |b|: normwise relative error. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    num = Math.max(num, d);
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/**
 * What the ONNX segment before the kernel computes (projections), done here on the CPU from the
 * reference inputs: qkv [B, F, P, 3C] = tokens x [Wq | Wk | Wv]^T, warpedKV [B, F-1, P, 2C] =
 * warped x [Wk | Wv]^T (the kernel's split relies on W(splat(h0)) = splat(W h0)), and the
 * projected position table [2F-1, 3C] from the given (unprojected) table.
 */
export function projectForKernel(
  inp: ReferenceInputs,
  pe: ArrayLike<number>,
): { qkv: Float32Array; warpedKV: Float32Array; peQKV: Float32Array } {
  const { B, F, P, C } = inp;
  const stack = (...ws: ArrayLike<number>[]) => {
    const s = new Float64Array(ws.length * C * C);
    ws.forEach((w, i) => s.set(Array.from(w), i * C * C));
    return s;
  };
  const wqkv = stack(inp.wq, inp.wk, inp.wv);
  return {
    qkv: Float32Array.from(linearRows(inp.tokens, B * F * P, C, wqkv, 3 * C)),
    warpedKV: Float32Array.from(linearRows(inp.warped, B * (F - 1) * P, C, stack(inp.wk, inp.wv), 2 * C)),
    peQKV: Float32Array.from(linearRows(pe, 2 * F - 1, C, wqkv, 3 * C)),
  };
}
