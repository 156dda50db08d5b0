/**
 * The math of per-region motion modes, on the CPU (small, exact, cheap next to the solve):
 * - guidedFilter: He, Sun and Tang's guided filter (ECCV 2010, grey guide) with box sums from
 *   summed-area tables, O(1) per pixel whatever the radius;
 * - refineLabels: a painted label map snapped to image edges by guided-filtering each label's
 *   indicator and keeping the largest (the cost-volume filtering of Hosni et al. 2011; with
 *   two labels it is a threshold of the filtered mask at 0.5);
 * - labelRegions: the 4-connected components of the rigid and shape-preserving labels;
 * - similarityFit: the least-squares similarity transform between two point sets (Umeyama
 *   1991 without reflection), a translation for one point.
 */

/** Regularisation of the guided filter on [0, 1] intensities: contrasts well above sqrt(eps) (about 8/255) count as edges. */
export const GUIDED_FILTER_EPS = 1e-3;

/** Grey [0, 1] of packed or byte RGBA (BT.601 luma), the guided filter's guide. */
export function greyGuide(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
  return out;
}

/** Summed-area table (float64) with a zero first row and column: [(H + 1) * (W + 1)]. */
function integral(src: ArrayLike<number>, width: number, height: number): Float64Array {
  const w1 = width + 1;
  const s = new Float64Array(w1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += src[y * width + x];
      s[(y + 1) * w1 + x + 1] = s[y * w1 + x + 1] + row;
    }
  }
  return s;
}

/** Mean over the (2r + 1)^2 window clipped to the image, per pixel. */
function boxMean(src: ArrayLike<number>, width: number, height: number, r: number): Float64Array {
  const s = integral(src, width, height);
  const w1 = width + 1;
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(height, y + r + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(width, x + r + 1);
      const sum = s[y1 * w1 + x1] - s[y0 * w1 + x1] - s[y1 * w1 + x0] + s[y0 * w1 + x0];
      out[y * width + x] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/**
 * q = mean_a * I + mean_b with a = cov(I, p) / (var(I) + eps), b = mean(p) - a * mean(I) over
 * (2r + 1)^2 windows clipped at the borders (He et al. 2010, Algorithm 1). r is rounded; r < 1
 * returns p unchanged.
 */
export function guidedFilter(
  p: ArrayLike<number>,
  guide: ArrayLike<number>,
  width: number,
  height: number,
  radius: number,
  eps = GUIDED_FILTER_EPS,
): Float32Array {
  const r = Math.round(radius);
  const n = width * height;
  if (r < 1) return Float32Array.from(p);
  const ip = new Float64Array(n);
  const ii = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ip[i] = guide[i] * p[i];
    ii[i] = guide[i] * guide[i];
  }
  const meanI = boxMean(guide, width, height, r);
  const meanP = boxMean(p, width, height, r);
  const corrIp = boxMean(ip, width, height, r);
  const corrII = boxMean(ii, width, height, r);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const varI = corrII[i] - meanI[i] * meanI[i];
    const cov = corrIp[i] - meanI[i] * meanP[i];
    a[i] = cov / (varI + eps);
    b[i] = meanP[i] - a[i] * meanI[i];
  }
  const meanA = boxMean(a, width, height, r);
  const meanB = boxMean(b, width, height, r);
  const q = new Float32Array(n);
  for (let i = 0; i < n; i++) q[i] = meanA[i] * guide[i] + meanB[i];
  return q;
}

/**
 * Each pixel takes the label whose guided-filtered indicator is largest (ties keep the painted
 * label), so a rough stroke's edge moves onto the nearest image edge. Labels 0..labelCount-1.
 */
export function refineLabels(
  labels: Uint8Array,
  guide: ArrayLike<number>,
  width: number,
  height: number,
  radius: number,
  labelCount: number,
  eps = GUIDED_FILTER_EPS,
): Uint8Array {
  if (Math.round(radius) < 1) return labels.slice();
  const present: number[] = [];
  const seen = new Uint8Array(labelCount);
  for (const l of labels) seen[l] = 1;
  for (let l = 0; l < labelCount; l++) if (seen[l]) present.push(l);
  if (present.length < 2) return labels.slice();
  const n = width * height;
  const best = new Float32Array(n).fill(-Infinity);
  const out = labels.slice();
  const indicator = new Float32Array(n);
  for (const l of present) {
    for (let i = 0; i < n; i++) indicator[i] = labels[i] === l ? 1 : 0;
    const q = guidedFilter(indicator, guide, width, height, radius, eps);
    for (let i = 0; i < n; i++) {
      if (q[i] > best[i] || (q[i] === best[i] && labels[i] === l)) {
        best[i] = q[i];
        out[i] = l;
      }
    }
  }
  return out;
}

export interface LabelledRegions {
  /** [H * W]: region index, or -1 outside every region. */
  regionOf: Int32Array;
  /** Label of each region (the value of `labels` it was grown from). */
  labels: number[];
}

/** 4-connected components of the pixels whose label is in `which`, numbered in scan order. */
export function labelRegions(labels: Uint8Array, width: number, height: number, which: readonly number[]): LabelledRegions {
  const regionOf = new Int32Array(width * height).fill(-1);
  const regionLabels: number[] = [];
  const stack: number[] = [];
  for (let start = 0; start < labels.length; start++) {
    const l = labels[start];
    if (regionOf[start] !== -1 || !which.includes(l)) continue;
    const id = regionLabels.length;
    regionLabels.push(l);
    regionOf[start] = id;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      const visit = (j: number) => {
        if (regionOf[j] === -1 && labels[j] === l) {
          regionOf[j] = id;
          stack.push(j);
        }
      };
      if (x > 0) visit(i - 1);
      if (x + 1 < width) visit(i + 1);
      if (y > 0) visit(i - width);
      if (y + 1 < height) visit(i + width);
    }
  }
  return { regionOf, labels: regionLabels };
}

/**
 * Least-squares similarity (scale, rotation, translation; no reflection) taking src[i] to
 * dst[i]: [a, b, tx, ty] with x' = a x - b y + tx, y' = b x + a y + ty. One point (or points
 * that all coincide) gives the translation between the centroids; none gives the identity.
 * src and dst are interleaved [x0, y0, x1, y1, ...].
 */
export function similarityFit(src: ArrayLike<number>, dst: ArrayLike<number>): [number, number, number, number] {
  const n = Math.floor(src.length / 2);
  if (n === 0) return [1, 0, 0, 0];
  let px = 0;
  let py = 0;
  let qx = 0;
  let qy = 0;
  for (let i = 0; i < n; i++) {
    px += src[2 * i];
    py += src[2 * i + 1];
    qx += dst[2 * i];
    qy += dst[2 * i + 1];
  }
  px /= n;
  py /= n;
  qx /= n;
  qy /= n;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const ux = src[2 * i] - px;
    const uy = src[2 * i + 1] - py;
    const vx = dst[2 * i] - qx;
    const vy = dst[2 * i + 1] - qy;
    dot += ux * vx + uy * vy;
    cross += ux * vy - uy * vx;
    norm += ux * ux + uy * uy;
  }
  // Coincident sources carry no rotation or scale: translate only.
  const a = norm > 1e-9 ? dot / norm : 1;
  const b = norm > 1e-9 ? cross / norm : 0;
  return [a, b, qx - (a * px - b * py), qy - (b * px + a * py)];
}
