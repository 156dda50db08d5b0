/**
 * CPU reference of the DIS-style optical flow (src/motion/track, shaders/flow_*.wgsl): every
 * kernel as a plain loop in float64 over Float32Array planes, written from the math in the
 * shader headers, and the whole estimator (disFlowReference) chained the same way. It is the
 * test oracle of e2e/gpu/optical-flow.spec.ts and the CPU baseline of bench/flow.bench.ts.
 */
import { resizeFlowsReference } from './flow';

export interface RefPatchGrid {
  size: number;
  stride: number;
  countX: number;
  countY: number;
}

export interface RefDisParameters {
  finestLevel: number;
  patchSize: number;
  patchStride: number;
  searchIterations: number;
  variationalIterations: number;
  sorIterations: number;
  omega: number;
  weights: { alpha: number; gamma: number; delta: number };
  initLevels: number;
}

function count(extent: number, size: number, stride: number): number {
  const regular = Math.floor((extent - size) / stride) + 1;
  return (extent - size) % stride === 0 ? regular : regular + 1;
}

export function refPatchGrid(w: number, h: number, size: number, stride: number): RefPatchGrid {
  return { size, stride, countX: count(w, size, stride), countY: count(h, size, stride) };
}

function origin(i: number, stride: number, size: number, extent: number): number {
  return Math.min(i * stride, extent - size);
}

/** Bilinear sample of plane `o` of `img` at (x, y), the point clamped to the grid. */
function sample(img: Float32Array, o: number, w: number, h: number, x: number, y: number): number {
  const qx = Math.min(Math.max(x, 0), w - 1);
  const qy = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.min(Math.floor(qx), w - 1);
  const y0 = Math.min(Math.floor(qy), h - 1);
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const fx = qx - x0;
  const fy = qy - y0;
  const a = img[o + y0 * w + x0] * (1 - fx) + img[o + y0 * w + x1] * fx;
  const b = img[o + y1 * w + x0] * (1 - fx) + img[o + y1 * w + x1] * fx;
  return a * (1 - fy) + b * fy;
}

function inside(x: number, y: number, w: number, h: number): boolean {
  return Number.isFinite(x) && Number.isFinite(y) && x >= 0 && y >= 0 && x <= w - 1 && y <= h - 1;
}

const psi = (s2: number): number => 0.5 / Math.sqrt(s2 + 1e-6);

export function grayReference(rgba: Uint32Array, offset: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const v = rgba[offset + i];
    out[i] = 0.299 * (v & 255) + 0.587 * ((v >>> 8) & 255) + 0.114 * ((v >>> 16) & 255);
  }
  return out;
}

export function downsampleReference(fine: Float32Array, w: number, h: number): Float32Array {
  const cw = Math.ceil(w / 2);
  const ch = Math.ceil(h / 2);
  const out = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let s = 0;
      let n = 0;
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++) {
          const fx = 2 * x + dx;
          const fy = 2 * y + dy;
          if (fx < w && fy < h) {
            s += fine[fy * w + fx];
            n++;
          }
        }
      out[y * cw + x] = s / n;
    }
  }
  return out;
}

export function gradientReference(img: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(2 * w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const xl = Math.max(x - 1, 0);
      const xr = Math.min(x + 1, w - 1);
      const yu = Math.max(y - 1, 0);
      const yd = Math.min(y + 1, h - 1);
      out[y * w + x] = 0.5 * (img[y * w + xr] - img[y * w + xl]);
      out[w * h + y * w + x] = 0.5 * (img[yd * w + x] - img[yu * w + x]);
    }
  }
  return out;
}

