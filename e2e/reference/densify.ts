/**
 * CPU reference for classical stage 1 (test tree only; never imported by src).
 *
 * The problem, written out from its definition: for every basis field k, find u minimising
 *   sum over 4-neighbour edges (p,q) of w_pq (u_p - u_q)^2  +  s * sum_p u_p^2
 * with u fixed on constrained pixels (1 on footprint k, 0 on all other constraints), where
 * w_pq = max(floor, exp(-|c_p - c_q|^2 / 3 / (2 sigma^2))) from the RGB colours in [0,1] (just
 * floor where exactly one of p, q is static, id -3), and
 * s = 1 / screeningLength^2. Flow of frame f = sum_k u_k * table[f, k].
 *
 * `solveConverged` runs plain Gauss-Seidel until the update stalls: slow but obviously right,
 * to check the GPU's multigrid answer. `solveMultigrid` repeats the GPU's exact schedule
 * (V-cycles of red-black sweeps) for the CPU-vs-GPU benchmark.
 */

export interface Problem {
  width: number;
  height: number;
  /** RGBA8 bytes, length 4 * W * H. */
  rgba: Uint8Array | Uint8ClampedArray;
  /** -2 free, -1 fixed zero, -3 static (fixed zero, edges to non-static pixels at the floor weight), k >= 0 footprint of basis k. */
  ids: Int32Array;
  k: number;
  edgeSigma: number;
  floorWeight: number;
  screeningLength: number;
}

export interface Grid {
  width: number;
  height: number;
  wx: Float32Array;
  wy: Float32Array;
  /** 0 free, 1 hard constraint, 2 static (fixed, but does not pin coarse levels). */
  fixed: Uint8Array;
}

export function edgeWeights(p: Problem): Grid {
  const { width: w, height: h, rgba } = p;
  const wx = new Float32Array(w * h);
  const wy = new Float32Array(w * h);
  const inv = 1 / (2 * p.edgeSigma * p.edgeSigma);
  const weight = (a: number, b: number) => {
    if ((p.ids[a] === -3) !== (p.ids[b] === -3)) return p.floorWeight;
    let d2 = 0;
    for (let c = 0; c < 3; c++) {
      const d = rgba[4 * a + c] / 255 - rgba[4 * b + c] / 255;
      d2 += d * d;
    }
    return Math.max(p.floorWeight, Math.exp((-d2 / 3) * inv));
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x + 1 < w) wx[i] = weight(i, i + 1);
      if (y + 1 < h) wy[i] = weight(i, i + w);
    }
  }
  const fixed = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) fixed[i] = p.ids[i] === -3 ? 2 : p.ids[i] >= -1 ? 1 : 0;
  return { width: w, height: h, wx, wy, fixed };
}

function initial(p: Problem): Float64Array[] {
  const n = p.width * p.height;
  return Array.from({ length: p.k }, (_, k) => {
    const u = new Float64Array(n);
    for (let i = 0; i < n; i++) u[i] = p.ids[i] === k ? 1 : 0;
    return u;
  });
}

/** One Gauss-Seidel update of pixel i; returns the new value. */
function relax(g: Grid, u: Float64Array, rhs: Float64Array | null, s: number, x: number, y: number): number {
  const { width: w, height: h } = g;
  const i = y * w + x;
  let num = rhs ? rhs[i] : 0;
  let den = s;
  if (x > 0) {
    num += g.wx[i - 1] * u[i - 1];
    den += g.wx[i - 1];
  }
  if (x + 1 < w) {
    num += g.wx[i] * u[i + 1];
    den += g.wx[i];
  }
  if (y > 0) {
    num += g.wy[i - w] * u[i - w];
    den += g.wy[i - w];
  }
  if (y + 1 < h) {
    num += g.wy[i] * u[i + w];
    den += g.wy[i];
  }
  return den > 0 ? num / den : u[i];
}

