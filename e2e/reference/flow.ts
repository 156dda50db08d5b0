/**
 * CPU references for the flow kernels (test oracles; not used by the app):
 *  - resizeFlowsReference: PyTorch F.interpolate(mode='bilinear', align_corners=False) as in
 *    aten's upsample_bilinear2d CPU kernel (per-axis source index, clamp at 0, i0 / i0+1
 *    with the +1 dropped on the last row/column), followed by dx * w / W, dy * h / H;
 *  - flowColourReference: the flow_vis (Baker et al. Middlebury) colouring, in float64 like
 *    its NumPy original, returning RGBA bytes.
 */

const f = Math.fround;

interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float32Array;
  l1: Float32Array;
}

function axisTaps(inSize: number, outSize: number): AxisTaps {
  const scale = f(inSize / outSize);
  const t: AxisTaps = {
    i0: new Int32Array(outSize),
    i1: new Int32Array(outSize),
    l0: new Float32Array(outSize),
    l1: new Float32Array(outSize),
  };
  for (let d = 0; d < outSize; d++) {
    let src = f(f(scale * f(d + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const i0 = Math.trunc(src);
    t.i0[d] = i0;
    t.i1[d] = i0 < inSize - 1 ? i0 + 1 : i0;
    t.l1[d] = f(src - i0);
    t.l0[d] = f(1 - t.l1[d]);
  }
  return t;
}

/** flows [N, 2, H, W] -> [N, 2, h, w]. */
export function resizeFlowsReference(flows: Float32Array, N: number, H: number, W: number, h: number, w: number): Float32Array {
  const out = new Float32Array(N * 2 * h * w);
  const tx = axisTaps(W, w);
  const ty = axisTaps(H, h);
  const unit = [f(w / W), f(h / H)];
  for (let plane = 0; plane < N * 2; plane++) {
    const src = flows.subarray(plane * H * W, (plane + 1) * H * W);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const a = src[ty.i0[y] * W + tx.i0[x]];
        const b = src[ty.i0[y] * W + tx.i1[x]];
        const c = src[ty.i1[y] * W + tx.i0[x]];
        const d = src[ty.i1[y] * W + tx.i1[x]];
        const top = f(f(tx.l0[x] * a) + f(tx.l1[x] * b));
        const bottom = f(f(tx.l0[x] * c) + f(tx.l1[x] * d));
        const v = f(f(ty.l0[y] * top) + f(ty.l1[y] * bottom));
        out[(plane * h + y) * w + x] = f(v * unit[plane % 2]);
      }
    }
  }
  return out;
}

/** flow_vis make_colorwheel(): 55 x 3, filled column-range by column-range as the original. */
function makeColorwheel(): number[][] {
  const RY = 15,
    YG = 6,
    GC = 4,
    CB = 11,
    BM = 13,
    MR = 6;
  const ncols = RY + YG + GC + CB + BM + MR;
  const wheel = Array.from({ length: ncols }, () => [0, 0, 0]);
  let col = 0;
  for (let i = 0; i < RY; i++) {
    wheel[col + i][0] = 255;
    wheel[col + i][1] = Math.floor((255 * i) / RY);
  }
  col += RY;
  for (let i = 0; i < YG; i++) {
    wheel[col + i][0] = 255 - Math.floor((255 * i) / YG);
    wheel[col + i][1] = 255;
  }
  col += YG;
  for (let i = 0; i < GC; i++) {
    wheel[col + i][1] = 255;
    wheel[col + i][2] = Math.floor((255 * i) / GC);
  }
  col += GC;
  for (let i = 0; i < CB; i++) {
    wheel[col + i][1] = 255 - Math.floor((255 * i) / CB);
    wheel[col + i][2] = 255;
  }
  col += CB;
  for (let i = 0; i < BM; i++) {
    wheel[col + i][2] = 255;
    wheel[col + i][0] = Math.floor((255 * i) / BM);
  }
  col += BM;
  for (let i = 0; i < MR; i++) {
    wheel[col + i][2] = 255 - Math.floor((255 * i) / MR);
    wheel[col + i][0] = 255;
  }
  return wheel;
}

/**
 * One flow (frame `frame` of [N, 2, H, W]) to RGBA bytes, row-major H x W x 4. Normalised by
 * the largest finite length + 1e-5 (flow_to_color), or by `maxRadius` when given. Non-finite
 * pixels: opaque black (flow_vis leaves them undefined).
 */
export function flowColourReference(flows: Float32Array, H: number, W: number, frame = 0, maxRadius?: number): Uint8Array {
  const HW = H * W;
  const U = flows.subarray(frame * 2 * HW, frame * 2 * HW + HW);
  const V = flows.subarray(frame * 2 * HW + HW, frame * 2 * HW + 2 * HW);
  let radMax = 0;
  for (let i = 0; i < HW; i++) {
    if (Number.isFinite(U[i]) && Number.isFinite(V[i])) radMax = Math.max(radMax, Math.hypot(U[i], V[i]));
  }
  const norm = maxRadius ?? radMax + 1e-5;
  const wheel = makeColorwheel();
  const ncols = wheel.length;
  const out = new Uint8Array(HW * 4);
  for (let i = 0; i < HW; i++) {
    out[i * 4 + 3] = 255;
    if (!Number.isFinite(U[i]) || !Number.isFinite(V[i])) continue;
    const u = U[i] / norm;
    const v = V[i] / norm;
    const rad = Math.sqrt(u * u + v * v);
    const a = Math.atan2(-v, -u) / Math.PI;
    const fk = ((a + 1) / 2) * (ncols - 1);
    const k0 = Math.floor(fk);
    const k1 = k0 + 1 === ncols ? 0 : k0 + 1;
    const fr = fk - k0;
    for (let ch = 0; ch < 3; ch++) {
      let c = (1 - fr) * (wheel[k0][ch] / 255) + fr * (wheel[k1][ch] / 255);
      c = rad <= 1 ? 1 - rad * (1 - c) : c * 0.75;
      out[i * 4 + ch] = Math.floor(255 * c);
    }
  }
  return out;
}
