/**
 * Plain CPU softmax splatting, the test oracle for src/gpu/kernels/splat.ts. Written from the
 * paper / reference description (a scatter loop with float32 accumulators, as the authors'
 * CUDA kernel with atomicAdd), deliberately NOT mirroring the GPU kernel's gather design.
 * Every arithmetic step is rounded to float32 with Math.fround so it computes what an fp32
 * implementation computes.
 */
export type RefSplatMode = 'sum' | 'avg' | 'linear' | 'soft';

export interface RefSplatInput {
  /** Source maps, [B, C, H, W] (chw) or [B, H, W, C] (hwc). */
  input: Float32Array;
  B: number;
  C: number;
  H: number;
  W: number;
  layout?: 'chw' | 'hwc';
  /** [N, 2, H, W] pixel displacements. */
  flows: Float32Array;
  N: number;
  /** [MB, MN, H, W] with MB in {1, B}, MN in {1, N}. */
  metric?: Float32Array;
  metricShape?: [number, number];
  mode: RefSplatMode;
}

const f = Math.fround;

/** Returns [B, N, C, H, W] (chw) or [B, N, H, W, C] (hwc). */
export function splatReference(a: RefSplatInput): Float32Array {
  const { B, C, H, W, N, mode } = a;
  const layout = a.layout ?? 'chw';
  const HW = H * W;
  const out = new Float32Array(B * N * C * HW);
  const [MB, MN] = a.metricShape ?? [1, 1];
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      // C value channels + 1 normaliser channel, summed in float32.
      const acc = new Float32Array((C + 1) * HW);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const s = y * W + x;
          const tx = f(x + a.flows[n * 2 * HW + s]);
          const ty = f(y + a.flows[(n * 2 + 1) * HW + s]);
          if (!Number.isFinite(tx) || !Number.isFinite(ty)) continue;
          let z = 1;
          if (mode === 'linear' || mode === 'soft') {
            const raw = a.metric![((MB > 1 ? b : 0) * MN + (MN > 1 ? n : 0)) * HW + s];
            z = mode === 'linear' ? raw : f(Math.exp(Math.min(20, Math.max(-20, raw))));
          }
          const x0 = Math.floor(tx);
          const y0 = Math.floor(ty);
          const corners: [number, number, number][] = [
            [x0, y0, f(f(x0 + 1 - tx) * f(y0 + 1 - ty))],
            [x0 + 1, y0, f(f(tx - x0) * f(y0 + 1 - ty))],
            [x0, y0 + 1, f(f(x0 + 1 - tx) * f(ty - y0))],
            [x0 + 1, y0 + 1, f(f(tx - x0) * f(ty - y0))],
          ];
          for (const [cx, cy, w] of corners) {
            if (cx < 0 || cy < 0 || cx >= W || cy >= H) continue;
            const t = cy * W + cx;
            for (let c = 0; c < C; c++) {
              const v = layout === 'chw' ? a.input[(b * C + c) * HW + s] : a.input[(b * HW + s) * C + c];
              acc[c * HW + t] = f(acc[c * HW + t] + f(f(v * z) * w));
            }
            acc[C * HW + t] = f(acc[C * HW + t] + f(z * w));
          }
        }
      }
      for (let t = 0; t < HW; t++) {
        const norm = mode === 'sum' ? 1 : f(acc[C * HW + t] + f(1e-7));
        for (let c = 0; c < C; c++) {
          const v = mode === 'sum' ? acc[c * HW + t] : f(acc[c * HW + t] / norm);
          const o = layout === 'chw' ? ((b * N + n) * C + c) * HW + t : ((b * N + n) * HW + t) * C + c;
          out[o] = v;
        }
      }
    }
  }
  return out;
}

/** Coverage: the sum of bilinear weights landing on each pixel, [N, H, W]. */
export function splatCoverage(flows: Float32Array, N: number, H: number, W: number): Float32Array {
  const ones = new Float32Array(H * W).fill(1);
  return splatReference({ input: ones, B: 1, C: 1, H, W, flows, N, mode: 'sum' });
}

/** Tolerance used by every splat/flow test: |a - b| <= rel * max(1, |b|), b the reference. */
export function compareArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-5) {
  let worst = 0;
  let worstIndex = -1;
  let bad = 0;
  let maxAbs = 0;
  if (actual.length !== expected.length)
    return { ok: false, bad: -1, worst: Infinity, worstIndex: -1, maxAbs: Infinity, length: actual.length };
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const d = Math.abs(a - b);
    const ratio = Number.isNaN(d) ? Infinity : d / (rel * Math.max(1, Math.abs(b)));
    if (ratio > 1) bad++;
    if (ratio > worst) {
      worst = ratio;
      worstIndex = i;
    }
    if (d > maxAbs) maxAbs = d;
  }
  return { ok: bad === 0, bad, worst, worstIndex, maxAbs, length: expected.length };
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FlowKind = 'random' | 'special' | 'converge' | 'zero' | 'shrink';

