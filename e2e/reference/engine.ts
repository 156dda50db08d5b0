/**
 * CPU reference of the classical engine (test tree only): the same steps as the GPU path,
 * written from their definitions, in plain loops. Used to check the GPU render and as the
 * benchmark's CPU baseline (same solver schedule, same splat, same hole filling).
 *
 *   constraints (src/pipeline/constraints.ts, pure TS, shared: it is the input, not the math)
 *   -> basis fields by solveMultigrid (reference/densify.ts) -> flows = sum_k basis_k * table
 *   -> per frame: soft splat of (R, G, B, 1) with metric scale * |flow|  (Niklaus & Liu 2020)
 *   -> pull-push hole filling -> static pixels copy the reference's bytes.
 */
import { compose, solveMultigrid, type Schedule } from './densify';

export interface CpuEngineInput {
  width: number;
  height: number;
  rgba: Uint8Array | Uint8ClampedArray;
  ids: Int32Array;
  k: number;
  /** [F, K, 2]. */
  table: Float32Array;
  frames: number;
  screeningLength: number;
  edgeSigma: number;
  floorWeight: number;
  schedule: Schedule;
  metricScale: number;
}

export function cpuFlows(a: CpuEngineInput): Float32Array {
  const n = a.width * a.height;
  if (a.k === 0) return new Float32Array(a.frames * 2 * n);
  const basis = solveMultigrid(
    {
      width: a.width,
      height: a.height,
      rgba: a.rgba,
      ids: a.ids,
      k: a.k,
      edgeSigma: a.edgeSigma,
      floorWeight: a.floorWeight,
      screeningLength: a.screeningLength,
    },
    a.schedule,
  );
  return compose(basis, a.table, a.frames, n);
}

/** Softmax splat, soft mode, of 4 planes (R, G, B, 1) by one flow: [4, H, W], normalised. */
export function splatSoft(planes: Float32Array, flow: Float32Array, w: number, h: number, metricScale: number): Float32Array {
  const n = w * h;
  const num = new Float64Array(4 * n);
  const den = new Float64Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const fx = flow[p];
      const fy = flow[n + p];
      const qx = x + fx;
      const qy = y + fy;
      if (!Number.isFinite(qx) || !Number.isFinite(qy)) continue;
      const z = Math.exp(Math.min(20, Math.max(-20, Math.fround(metricScale * Math.hypot(fx, fy)))));
      const x0 = Math.floor(qx);
      const y0 = Math.floor(qy);
      const ax = qx - x0;
      const ay = qy - y0;
      const corners: [number, number, number][] = [
        [x0, y0, (1 - ax) * (1 - ay)],
        [x0 + 1, y0, ax * (1 - ay)],
        [x0, y0 + 1, (1 - ax) * ay],
        [x0 + 1, y0 + 1, ax * ay],
      ];
      for (const [tx, ty, wt] of corners) {
        if (tx < 0 || ty < 0 || tx >= w || ty >= h) continue;
        const t = ty * w + tx;
        const e = wt * z;
        for (let c = 0; c < 4; c++) num[c * n + t] += e * planes[c * n + p];
        den[t] += e;
      }
    }
  }
  const out = new Float32Array(4 * n);
  for (let c = 0; c < 4; c++) for (let t = 0; t < n; t++) out[c * n + t] = num[c * n + t] / (den[t] + 1e-7);
  return out;
}

/** Where a source pixel with non-zero flow puts a non-zero bilinear weight. */
export function movingCover(flow: Float32Array, w: number, h: number): Uint8Array {
  const n = w * h;
  const out = new Uint8Array(n);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const fx = flow[p];
      const fy = flow[n + p];
      if (fx === 0 && fy === 0) continue;
      const qx = x + fx;
      const qy = y + fy;
      if (!Number.isFinite(qx) || !Number.isFinite(qy)) continue;
      const x0 = Math.floor(qx);
      const y0 = Math.floor(qy);
      const ax = qx - x0;
      const ay = qy - y0;
      const corners: [number, number, number][] = [
        [x0, y0, (1 - ax) * (1 - ay)],
        [x0 + 1, y0, ax * (1 - ay)],
        [x0, y0 + 1, (1 - ax) * ay],
        [x0 + 1, y0 + 1, ax * ay],
      ];
      for (const [tx, ty, wt] of corners) if (wt > 0 && tx >= 0 && ty >= 0 && tx < w && ty < h) out[ty * w + tx] = 1;
    }
  return out;
}

interface Level {
  w: number;
  h: number;
  rgb: Float32Array;
  a: Float32Array;
}