/**
 * Lexicographic Gauss-Seidel until the largest update is below tol (at most maxIter sweeps).
 * Weakly coupled regions converge slowly, so a sweep can change little while the error is still
 * large: keep tol tiny (1e-7 stopped 0.5 px short on the test image).
 */
export function solveConverged(p: Problem, tol = 1e-11, maxIter = 500_000): { basis: Float64Array[]; iterations: number } {
  const g = edgeWeights(p);
  const s = Number.isFinite(p.screeningLength) ? 1 / p.screeningLength ** 2 : 0;
  const basis = initial(p);
  let iterations = 0;
  for (const u of basis) {
    for (let it = 0; it < maxIter; it++) {
      let change = 0;
      for (let y = 0; y < g.height; y++) {
        for (let x = 0; x < g.width; x++) {
          const i = y * g.width + x;
          if (g.fixed[i]) continue;
          const v = relax(g, u, null, s, x, y);
          change = Math.max(change, Math.abs(v - u[i]));
          u[i] = v;
        }
      }
      iterations = Math.max(iterations, it + 1);
      if (change < tol) break;
    }
  }
  return { basis, iterations };
}

export function compose(basis: ArrayLike<number>[], table: Float32Array, frames: number, n: number): Float32Array {
  const k = basis.length;
  const out = new Float32Array(frames * 2 * n);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < n; i++) {
      let dx = 0;
      let dy = 0;
      for (let j = 0; j < k; j++) {
        dx += basis[j][i] * table[(f * k + j) * 2];
        dy += basis[j][i] * table[(f * k + j) * 2 + 1];
      }
      out[f * 2 * n + i] = dx;
      out[f * 2 * n + n + i] = dy;
    }
  }
  return out;
}

// ---- The GPU's schedule on the CPU (benchmark baseline) -------------------------------------

function restrictGrid(g: Grid): Grid {
  const cw = Math.ceil(g.width / 2);
  const ch = Math.ceil(g.height / 2);
  const wx = new Float32Array(cw * ch);
  const wy = new Float32Array(cw * ch);
  const fixed = new Uint8Array(cw * ch);
  for (let Y = 0; Y < ch; Y++) {
    for (let X = 0; X < cw; X++) {
      const c = Y * cw + X;
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++) {
          const x = 2 * X + dx;
          const y = 2 * Y + dy;
          if (x < g.width && y < g.height && g.fixed[y * g.width + x] === 1) fixed[c] = 1;
        }
      if (X + 1 < cw) {
        const x = 2 * X + 1;
        let sum = g.wx[2 * Y * g.width + x];
        let n = 1;
        if (2 * Y + 1 < g.height) {
          sum += g.wx[(2 * Y + 1) * g.width + x];
          n++;
        }
        wx[c] = sum / n;
      }
      if (Y + 1 < ch) {
        const y = 2 * Y + 1;
        let sum = g.wy[y * g.width + 2 * X];
        let n = 1;
        if (2 * X + 1 < g.width) {
          sum += g.wy[y * g.width + 2 * X + 1];
          n++;
        }
        wy[c] = sum / n;
      }
    }
  }
  return { width: cw, height: ch, wx, wy, fixed };
}

function sweepRB(g: Grid, u: Float32Array, rhs: Float32Array, s: number): void {
  for (let parity = 0; parity < 2; parity++) {
    for (let y = 0; y < g.height; y++) {
      for (let x = (y + parity) & 1; x < g.width; x += 2) {
        const i = y * g.width + x;
        u[i] = g.fixed[i] ? rhs[i] : relaxF(g, u, rhs, s, x, y);
      }
    }
  }
}

function relaxF(g: Grid, u: Float32Array, rhs: Float32Array, s: number, x: number, y: number): number {
  const { width: w, height: h } = g;
  const i = y * w + x;
  let num = rhs[i];
  let den = s;
  if (x > 0) {
    num += g.wx[i - 1] * u[i - 1];
    den += g.wx[i - 1];
  }
  if (x + 1 < w) {
    num += g.wx[i] * u[i + 1];
    den += g.wx[i];
  }
  if (y > 0) {
    num += g.wy[i - w] * u[i - w];
    den += g.wy[i - w];
  }
  if (y + 1 < h) {
    num += g.wy[i] * u[i + w];
    den += g.wy[i];
  }
  return den > 0 ? num / den : u[i];
}

