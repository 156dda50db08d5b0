/**
 * Monotone piecewise cubic Hermite interpolation (PCHIP), reproducing
 * scipy.interpolate.PchipInterpolator operation by operation in float64, so that the
 * reference demo's drag resampling (`PchipInterpolator(t, x)(linspace(0, 1, 16))`) comes out
 * bit-for-bit the same.
 *
 * scipy's algorithm (Fritsch–Carlson with Moler's end points), for knots x_k and values y_k:
 *   h_k = x_{k+1} - x_k,  m_k = (y_{k+1} - y_k) / h_k
 *   two knots: d_0 = d_1 = m_0 (a straight line)
 *   interior:  d_k = 0 if sign(m_{k-1}) != sign(m_k) or either slope is 0, otherwise the
 *              weighted harmonic mean d_k = 1 / ((w1/m_{k-1} + w2/m_k) / (w1 + w2)) with
 *              w1 = 2 h_k + h_{k-1}, w2 = h_k + 2 h_{k-1}
 *   ends:      d = ((2 h0 + h1) m0 - h0 m1) / (h0 + h1); 0 if sign(d) != sign(m0); else 3 m0 if
 *              sign(m0) != sign(m1) and |d| > 3 |m0|   (h0, m0 the end segment, h1, m1 its neighbour)
 * Each segment is stored as power-basis coefficients in s = x - x_k (CubicHermiteSpline):
 *   c3 = y_k, c2 = d_k, tt = (d_k + d_{k+1} - 2 m_k) / h_k, c1 = (m_k - d_k) / h_k - tt,
 *   c0 = tt / h_k;  value = ((c3 + c2 s) + c1 s^2) + c0 s^3   (scipy's evaluate_poly1 order)
 * Evaluation picks the segment with x_k <= x < x_{k+1} (the last one is closed on the right)
 * and extrapolates with the end segments outside [x_0, x_{n-1}], as scipy does by default.
 */

/** numpy.linspace(start, stop, num) with endpoint=True, element for element: i * step + start, last = stop. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (!Number.isInteger(num) || num < 0) throw new RangeError(`linspace: num must be a non-negative integer (got ${num})`);
  if (num === 0) return [];
  if (num === 1) return [start];
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  const out = new Array<number>(num);
  for (let i = 0; i < num; i++) {
    // numpy: y = arange(num) * step (or (arange / div) * delta when step underflows to 0), then y += start.
    out[i] = (step === 0 ? (i / div) * delta : i * step) + start;
  }
  out[num - 1] = stop;
  return out;
}

export interface PchipSpline {
  /** Knot positions (strictly increasing). */
  readonly knots: Float64Array;
  /** Number of components per value (2 for points). */
  readonly dims: number;
  /** Derivatives at the knots, [knot][dim]. */
  readonly slopes: Float64Array;
  /** Value at x, one number per dimension. */
  evaluate(x: number): number[];
}

/** scipy's np.sign: -1, 0 or 1 (NaN stays NaN; never happens for finite input). */
function sign(v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : NaN;
}

/** scipy PchipInterpolator._edge_case: one-sided three-point end derivative, shape preserving. */
function edgeDerivative(h0: number, h1: number, m0: number, m1: number): number {
  const d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
  if (sign(d) !== sign(m0)) return 0;
  if (sign(m0) !== sign(m1) && Math.abs(d) > 3 * Math.abs(m0)) return 3 * m0;
  return d;
}

/**
 * Build a vector-valued PCHIP through (x[k], values[k]). `values[k]` has one entry per
 * dimension; each dimension is interpolated independently (like one PchipInterpolator per
 * coordinate in the reference).
 */