function sampleUp(c: Level, x: number, y: number): [number, number, number] {
  const sx = (x + 0.5) * 0.5 - 0.5;
  const sy = (y + 0.5) * 0.5 - 0.5;
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const tx = sx - x0;
  const ty = sy - y0;
  const cn = c.w * c.h;
  const at = (xx: number, yy: number, ch: number) =>
    c.rgb[ch * cn + Math.min(c.h - 1, Math.max(0, yy)) * c.w + Math.min(c.w - 1, Math.max(0, xx))];
  const out: [number, number, number] = [0, 0, 0];
  for (let ch = 0; ch < 3; ch++) {
    const top = at(x0, y0, ch) * (1 - tx) + at(x0 + 1, y0, ch) * tx;
    const bottom = at(x0, y0 + 1, ch) * (1 - tx) + at(x0 + 1, y0 + 1, ch) * tx;
    out[ch] = top * (1 - ty) + bottom * ty;
  }
  return out;
}

/** Pull-push from a premultiplied splat [4, H, W]; returns final RGB [3, H, W] in [0, 1]. */
export function pullPush(splat: Float32Array, w: number, h: number): Float32Array {
  const n = w * h;
  const levels: Level[] = [];
  // Level 0 as given (premultiplied colour, coverage in plane 3).
  const l0: Level = { w, h, rgb: splat.slice(0, 3 * n), a: splat.slice(3 * n, 4 * n) };
  levels.push(l0);
  while (levels[levels.length - 1].w > 1 || levels[levels.length - 1].h > 1) {
    const f = levels[levels.length - 1];
    const cw = Math.ceil(f.w / 2);
    const ch = Math.ceil(f.h / 2);
    const c: Level = { w: cw, h: ch, rgb: new Float32Array(3 * cw * ch), a: new Float32Array(cw * ch) };
    const fn = f.w * f.h;
    const premult = levels.length === 1;
    for (let Y = 0; Y < ch; Y++)
      for (let X = 0; X < cw; X++) {
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          wt = 0;
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) {
            const x = 2 * X + dx;
            const y = 2 * Y + dy;
            if (x >= f.w || y >= f.h) continue;
            const i = y * f.w + x;
            const a = Math.min(1, Math.max(0, f.a[i]));
            const m = premult ? 1 : a;
            s0 += m * f.rgb[i];
            s1 += m * f.rgb[fn + i];
            s2 += m * f.rgb[2 * fn + i];
            wt += a;
          }
        const ci = Y * cw + X;
        const cn = cw * ch;
        if (wt > 0) {
          c.rgb[ci] = s0 / wt;
          c.rgb[cn + ci] = s1 / wt;
          c.rgb[2 * cn + ci] = s2 / wt;
        }
        c.a[ci] = Math.min(1, wt);
      }
    levels.push(c);
  }
  for (let l = levels.length - 2; l >= 1; l--) {
    const f = levels[l];
    const fn = f.w * f.h;
    for (let y = 0; y < f.h; y++)
      for (let x = 0; x < f.w; x++) {
        const i = y * f.w + x;
        const a = Math.min(1, Math.max(0, f.a[i]));
        if (a >= 1) continue;
        const up = sampleUp(levels[l + 1], x, y);
        for (let ch = 0; ch < 3; ch++) f.rgb[ch * fn + i] = a * f.rgb[ch * fn + i] + (1 - a) * up[ch];
        f.a[i] = 1;
      }
  }
  const out = new Float32Array(3 * n);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const a = Math.min(1, Math.max(0, l0.a[i]));
      const up = a < 1 ? sampleUp(levels[1], x, y) : [0, 0, 0];
      for (let ch = 0; ch < 3; ch++) out[ch * n + i] = l0.rgb[ch * n + i] + (a < 1 ? (1 - a) * up[ch] : 0);
    }
  return out;
}

/** All frames [F + 1, H, W] packed RGBA8 (frame 0 = the image), and the flows. */
export function cpuEngine(a: CpuEngineInput): { frames: Uint32Array; flows: Float32Array } {
  const { width: w, height: h } = a;
  const n = w * h;
  const flows = cpuFlows(a);
  const planes = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    planes[i] = a.rgba[4 * i] / 255;
    planes[n + i] = a.rgba[4 * i + 1] / 255;
    planes[2 * n + i] = a.rgba[4 * i + 2] / 255;
    planes[3 * n + i] = 1;
  }
  const ref = new Uint32Array(a.rgba.buffer, a.rgba.byteOffset, n);
  const frames = new Uint32Array((a.frames + 1) * n);
  frames.set(ref, 0);
  for (let f = 0; f < a.frames; f++) {
    const flow = flows.subarray(f * 2 * n, (f + 1) * 2 * n);
    const cover = movingCover(flow, w, h);
    const rgb = pullPush(splatSoft(planes, flow, w, h, a.metricScale), w, h);
    for (let i = 0; i < n; i++) {
      if (flow[i] === 0 && flow[n + i] === 0 && !cover[i]) {
        frames[(f + 1) * n + i] = ref[i];
        continue;
      }
      const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
      frames[(f + 1) * n + i] = (byte(rgb[i]) | (byte(rgb[n + i]) << 8) | (byte(rgb[2 * n + i]) << 16) | (255 << 24)) >>> 0;
    }
  }
  return { frames, flows };
}