export function patchSearchReference(
  i0: Float32Array,
  grad0: Float32Array,
  i1: Float32Array,
  init: Float32Array,
  w: number,
  h: number,
  grid: RefPatchGrid,
  iterations: number,
): Float32Array {
  const n = w * h;
  const P = grid.size;
  const area = P * P;
  const np = grid.countX * grid.countY;
  const out = new Float32Array(2 * np);
  for (let py = 0; py < grid.countY; py++) {
    for (let px = 0; px < grid.countX; px++) {
      const ox = origin(px, grid.stride, P, w);
      const oy = origin(py, grid.stride, P, h);
      let h11 = 1,
        h12 = 0,
        h22 = 1,
        sgx = 0,
        sgy = 0;
      for (let y = 0; y < P; y++)
        for (let x = 0; x < P; x++) {
          const i = (oy + y) * w + ox + x;
          const gx = grad0[i];
          const gy = grad0[n + i];
          h11 += gx * gx;
          h12 += gx * gy;
          h22 += gy * gy;
          sgx += gx;
          sgy += gy;
        }
      const c = (oy + (P >> 1)) * w + ox + (P >> 1);
      const sx = init[c];
      const sy = init[n + c];
      const det = h11 * h22 - h12 * h12;
      const residual = (ux: number, uy: number) => {
        let se = 0,
          se2 = 0,
          bx = 0,
          by = 0;
        for (let y = 0; y < P; y++)
          for (let x = 0; x < P; x++) {
            const i = (oy + y) * w + ox + x;
            const e = sample(i1, 0, w, h, ox + x + ux, oy + y + uy) - i0[i];
            se += e;
            se2 += e * e;
            bx += grad0[i] * e;
            by += grad0[n + i] * e;
          }
        return { se, se2, bx, by };
      };
      let ux = sx,
        uy = sy,
        startCost = 0;
      for (let it = 0; it < iterations; it++) {
        const r = residual(ux, uy);
        const m = r.se / area;
        if (it === 0) startCost = r.se2 - r.se * m;
        const bx = r.bx - m * sgx;
        const by = r.by - m * sgy;
        ux -= (h22 * bx - h12 * by) / det;
        uy -= (h11 * by - h12 * bx) / det;
      }
      const r = residual(ux, uy);
      const cost = r.se2 - (r.se * r.se) / area;
      if (iterations === 0) startCost = cost;
      const mx = ux - sx,
        my = uy - sy;
      if (!(cost <= startCost) || mx * mx + my * my > area || !Number.isFinite(ux) || !Number.isFinite(uy)) {
        ux = sx;
        uy = sy;
      }
      out[py * grid.countX + px] = ux;
      out[np + py * grid.countX + px] = uy;
    }
  }
  return out;
}

export function densifyReference(
  i0: Float32Array,
  i1: Float32Array,
  patches: Float32Array,
  w: number,
  h: number,
  grid: RefPatchGrid,
): Float32Array {
  const n = w * h;
  const np = grid.countX * grid.countY;
  const P = grid.size;
  const out = new Float32Array(2 * n);
  // Which patches cover each coordinate, by brute force over all patches of the axis.
  const covers = (extent: number, cnt: number, c: number) => {
    const list: number[] = [];
    for (let i = 0; i < cnt; i++) {
      const o = origin(i, grid.stride, P, extent);
      if (o <= c && c < o + P) list.push(i);
    }
    return list;
  };
  const byX = Array.from({ length: w }, (_, x) => covers(w, grid.countX, x));
  const byY = Array.from({ length: h }, (_, y) => covers(h, grid.countY, y));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx = 0,
        sy = 0,
        sw = 0;
      for (const py of byY[y])
        for (const px of byX[x]) {
          const p = py * grid.countX + px;
          const ux = patches[p];
          const uy = patches[np + p];
          const d = sample(i1, 0, w, h, x + ux, y + uy) - i0[y * w + x];
          const wi = 1 / Math.max(1, Math.abs(d));
          sx += wi * ux;
          sy += wi * uy;
          sw += wi;
        }
      out[y * w + x] = sx / sw;
      out[n + y * w + x] = sy / sw;
    }
  }
  return out;
}