export function createPchip(x: readonly number[], values: readonly (readonly number[])[]): PchipSpline {
  const n = x.length;
  if (n < 2) throw new RangeError(`createPchip: need at least 2 knots (got ${n})`);
  if (values.length !== n) throw new RangeError(`createPchip: ${n} knots but ${values.length} values`);
  const dims = values[0].length;
  if (dims < 1) throw new RangeError('createPchip: values must have at least one component');
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(x[k])) throw new RangeError(`createPchip: knot ${k} is not finite`);
    if (values[k].length !== dims) throw new RangeError(`createPchip: value ${k} has ${values[k].length} components, expected ${dims}`);
    for (let j = 0; j < dims; j++) {
      if (!Number.isFinite(values[k][j])) throw new RangeError(`createPchip: value ${k}[${j}] is not finite`);
    }
    if (k > 0 && !(x[k] - x[k - 1] > 0)) throw new RangeError('createPchip: knots must be strictly increasing');
  }

  const knots = Float64Array.from(x);
  const segs = n - 1;
  const h = new Float64Array(segs);
  for (let k = 0; k < segs; k++) h[k] = knots[k + 1] - knots[k];

  const slopes = new Float64Array(n * dims);
  // Power-basis coefficients, [segment][dim][c0, c1, c2, c3].
  const coef = new Float64Array(segs * dims * 4);
  const m = new Float64Array(segs);
  for (let j = 0; j < dims; j++) {
    for (let k = 0; k < segs; k++) m[k] = (values[k + 1][j] - values[k][j]) / h[k];
    if (n === 2) {
      slopes[0 * dims + j] = m[0];
      slopes[1 * dims + j] = m[0];
    } else {
      for (let k = 1; k < n - 1; k++) {
        const mPrev = m[k - 1];
        const mNext = m[k];
        let d = 0;
        if (!(sign(mNext) !== sign(mPrev) || mNext === 0 || mPrev === 0)) {
          const w1 = 2 * h[k] + h[k - 1];
          const w2 = h[k] + 2 * h[k - 1];
          const whmean = (w1 / mPrev + w2 / mNext) / (w1 + w2);
          d = 1.0 / whmean;
        }
        slopes[k * dims + j] = d;
      }
      slopes[0 * dims + j] = edgeDerivative(h[0], h[1], m[0], m[1]);
      slopes[(n - 1) * dims + j] = edgeDerivative(h[segs - 1], h[segs - 2], m[segs - 1], m[segs - 2]);
    }
    for (let k = 0; k < segs; k++) {
      const d0 = slopes[k * dims + j];
      const d1 = slopes[(k + 1) * dims + j];
      // CubicHermiteSpline: slope = diff(y) / dx, t = (d0 + d1 - 2 * slope) / dx.
      const tt = (d0 + d1 - 2 * m[k]) / h[k];
      const base = (k * dims + j) * 4;
      coef[base + 0] = tt / h[k];
      coef[base + 1] = (m[k] - d0) / h[k] - tt;
      coef[base + 2] = d0;
      coef[base + 3] = values[k][j];
    }
  }

  const findSegment = (xv: number): number => {
    // scipy find_interval_ascending with extrapolation: x == x_last belongs to the last segment.
    if (xv >= knots[n - 1]) return segs - 1;
    if (xv < knots[0]) return 0;
    let lo = 0;
    let hi = segs - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xv < knots[mid]) hi = mid;
      else if (xv >= knots[mid + 1]) lo = mid + 1;
      else return mid;
    }
    return lo;
  };

  return {
    knots,
    dims,
    slopes,
    evaluate(xv: number): number[] {
      const k = findSegment(xv);
      const s = xv - knots[k];
      const out = new Array<number>(dims);
      for (let j = 0; j < dims; j++) {
        const base = (k * dims + j) * 4;
        // scipy evaluate_poly1: res = 0 + c3; res += c2*s; res += c1*(s*s); res += c0*((s*s)*s).
        const s2 = s * s;
        const s3 = s2 * s;
        out[j] = 0.0 + coef[base + 3] + coef[base + 2] * s + coef[base + 1] * s2 + coef[base + 0] * s3;
      }
      return out;
    },
  };
}
