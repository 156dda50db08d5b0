/**
 * CPU references and scene tools for hole filling (src/gpu/kernels/fillHoles.ts, patchFill.ts),
 * written from the shaders' header comments, not from their code:
 *  - backgroundPullPush: the layer maxima, the background weights and the pull-push pyramid of
 *    one frame (levels 0..L with colour filled and the background weight kept);
 *  - patchCost / bestPatchCost: the 5x5 patch SSD against a source whose every pixel is known,
 *    and its exhaustive minimum (what PatchMatch approximates);
 *  - compositeScene: an object cut from one photo, moved over another; the revealed region's
 *    true colours are the other photo's;
 *  - revealedScore: PSNR and gradient-energy ratio of a fill over the revealed region.
 */

export const KNOWN = 0.999;
/** Holes with a background weight at least this are mostly covered: the patch fill leaves them. */
export const PARTIAL = 0.5;
export const BACKGROUND_FRACTION = 0.5;
export const PATCH_RADIUS = 2;

export interface PyramidLevel {
  w: number;
  h: number;
  /** [4, h, w]: R, G, B (filled), background weight. */
  data: Float32Array;
}

function sampleUp(c: PyramidLevel, x: number, y: number, ch: number): number {
  const sx = (x + 0.5) * 0.5 - 0.5;
  const sy = (y + 0.5) * 0.5 - 0.5;
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const tx = sx - x0;
  const ty = sy - y0;
  const n = c.w * c.h;
  const at = (xx: number, yy: number) => c.data[ch * n + Math.min(c.h - 1, Math.max(0, yy)) * c.w + Math.min(c.w - 1, Math.max(0, xx))];
  const top = at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx;
  const bottom = at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx;
  return top * (1 - ty) + bottom * ty;
}

/**
 * One frame: splat [4, H, W] (premultiplied colour + coverage), flow [2, H, W], metric [H, W].
 * Background: the largest metric of moving sources landing on q (any non-zero bilinear weight)
 * is <= 0.5 x the largest metric of a moving source whose own pixel is a hole (coverage <
 * 0.999); all pixels when there is no such source. Weight = coverage there, else -coverage
 * (front content; pull and push count it as 0).
 */
export function backgroundPullPush(
  splat: Float32Array,
  flow: Float32Array,
  metric: Float32Array,
  w: number,
  h: number,
): { levels: PyramidLevel[]; landed: Float32Array; occluder: number } {
  const n = w * h;
  const landed = new Float32Array(n);
  let occluder = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const m = metric[i];
      const fx = flow[i];
      const fy = flow[n + i];
      if (!(m > 0) || (fx === 0 && fy === 0)) continue;
      if (Math.min(1, Math.max(0, splat[3 * n + i])) < KNOWN) occluder = Math.max(occluder, m);
      const qx = x + fx;
      const qy = y + fy;
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
        if (wt > 0 && tx >= 0 && ty >= 0 && tx < w && ty < h) landed[ty * w + tx] = Math.max(landed[ty * w + tx], m);
      }
    }
  const l0 = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const a = Math.min(1, Math.max(0, splat[3 * n + i]));
    for (let c = 0; c < 3; c++) l0[c * n + i] = a > 0 ? splat[c * n + i] / a : 0;
    const background = occluder === 0 || landed[i] <= BACKGROUND_FRACTION * occluder;
    l0[3 * n + i] = background ? a : -a;
  }
  const levels: PyramidLevel[] = [{ w, h, data: l0 }];
  while (levels[levels.length - 1].w > 1 || levels[levels.length - 1].h > 1) {
    const f = levels[levels.length - 1];
    const cw = Math.ceil(f.w / 2);
    const ch = Math.ceil(f.h / 2);
    const fn = f.w * f.h;
    const cn = cw * ch;
    const c = new Float32Array(4 * cn);
    for (let Y = 0; Y < ch; Y++)
      for (let X = 0; X < cw; X++) {
        const s = [0, 0, 0];
        let wt = 0;
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) {
            const x = 2 * X + dx;
            const y = 2 * Y + dy;
            if (x >= f.w || y >= f.h) continue;
            const i = y * f.w + x;
            const a = Math.min(1, Math.max(0, f.data[3 * fn + i]));
            for (let k = 0; k < 3; k++) s[k] += a * f.data[k * fn + i];
            wt += a;
          }
        const ci = Y * cw + X;
        for (let k = 0; k < 3; k++) c[k * cn + ci] = wt > 0 ? s[k] / wt : 0;
        c[3 * cn + ci] = Math.min(1, wt);
      }
    levels.push({ w: cw, h: ch, data: c });
  }
  for (let l = levels.length - 2; l >= 0; l--) {
    const f = levels[l];
    const fn = f.w * f.h;
    for (let y = 0; y < f.h; y++)
      for (let x = 0; x < f.w; x++) {
        const i = y * f.w + x;
        const a = Math.min(1, Math.max(0, f.data[3 * fn + i]));
        if (a >= 1) continue;
        for (let k = 0; k < 3; k++) f.data[k * fn + i] = a * f.data[k * fn + i] + (1 - a) * sampleUp(levels[l + 1], x, y, k);
      }
  }
  return { levels, landed, occluder };
}