/** Coefficients [6, H, W] (a11, a12, a22, b1, b2, phi) of one outer iteration. */
export function variationalPrepReference(
  i0: Float32Array,
  grad0: Float32Array,
  i1: Float32Array,
  grad1: Float32Array,
  flow: Float32Array,
  w: number,
  h: number,
  weights: { gamma: number; delta: number },
): Float32Array {
  const n = w * h;
  const out = new Float32Array(6 * n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const xl = y * w + Math.max(x - 1, 0);
      const xr = y * w + Math.min(x + 1, w - 1);
      const yu = Math.max(y - 1, 0) * w + x;
      const yd = Math.min(y + 1, h - 1) * w + x;
      const ux = 0.5 * (flow[xr] - flow[xl]);
      const uy = 0.5 * (flow[yd] - flow[yu]);
      const vx = 0.5 * (flow[n + xr] - flow[n + xl]);
      const vy = 0.5 * (flow[n + yd] - flow[n + yu]);
      out[5 * n + i] = psi(ux * ux + uy * uy + vx * vx + vy * vy);
      const px = x + flow[i];
      const py = y + flow[n + i];
      if (!inside(px, py, w, h)) continue;
      const g1x = sample(grad1, 0, w, h, px, py);
      const g1y = sample(grad1, n, w, h, px, py);
      const ix = 0.5 * (grad0[i] + g1x);
      const iy = 0.5 * (grad0[n + i] + g1y);
      const iz = sample(i1, 0, w, h, px, py) - i0[i];
      const ixx = 0.5 * (sample(grad1, 0, w, h, px + 1, py) - sample(grad1, 0, w, h, px - 1, py));
      const iyy = 0.5 * (sample(grad1, n, w, h, px, py + 1) - sample(grad1, n, w, h, px, py - 1));
      const ixy =
        0.25 *
        (sample(grad1, 0, w, h, px, py + 1) -
          sample(grad1, 0, w, h, px, py - 1) +
          sample(grad1, n, w, h, px + 1, py) -
          sample(grad1, n, w, h, px - 1, py));
      const ixz = g1x - grad0[i];
      const iyz = g1y - grad0[n + i];
      const wi = weights.delta * psi(iz * iz);
      const wg = weights.gamma * psi(ixz * ixz + iyz * iyz);
      out[i] = wi * ix * ix + wg * (ixx * ixx + ixy * ixy);
      out[n + i] = wi * ix * iy + wg * ixy * (ixx + iyy);
      out[2 * n + i] = wi * iy * iy + wg * (ixy * ixy + iyy * iyy);
      out[3 * n + i] = -(wi * ix * iz + wg * (ixx * ixz + ixy * iyz));
      out[4 * n + i] = -(wi * iy * iz + wg * (ixy * ixz + iyy * iyz));
    }
  }
  return out;
}

/** One red (0) or black (1) SOR half sweep on `du` in place. */
export function sorReference(
  coef: Float32Array,
  flow: Float32Array,
  du: Float32Array,
  w: number,
  h: number,
  parity: number,
  alpha: number,
  omega: number,
): void {
  const n = w * h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (((x + y) & 1) !== parity) continue;
      const i = y * w + x;
      let sw = 0,
        sx = 0,
        sy = 0;
      for (const [ok, q] of [
        [x > 0, i - 1],
        [x + 1 < w, i + 1],
        [y > 0, i - w],
        [y + 1 < h, i + w],
      ] as [boolean, number][]) {
        if (!ok) continue;
        const wq = alpha * 0.5 * (coef[5 * n + i] + coef[5 * n + q]);
        sw += wq;
        sx += wq * (flow[q] + du[q] - flow[i]);
        sy += wq * (flow[n + q] + du[n + q] - flow[n + i]);
      }
      let dx = du[i];
      let dy = du[n + i];
      dx += omega * ((coef[3 * n + i] - coef[n + i] * dy + sx) / (coef[i] + sw) - dx);
      dy += omega * ((coef[4 * n + i] - coef[n + i] * dx + sy) / (coef[2 * n + i] + sw) - dy);
      du[i] = dx;
      du[n + i] = dy;
    }
  }
}

export function consistencyReference(
  fwd: Float32Array,
  bwd: Float32Array,
  w: number,
  h: number,
  fbAlpha: number,
  fbBeta: number,
): Float32Array {
  const n = w * h;
  const out = new Float32Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const fx = fwd[i],
        fy = fwd[n + i];
      const px = x + fx,
        py = y + fy;
      if (!inside(px, py, w, h)) {
        out[i] = 1;
        continue;
      }
      const bx = sample(bwd, 0, w, h, px, py);
      const by = sample(bwd, n, w, h, px, py);
      const s2 = (fx + bx) ** 2 + (fy + by) ** 2;
      out[i] = s2 <= fbAlpha * (fx * fx + fy * fy + bx * bx + by * by) + fbBeta ? 0 : 1;
    }
  }
  return out;
}

