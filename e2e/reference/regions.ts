/**
 * CPU references for the motion modes (test tree only; never imported by src), written from
 * the papers' definitions in float64:
 * - similarityLeastSquares: the similarity (a, b, tx, ty) minimising
 *   sum |(a x - b y + tx, b x + a y + ty) - q_i|^2, by its 4x4 normal equations;
 * - rigidMls: Schaefer, McPhail and Warren 2006, section 2.3, literally: weights
 *   w_i = 1 / |p_i - v|^(2 alpha), A_i = w_i [p^_i; -p^_i perp] [v - p*; -(v - p*) perp]^T
 *   (perp (x, y) = (-y, x)), frot = sum q^_i A_i (row vectors), f = |v - p*| frot / |frot| + q*.
 */

function solveDense(A: number[][], b: number[]): number[] {
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

export type Pt = [number, number];

/** The least-squares similarity taking src[i] to dst[i] (two or more distinct points). */
export function similarityLeastSquares(src: Pt[], dst: Pt[]): [number, number, number, number] {
  const A = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
  const rhs = [0, 0, 0, 0];
  src.forEach(([x, y], i) => {
    const rows: [number[], number][] = [
      [[x, -y, 1, 0], dst[i][0]],
      [[y, x, 0, 1], dst[i][1]],
    ];
    for (const [row, t] of rows) {
      for (let j = 0; j < 4; j++) {
        rhs[j] += row[j] * t;
        for (let k = 0; k < 4; k++) A[j][k] += row[j] * row[k];
      }
    }
  });
  const s = solveDense(A, rhs);
  return [s[0], s[1], s[2], s[3]];
}

/** Where rigid MLS (alpha = 1) takes the point v, given handles p[i] -> q[i]. */
export function rigidMls(v: Pt, p: Pt[], q: Pt[]): Pt {
  for (let i = 0; i < p.length; i++) if (p[i][0] === v[0] && p[i][1] === v[1]) return q[i];
  const w = p.map(([x, y]) => 1 / ((x - v[0]) ** 2 + (y - v[1]) ** 2));
  const W = w.reduce((a, b) => a + b, 0);
  const ps: Pt = [0, 0];
  const qs: Pt = [0, 0];
  p.forEach((pi, i) => {
    ps[0] += (w[i] * pi[0]) / W;
    ps[1] += (w[i] * pi[1]) / W;
    qs[0] += (w[i] * q[i][0]) / W;
    qs[1] += (w[i] * q[i][1]) / W;
  });
  const perp = ([x, y]: Pt): Pt => [-y, x];
  const d: Pt = [v[0] - ps[0], v[1] - ps[1]];
  const dp = perp(d);
  // Right factor [d; -d perp]^T: columns d and -d perp.
  const R = [
    [d[0], -dp[0]],
    [d[1], -dp[1]],
  ];
  const frot: Pt = [0, 0];
  p.forEach((pi, i) => {
    const ph: Pt = [pi[0] - ps[0], pi[1] - ps[1]];
    const pp = perp(ph);
    const L = [
      [ph[0], ph[1]],
      [-pp[0], -pp[1]],
    ];
    // A = w L R.
    const A = [
      [w[i] * (L[0][0] * R[0][0] + L[0][1] * R[1][0]), w[i] * (L[0][0] * R[0][1] + L[0][1] * R[1][1])],
      [w[i] * (L[1][0] * R[0][0] + L[1][1] * R[1][0]), w[i] * (L[1][0] * R[0][1] + L[1][1] * R[1][1])],
    ];
    const qh: Pt = [q[i][0] - qs[0], q[i][1] - qs[1]];
    frot[0] += qh[0] * A[0][0] + qh[1] * A[1][0];
    frot[1] += qh[0] * A[0][1] + qh[1] * A[1][1];
  });
  const len = Math.hypot(frot[0], frot[1]);
  const dl = Math.hypot(d[0], d[1]);
  if (len === 0) return [d[0] + qs[0], d[1] + qs[1]];
  return [(dl * frot[0]) / len + qs[0], (dl * frot[1]) / len + qs[1]];
}