/** Weight of a hole pixel's estimate in a target patch (known pixels 1, front pixels 0). */
export const ESTIMATE_WEIGHT = 0.05;
/** Weight of the patches' mean difference in the patch cost (1 would be the plain weighted SSD). */
export const MEAN_WEIGHT = 0.25;

/**
 * Patch cost between the 5x5 patch around target (px, py) (clamped to the image) and around
 * source (sx, sy), each target pixel weighted by its role (weight >= KNOWN: 1; <= -KNOWN: 0;
 * else ESTIMATE_WEIGHT): with d the RGB differences and D their weighted mean,
 * sum t |d - D|^2 + MEAN_WEIGHT * (sum t) |D|^2 (two passes, as written). Infinity unless the
 * source patch lies inside with every pixel's weight >= KNOWN. level: [4, h, w] colour + signed weight.
 */
export function patchCost(level: Float32Array, w: number, h: number, px: number, py: number, sx: number, sy: number): number {
  const r = PATCH_RADIUS;
  if (sx < r || sy < r || sx >= w - r || sy >= h - r) return Infinity;
  const n = w * h;
  const diffs: { t: number; d: number[] }[] = [];
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) {
      const s = (sy + dy) * w + sx + dx;
      if (level[3 * n + s] < KNOWN) return Infinity;
      const q = Math.min(h - 1, Math.max(0, py + dy)) * w + Math.min(w - 1, Math.max(0, px + dx));
      const tw = level[3 * n + q];
      const t = tw >= KNOWN ? 1 : tw <= -KNOWN ? 0 : ESTIMATE_WEIGHT;
      diffs.push({ t, d: [0, 1, 2].map((c) => level[c * n + q] - level[c * n + s]) });
    }
  const total = diffs.reduce((a, e) => a + e.t, 0);
  if (total === 0) return 0;
  const mean = [0, 1, 2].map((c) => diffs.reduce((a, e) => a + e.t * e.d[c], 0) / total);
  let cost = 0;
  for (const e of diffs) for (let c = 0; c < 3; c++) cost += e.t * (e.d[c] - mean[c]) ** 2;
  for (let c = 0; c < 3; c++) cost += MEAN_WEIGHT * total * mean[c] ** 2;
  return cost;
}

/** The exhaustive minimum of patchCost over every source position. */
export function bestPatchCost(level: Float32Array, w: number, h: number, px: number, py: number): number {
  let best = Infinity;
  for (let sy = PATCH_RADIUS; sy < h - PATCH_RADIUS; sy++)
    for (let sx = PATCH_RADIUS; sx < w - PATCH_RADIUS; sx++) {
      best = Math.min(best, patchCost(level, w, h, px, py, sx, sy));
    }
  return best;
}

export const DETAIL_RADIUS = 3;

/**
 * What the patch fill writes at hole pixel (x, y): smooth (level 0 after background pull-push)
 * + P(x, y) - the mean of P over the 7x7 window (clamped, front pixels left out), P = level 0
 * after the patch fill. Both [4, h, w].
 */
export function detailFill(
  smooth: Float32Array,
  patched: Float32Array,
  w: number,
  h: number,
  x: number,
  y: number,
): [number, number, number] {
  const n = w * h;
  const sum = [0, 0, 0];
  let count = 0;
  for (let dy = -DETAIL_RADIUS; dy <= DETAIL_RADIUS; dy++)
    for (let dx = -DETAIL_RADIUS; dx <= DETAIL_RADIUS; dx++) {
      const qx = x + dx;
      const qy = y + dy;
      if (qx < 0 || qy < 0 || qx >= w || qy >= h) continue;
      const i = qy * w + qx;
      if (patched[3 * n + i] <= -KNOWN) continue;
      for (let c = 0; c < 3; c++) sum[c] += patched[c * n + i];
      count++;
    }
  const p = y * w + x;
  const out: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) out[c] = smooth[c * n + p] + patched[c * n + p] - sum[c] / Math.max(1, count);
  return out;
}

