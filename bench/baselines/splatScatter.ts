/**
 * A plain CPU softmax splat (sum and avg modes) written for speed rather than as an oracle:
 * Float32Array accumulators, no per-pixel allocation, one rounding call per source (the landing
 * point is float32, as in the reference, so sources fall on the same pixels; weights and
 * products are taken in float64 and rounded when stored). The benchmark's second CPU baseline, beside the test
 * oracle e2e/reference/splat.ts (which rounds every step with Math.fround and is slower); its
 * output is checked against the oracle in the benchmark (within 1e-5).
 */
export interface ScatterInput {
  /** [B, C, H, W] (chw) or [B, H, W, C] (hwc). */
  input: Float32Array;
  B: number;
  C: number;
  H: number;
  W: number;
  layout: 'chw' | 'hwc';
  /** [N, 2, H, W] pixel displacements. */
  flows: Float32Array;
  N: number;
  mode: 'sum' | 'avg';
}

/** Returns [B, N, C, H, W] (chw) or [B, N, H, W, C] (hwc). */
export function splatScatter(a: ScatterInput): Float32Array {
  const { input, B, C, H, W, N, flows } = a;
  const HW = H * W;
  const hwc = a.layout === 'hwc';
  const out = new Float32Array(B * N * C * HW);
  const norm = new Float32Array(HW);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const acc = out.subarray((b * N + n) * C * HW, (b * N + n + 1) * C * HW);
      norm.fill(0);
      const fx = n * 2 * HW;
      const fy = fx + HW;
      for (let s = 0; s < HW; s++) {
        const qx = Math.fround((s % W) + flows[fx + s]);
        const qy = Math.fround(Math.floor(s / W) + flows[fy + s]);
        if (!(qx >= -1 && qx < W && qy >= -1 && qy < H)) continue; // also drops NaN and Inf
        const x0 = Math.floor(qx);
        const y0 = Math.floor(qy);
        const ax = qx - x0;
        const ay = qy - y0;
        for (let k = 0; k < 4; k++) {
          const cx = x0 + (k & 1);
          const cy = y0 + (k >> 1);
          if (cx < 0 || cy < 0 || cx >= W || cy >= H) continue;
          const w = (k & 1 ? ax : 1 - ax) * (k >> 1 ? ay : 1 - ay);
          const t = cy * W + cx;
          norm[t] += w;
          if (hwc) {
            const src = (b * HW + s) * C;
            const dst = t * C;
            for (let c = 0; c < C; c++) acc[dst + c] += input[src + c] * w;
          } else {
            const src = b * C * HW + s;
            for (let c = 0; c < C; c++) acc[c * HW + t] += input[src + c * HW] * w;
          }
        }
      }
      if (a.mode === 'avg') {
        for (let t = 0; t < HW; t++) {
          const inv = 1 / (norm[t] + 1e-7);
          if (hwc) for (let c = 0; c < C; c++) acc[t * C + c] *= inv;
          else for (let c = 0; c < C; c++) acc[c * HW + t] *= inv;
        }
      }
    }
  }
  return out;
}