export interface SplatCaseConfig {
  seed: number;
  B: number;
  C: number;
  H: number;
  W: number;
  N: number;
  mode: RefSplatMode;
  layout?: 'chw' | 'hwc';
  /** Metric batch / flow dims, for linear and soft. */
  metricShape?: [number, number];
  flowKind: FlowKind;
  /** Random flows are uniform in [-flowScale, flowScale] pixels. */
  flowScale?: number;
  /** Random metric is uniform in [-metricRange, metricRange]. */
  metricRange?: number;
}

/**
 * Test data for one splat case. 'special' mixes in what the kernel must survive: NaN and
 * +-Inf components, zero flow, exactly integer flow, huge finite flow (1e30), flow pointing
 * past every border, landing exactly on -1 (the edge of the footprint). 'converge' sends every
 * source of flow n to one point: an integer pixel for even n (weight 1 on a single target,
 * H*W sources in one list), a half-pixel position for odd n (all sources on 4 targets).
 * 'shrink' scales the grid about its centre by 1 / (2 + n) with 0.25 px of noise, so pixels
 * receive from a few up to a few dozen sources (every list length the kernel sorts differently).
 */
export function makeSplatCase(cfg: SplatCaseConfig) {
  const r = rng(cfg.seed);
  const { B, C, H, W, N } = cfg;
  const HW = H * W;
  const input = new Float32Array(B * C * HW);
  for (let i = 0; i < input.length; i++) input[i] = r() * 4 - 2;
  const flows = new Float32Array(N * 2 * HW);
  const scale = cfg.flowScale ?? 3;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < HW; s++) {
      const x = s % W;
      const y = Math.floor(s / W);
      let dx = (r() * 2 - 1) * scale;
      let dy = (r() * 2 - 1) * scale;
      if (cfg.flowKind === 'zero') {
        dx = 0;
        dy = 0;
      } else if (cfg.flowKind === 'converge') {
        const cx = Math.floor(W / 2) + (n % 2) * 0.5;
        const cy = Math.floor(H / 2) + (n % 2) * 0.5;
        dx = cx - x;
        dy = cy - y;
      } else if (cfg.flowKind === 'shrink') {
        const k = 1 / (2 + n);
        dx = (x - W / 2) * k + W / 2 - x + (r() - 0.5) * 0.5;
        dy = (y - H / 2) * k + H / 2 - y + (r() - 0.5) * 0.5;
      } else if (cfg.flowKind === 'special') {
        const k = Math.floor(r() * 20);
        if (k === 0) dx = NaN;
        else if (k === 1) dy = Infinity;
        else if (k === 2) dx = -Infinity;
        else if (k === 3) {
          dx = 0;
          dy = 0;
        } else if (k === 4) {
          dx = Math.round(dx);
          dy = Math.round(dy);
        } else if (k === 5) dx = 1e30;
        else if (k === 6) dy = -1e30;
        else if (k === 7) dx = W + 3 * r();
        else if (k === 8) dy = -(H + 3 * r());
        else if (k === 9) dx = -x - 1;
        else if (k === 10) dy = H - y - 0.5;
      }
      flows[n * 2 * HW + s] = dx;
      flows[(n * 2 + 1) * HW + s] = dy;
    }
  }
  let metric: Float32Array | undefined;
  if (cfg.mode === 'linear' || cfg.mode === 'soft') {
    const [mb, mn] = cfg.metricShape ?? [1, 1];
    metric = new Float32Array(mb * mn * HW);
    const range = cfg.metricRange ?? 1;
    for (let i = 0; i < metric.length; i++) {
      // linear: keep the metric positive (a weight); soft: any sign, beyond +-20 to test the clip.
      metric[i] = cfg.mode === 'linear' ? 0.1 + r() * range : (r() * 2 - 1) * range;
    }
  }
  const layout = cfg.layout ?? 'chw';
  // input as generated is chw; for hwc transpose so the same values are used either way.
  let inputLaid = input;
  if (layout === 'hwc') {
    inputLaid = new Float32Array(input.length);
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) for (let s = 0; s < HW; s++) inputLaid[(b * HW + s) * C + c] = input[(b * C + c) * HW + s];
  }
  return {
    input: inputLaid,
    inputShape: layout === 'chw' ? [B, C, H, W] : [B, H, W, C],
    flows,
    flowShape: [N, 2, H, W],
    metric,
    metricShape: cfg.metricShape ?? ([1, 1] as [number, number]),
    layout,
  };
}