export interface HoleScene {
  width: number;
  height: number;
  /** RGBA8 [H, W]: the object (from `object`) over the background at its start. */
  image: Uint8ClampedArray;
  /** RGBA8 [H, W]: the background alone: the truth behind the object. */
  truth: Uint8ClampedArray;
  /** [2, H, W]: the object's pixels move by (dx, dy), the rest stays. */
  flow: Float32Array;
  /** 1 where the object was and is no more (1 px away from where it lands): the revealed region. */
  revealed: Uint8Array;
  /** 1 on the object at its start. */
  object: Uint8Array;
}

export interface SceneShape {
  /** Centre and radii of the cut-out (a wobbly ellipse, so it is not a plain disc). */
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  dx: number;
  dy: number;
}

function inBlob(s: SceneShape, x: number, y: number): boolean {
  const u = (x - s.cx) / s.rx;
  const v = (y - s.cy) / s.ry;
  const t = Math.atan2(v, u);
  const r = 1 + 0.18 * Math.sin(3 * t + 0.5) + 0.08 * Math.cos(5 * t);
  return u * u + v * v <= r * r;
}

/** background, object: RGBA8 of the same W x H (the object photo supplies the cut-out's pixels). */
export function compositeScene(
  background: Uint8ClampedArray,
  objectPhoto: Uint8ClampedArray,
  w: number,
  h: number,
  s: SceneShape,
): HoleScene {
  const n = w * h;
  const object = new Uint8Array(n);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) object[y * w + x] = inBlob(s, x + 0.5, y + 0.5) ? 1 : 0;
  const image = new Uint8ClampedArray(background);
  const flow = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    if (!object[i]) continue;
    for (let c = 0; c < 4; c++) image[4 * i + c] = objectPhoto[4 * i + c];
    flow[i] = s.dx;
    flow[n + i] = s.dy;
  }
  // Where the object lands (each pixel's bilinear footprint), grown by one pixel.
  const landed = new Uint8Array(n);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!object[y * w + x]) continue;
      const x0 = Math.floor(x + s.dx);
      const y0 = Math.floor(y + s.dy);
      for (let yy = y0 - 1; yy <= y0 + 2; yy++)
        for (let xx = x0 - 1; xx <= x0 + 2; xx++) {
          if (xx >= 0 && yy >= 0 && xx < w && yy < h) landed[yy * w + xx] = 1;
        }
    }
  const revealed = new Uint8Array(n);
  for (let i = 0; i < n; i++) revealed[i] = object[i] && !landed[i] ? 1 : 0;
  return { width: w, height: h, image, truth: new Uint8ClampedArray(background), flow, revealed, object };
}

/**
 * Over the revealed region: PSNR (8-bit RGB) of `frame` against the truth, and the gradient
 * energy ratio sum |grad frame|^2 / sum |grad truth|^2 (forward differences in x and y, RGB,
 * pairs with both pixels revealed): about 1 for a fill with the true texture's contrast, near
 * 0 for a blur.
 */
export function revealedScore(
  frame: ArrayLike<number>,
  truth: ArrayLike<number>,
  revealed: Uint8Array,
  w: number,
  h: number,
): { psnr: number; gradientRatio: number; pixels: number } {
  let se = 0;
  let count = 0;
  let gf = 0;
  let gt = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!revealed[i]) continue;
      count++;
      for (let c = 0; c < 3; c++) {
        const d = frame[4 * i + c] - truth[4 * i + c];
        se += d * d;
      }
      for (const j of [x + 1 < w ? i + 1 : -1, y + 1 < h ? i + w : -1]) {
        if (j < 0 || !revealed[j]) continue;
        for (let c = 0; c < 3; c++) {
          const a = frame[4 * j + c] - frame[4 * i + c];
          const b = truth[4 * j + c] - truth[4 * i + c];
          gf += a * a;
          gt += b * b;
        }
      }
    }
  const mse = se / Math.max(1, 3 * count);
  return { psnr: 10 * Math.log10((255 * 255) / Math.max(mse, 1e-12)), gradientRatio: gt > 0 ? gf / gt : 0, pixels: count };
}