export function composeReference(
  track: Float32Array,
  trackOcc: Float32Array,
  step: Float32Array,
  stepOcc: Float32Array,
  w: number,
  h: number,
): { flow: Float32Array; occlusion: Float32Array } {
  const n = w * h;
  const flow = new Float32Array(2 * n);
  const occlusion = new Float32Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const px = x + track[i],
        py = y + track[n + i];
      flow[i] = track[i] + sample(step, 0, w, h, px, py);
      flow[n + i] = track[n + i] + sample(step, n, w, h, px, py);
      occlusion[i] = sample(stepOcc, 0, w, h, px, py) > 0.5 || !inside(px, py, w, h) ? 1 : trackOcc[i];
    }
  }
  return { flow, occlusion };
}

function coarsest(w: number, h: number, p: RefDisParameters): number {
  const bySpan = Math.floor(Math.log2(Math.max(w, h) / (4 * p.patchSize)) + 0.5);
  const byFit = Math.floor(Math.log2(Math.min(w, h) / p.patchSize));
  return Math.max(Math.min(bySpan, byFit), Math.min(p.finestLevel, byFit), 0);
}

interface RefLevel {
  gray: Float32Array;
  grad: Float32Array;
  w: number;
  h: number;
}

export function pyramidReference(rgba: Uint32Array, offset: number, w: number, h: number, levels: number): RefLevel[] {
  const out: RefLevel[] = [];
  let gray = grayReference(rgba, offset, w, h);
  let lw = w,
    lh = h;
  for (let l = 0; l < levels; l++) {
    if (l > 0) {
      gray = downsampleReference(gray, lw, lh);
      lw = Math.ceil(lw / 2);
      lh = Math.ceil(lh / 2);
    }
    out.push({ gray, grad: gradientReference(gray, lw, lh), w: lw, h: lh });
  }
  return out;
}

/** The whole estimator: flow [2, H, W] from image a to image b (packed RGBA8 [H, W]). */
export function disFlowReference(
  a: Uint32Array,
  b: Uint32Array,
  w: number,
  h: number,
  p: RefDisParameters,
  init?: Float32Array,
): Float32Array {
  const top = coarsest(w, h, p);
  const A = pyramidReference(a, 0, w, h, top + 1);
  const B = pyramidReference(b, 0, w, h, top + 1);
  return disFlowFromPyramids(A, B, p, init);
}

export function disFlowFromPyramids(A: RefLevel[], B: RefLevel[], p: RefDisParameters, init?: Float32Array): Float32Array {
  const { w, h } = A[0];
  const top = coarsest(w, h, p);
  const finest = Math.min(p.finestLevel, top);
  const start = init ? Math.min(top, finest + p.initLevels) : top;
  let flow: Float32Array | undefined;
  let fw = w,
    fh = h;
  for (let l = start; l >= finest; l--) {
    const { w: lw, h: lh } = A[l];
    let levelInit: Float32Array;
    if (flow) levelInit = resizeFlowsReference(flow, 1, fh, fw, lh, lw);
    else if (init) levelInit = resizeFlowsReference(init, 1, h, w, lh, lw);
    else levelInit = new Float32Array(2 * lw * lh);
    const grid = refPatchGrid(lw, lh, p.patchSize, p.patchStride);
    const patches = patchSearchReference(A[l].gray, A[l].grad, B[l].gray, levelInit, lw, lh, grid, p.searchIterations);
    const dense = densifyReference(A[l].gray, B[l].gray, patches, lw, lh, grid);
    const du = new Float32Array(2 * lw * lh);
    for (let k = 0; k < p.variationalIterations; k++) {
      const coef = variationalPrepReference(A[l].gray, A[l].grad, B[l].gray, B[l].grad, dense, lw, lh, p.weights);
      du.fill(0);
      for (let s = 0; s < p.sorIterations; s++)
        for (const parity of [0, 1]) sorReference(coef, dense, du, lw, lh, parity, p.weights.alpha, p.omega);
      for (let i = 0; i < dense.length; i++) dense[i] += du[i];
    }
    flow = dense;
    fw = lw;
    fh = lh;
  }
  if (!flow) throw new Error('no level');
  return finest === 0 ? flow : resizeFlowsReference(flow, 1, fh, fw, h, w);
}