function residualRestrict(g: Grid, c: Grid, u: Float32Array, rhs: Float32Array, s: number, crhs: Float32Array, cu: Float32Array): void {
  const w = g.width;
  const r = (x: number, y: number) => {
    const i = y * w + x;
    if (g.fixed[i]) return 0;
    const up = u[i];
    let v = rhs[i] - s * up;
    if (x > 0) v += g.wx[i - 1] * (u[i - 1] - up);
    if (x + 1 < w) v += g.wx[i] * (u[i + 1] - up);
    if (y > 0) v += g.wy[i - w] * (u[i - w] - up);
    if (y + 1 < g.height) v += g.wy[i] * (u[i + w] - up);
    return v;
  };
  for (let Y = 0; Y < c.height; Y++) {
    for (let X = 0; X < c.width; X++) {
      const ci = Y * c.width + X;
      cu[ci] = 0;
      if (c.fixed[ci]) {
        crhs[ci] = 0;
        continue;
      }
      let sum = 0;
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++) {
          const x = 2 * X + dx;
          const y = 2 * Y + dy;
          if (x < w && y < g.height) sum += r(x, y);
        }
      crhs[ci] = sum;
    }
  }
}

function prolong(g: Grid, c: Grid, u: Float32Array, cu: Float32Array): void {
  const at = (x: number, y: number) => cu[Math.min(c.height - 1, Math.max(0, y)) * c.width + Math.min(c.width - 1, Math.max(0, x))];
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) {
      const i = y * g.width + x;
      if (g.fixed[i]) continue;
      const sx = (x + 0.5) * 0.5 - 0.5;
      const sy = (y + 0.5) * 0.5 - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      u[i] += top * (1 - fy) + bottom * fy;
    }
  }
}

export interface Schedule {
  cycles: number;
  preSweeps: number;
  postSweeps: number;
  coarseSweeps: number;
  minCoarse: number;
}

/** The GPU densify's exact schedule (gpu/kernels/densify.ts defaults), in float32. */
export function solveMultigrid(p: Problem, sch: Schedule): Float32Array[] {
  const grids = [edgeWeights(p)];
  while (Math.min(Math.ceil(grids[grids.length - 1].width / 2), Math.ceil(grids[grids.length - 1].height / 2)) >= sch.minCoarse) {
    grids.push(restrictGrid(grids[grids.length - 1]));
  }
  const s0 = Number.isFinite(p.screeningLength) ? 1 / p.screeningLength ** 2 : 0;
  return initial(p).map((u0) => {
    const us = grids.map((g) => new Float32Array(g.width * g.height));
    const rhs = grids.map((g) => new Float32Array(g.width * g.height));
    us[0].set(u0);
    rhs[0].set(u0);
    for (let c = 0; c < sch.cycles; c++) {
      for (let l = 0; l + 1 < grids.length; l++) {
        for (let i = 0; i < sch.preSweeps; i++) sweepRB(grids[l], us[l], rhs[l], s0 * 4 ** l);
        residualRestrict(grids[l], grids[l + 1], us[l], rhs[l], s0 * 4 ** l, rhs[l + 1], us[l + 1]);
      }
      const last = grids.length - 1;
      for (let i = 0; i < sch.coarseSweeps; i++) sweepRB(grids[last], us[last], rhs[last], s0 * 4 ** last);
      for (let l = grids.length - 2; l >= 0; l--) {
        prolong(grids[l], grids[l + 1], us[l], us[l + 1]);
        for (let i = 0; i < sch.postSweeps; i++) sweepRB(grids[l], us[l], rhs[l], s0 * 4 ** l);
      }
    }
    return us[0];
  });
}
