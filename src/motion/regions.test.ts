/**
 * Motion-mode math against independent CPU references written here: a guided filter with
 * direct window sums (no summed-area tables), the similarity fit by solving its 4x4 normal
 * equations (no closed form).
 */
import { describe, expect, it } from 'vitest';
import { guidedFilter, labelRegions, refineLabels, similarityFit } from './regions';

/** He et al. 2010 Algorithm 1 with every window mean summed pixel by pixel in float64. */
function directGuidedFilter(p: ArrayLike<number>, I: ArrayLike<number>, w: number, h: number, r: number, eps: number): Float64Array {
  const mean = (f: (i: number) => number): Float64Array => {
    const out = new Float64Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        let n = 0;
        for (let v = Math.max(0, y - r); v <= Math.min(h - 1, y + r); v++)
          for (let u = Math.max(0, x - r); u <= Math.min(w - 1, x + r); u++) {
            s += f(v * w + u);
            n++;
          }
        out[y * w + x] = s / n;
      }
    return out;
  };
  const mI = mean((i) => I[i]);
  const mP = mean((i) => p[i]);
  const mIp = mean((i) => I[i] * p[i]);
  const mII = mean((i) => I[i] * I[i]);
  const a = new Float64Array(w * h);
  const b = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) {
    a[i] = (mIp[i] - mI[i] * mP[i]) / (mII[i] - mI[i] * mI[i] + eps);
    b[i] = mP[i] - a[i] * mI[i];
  }
  const mA = mean((i) => a[i]);
  const mB = mean((i) => b[i]);
  return Float64Array.from({ length: w * h }, (_, i) => mA[i] * I[i] + mB[i]);
}

/** Gaussian elimination with partial pivoting of a small dense system. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('guidedFilter', () => {
  it('matches direct window sums on a textured image with an edge, at the borders too', () => {
    const w = 23;
    const h = 17;
    const rand = rng(3);
    const I = Float32Array.from({ length: w * h }, (_, i) => (i % w < 11 ? 0.2 : 0.8) + 0.05 * rand());
    const p = Float32Array.from({ length: w * h }, (_, i) => ((i % w) + Math.floor(i / w) < 18 ? 1 : 0));
    for (const [r, eps] of [
      [1, 1e-3],
      [3, 1e-2],
      [6, 1e-4],
    ] as const) {
      const q = guidedFilter(p, I, w, h, r, eps);
      const ref = directGuidedFilter(p, I, w, h, r, eps);
      let max = 0;
      for (let i = 0; i < q.length; i++) max = Math.max(max, Math.abs(q[i] - ref[i]));
      expect(max, `r ${r} eps ${eps}`).toBeLessThan(1e-5);
    }
  });

  it('radius 0 returns the mask unchanged', () => {
    const p = Float32Array.from([0, 1, 1, 0]);
    expect(Array.from(guidedFilter(p, [0, 0, 1, 1], 2, 2, 0))).toEqual([0, 1, 1, 0]);
  });
});

describe('refineLabels', () => {
  it('snaps a rough stroke edge onto the image edge', () => {
    // Dark left half (x < 16), bright right half; the painted label overshoots to x < 20 on
    // some rows and stops short at x < 13 on others.
    const w = 32;
    const h = 16;
    const I = Float32Array.from({ length: w * h }, (_, i) => (i % w < 16 ? 0.1 : 0.9));
    const labels = Uint8Array.from({ length: w * h }, (_, i) => (i % w < (Math.floor(i / w) % 2 ? 20 : 13) ? 2 : 0));
    const out = refineLabels(labels, I, w, h, 5, 4);
    let wrong = 0;
    for (let y = 2; y < h - 2; y++) for (let x = 0; x < w; x++) if (out[y * w + x] !== (x < 16 ? 2 : 0)) wrong++;
    expect(wrong).toBe(0);
    // Without a radius nothing changes.
    expect(refineLabels(labels, I, w, h, 0, 4)).toEqual(labels);
  });
});

describe('labelRegions', () => {
  it('numbers 4-connected patches of the chosen labels in scan order', () => {
    const L = Uint8Array.from([2, 2, 0, 3, 0, 2, 0, 3, 1, 0, 2, 0]);
    const r = labelRegions(L, 4, 3, [2, 3]);
    expect(Array.from(r.regionOf)).toEqual([0, 0, -1, 1, -1, 0, -1, 1, -1, -1, 2, -1]);
    expect(r.labels).toEqual([2, 3, 2]);
  });
});

describe('similarityFit', () => {
  it('equals the least-squares solution of the normal equations', () => {
    const rand = rng(11);
    for (const n of [2, 3, 7]) {
      const src: number[] = [];
      const dst: number[] = [];
      for (let i = 0; i < n; i++) {
        const x = 100 * rand();
        const y = 80 * rand();
        src.push(x, y);
        // A rotation by 0.3 rad, scale 1.2, shift, plus noise: the fit is a real least squares.
        dst.push(
          1.2 * (Math.cos(0.3) * x - Math.sin(0.3) * y) + 5 + 2 * rand(),
          1.2 * (Math.sin(0.3) * x + Math.cos(0.3) * y) - 3 + 2 * rand(),
        );
      }
      // Unknowns (a, b, tx, ty); rows: [x, -y, 1, 0] -> x', [y, x, 0, 1] -> y'.
      const A = [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ];
      const rhs = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) {
        const [x, y] = [src[2 * i], src[2 * i + 1]];
        for (const [row, t] of [
          [[x, -y, 1, 0], dst[2 * i]],
          [[y, x, 0, 1], dst[2 * i + 1]],
        ] as [number[], number][]) {
          for (let j = 0; j < 4; j++) {
            rhs[j] += row[j] * t;
            for (let k = 0; k < 4; k++) A[j][k] += row[j] * row[k];
          }
        }
      }
      const ref = solve(A, rhs);
      const fit = similarityFit(src, dst);
      for (let j = 0; j < 4; j++) expect(fit[j]).toBeCloseTo(ref[j], 8);
    }
  });

  it('one point is a translation, none the identity', () => {
    expect(similarityFit([10, 20], [13, 16])).toEqual([1, 0, 3, -4]);
    expect(similarityFit([], [])).toEqual([1, 0, 0, 0]);
  });
});
