/**
 * Expected stage-1 conditions for the editor tests, computed in Node straight from the
 * reference demo's description (G-U-N/Motion-I2V scripts/app.py `Drag.run` + `forward_sample`,
 * summarised in shared/design/reference.md), independently of src/motion:
 *
 * - a one-point drag becomes (x, y), (x + 1, y + 1);
 * - points go through scipy's PchipInterpolator over t = linspace(0, 1, n), sampled at the
 *   frame's progress (linspace over the trajectory's [startFrame, endFrame], 0 before, 1 after);
 * - flow at frame f = P[f] - P[0], written into rows [max(int(y) - u, 0), int(y) + u) and columns
 *   [max(int(x) - u, 0), int(x + u)); later drags overwrite; mask = union of the squares;
 * - brush: painted = may move (pixel centre within radius of a stroke's polyline; erase strokes
 *   clear); static = unpainted when anything is painted; flow *= 1 - static; mask = 1 on static;
 * - normalised = ((dx / W) + 1) / 2, ((dy / H) + 1) / 2, then (n - 0.5) * mask + 0.5.
 * Written plainly (loops, no shared code with the app) so it can disagree with the app.
 */

export interface Pt {
  x: number;
  y: number;
}
export interface TrajectoryIn {
  points: Pt[];
  timing: { mode: string; startFrame: number; endFrame: number };
}
export interface StrokeIn {
  mode: 'paint' | 'erase';
  radius: number;
  points: Pt[];
}
export interface ProjectIn {
  canvas: { width: number; height: number };
  trajectories: TrajectoryIn[];
  brush: StrokeIn[];
  settings: { flowUnit: number; frames: number };
}

/** scipy.interpolate.PchipInterpolator for one coordinate, knots xs (increasing). */
export function pchip(xs: number[], ys: number[]): (t: number) => number {
  const n = xs.length;
  const h: number[] = [];
  const m: number[] = [];
  for (let k = 0; k < n - 1; k++) {
    h.push(xs[k + 1] - xs[k]);
    m.push((ys[k + 1] - ys[k]) / h[k]);
  }
  const d = new Array<number>(n).fill(0);
  if (n === 2) {
    d[0] = m[0];
    d[1] = m[0];
  } else {
    for (let k = 1; k < n - 1; k++) {
      if (m[k - 1] === 0 || m[k] === 0 || Math.sign(m[k - 1]) !== Math.sign(m[k])) d[k] = 0;
      else {
        const w1 = 2 * h[k] + h[k - 1];
        const w2 = h[k] + 2 * h[k - 1];
        d[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k]);
      }
    }
    const end = (h0: number, h1: number, m0: number, m1: number) => {
      let v = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
      if (Math.sign(v) !== Math.sign(m0)) v = 0;
      else if (Math.sign(m0) !== Math.sign(m1) && Math.abs(v) > Math.abs(3 * m0)) v = 3 * m0;
      return v;
    };
    d[0] = end(h[0], h[1], m[0], m[1]);
    d[n - 1] = end(h[n - 2], h[n - 3], m[n - 2], m[n - 3]);
  }
  return (t: number) => {
    let k = 0;
    while (k < n - 2 && t >= xs[k + 1]) k++;
    const s = (t - xs[k]) / h[k];
    const h00 = 2 * s ** 3 - 3 * s ** 2 + 1;
    const h10 = s ** 3 - 2 * s ** 2 + s;
    const h01 = -2 * s ** 3 + 3 * s ** 2;
    const h11 = s ** 3 - s ** 2;
    return h00 * ys[k] + h10 * h[k] * d[k] + h01 * ys[k + 1] + h11 * h[k] * d[k + 1];
  };
}

/** Position at every frame (reference timing mode only). */
export function positions(t: TrajectoryIn, frames: number): Pt[] {
  let pts = t.points.map((p) => ({ x: Math.trunc(p.x), y: Math.trunc(p.y) }));
  if (pts.length === 1) pts = [pts[0], { x: pts[0].x + 1, y: pts[0].y + 1 }];
  if (t.timing.mode !== 'reference') throw new Error('expected values cover the reference timing mode only');
  const knots = pts.map((_, i) => i / (pts.length - 1));
  const fx = pchip(
    knots,
    pts.map((p) => p.x),
  );
  const fy = pchip(
    knots,
    pts.map((p) => p.y),
  );
  const s = t.timing.startFrame;
  const e = t.timing.endFrame;
  const out: Pt[] = [];
  for (let f = 0; f < frames; f++) {
    const u = f <= s ? 0 : f >= e ? 1 : (f - s) / (e - s);
    out.push({ x: fx(u), y: fy(u) });
  }
  return out;
}

/** 1 = painted (may move), [H, W]. */
export function painted(strokes: StrokeIn[], W: number, H: number): Uint8Array {
  const out = new Uint8Array(W * H);
  for (const st of strokes) {
    const segs: [Pt, Pt][] = st.points.length === 1 ? [[st.points[0], st.points[0]]] : st.points.slice(1).map((p, i) => [st.points[i], p]);
    // Only pixels near the stroke can be inside it.
    const xs = st.points.map((q) => q.x);
    const ys = st.points.map((q) => q.y);
    const yLo = Math.max(0, Math.floor(Math.min(...ys) - st.radius - 1));
    const yHi = Math.min(H - 1, Math.ceil(Math.max(...ys) + st.radius + 1));
    const xLo = Math.max(0, Math.floor(Math.min(...xs) - st.radius - 1));
    const xHi = Math.min(W - 1, Math.ceil(Math.max(...xs) + st.radius + 1));
    for (let y = yLo; y <= yHi; y++) {
      for (let x = xLo; x <= xHi; x++) {
        const cx = x + 0.5;
        const cy = y + 0.5;
        for (const [a, b] of segs) {
          const vx = b.x - a.x;
          const vy = b.y - a.y;
          const len2 = vx * vx + vy * vy;
          let t = len2 > 0 ? ((cx - a.x) * vx + (cy - a.y) * vy) / len2 : 0;
          t = Math.max(0, Math.min(1, t));
          const dx = cx - (a.x + t * vx);
          const dy = cy - (a.y + t * vy);
          if (dx * dx + dy * dy <= st.radius * st.radius) {
            out[y * W + x] = st.mode === 'paint' ? 1 : 0;
            break;
          }
        }
      }
    }
  }
  return out;
}

export interface Expected {
  flow: Float32Array; // [F, 2, H, W]
  mask: Float32Array; // [H, W]
  normalized: Float32Array; // [F, 2, H, W]
  staticMask: Float32Array; // [H, W]
}

export function expectedConditions(p: ProjectIn): Expected {
  const W = p.canvas.width;
  const H = p.canvas.height;
  const F = p.settings.frames;
  const u = p.settings.flowUnit;
  const flow = new Float32Array(F * 2 * H * W);
  const mask = new Float32Array(H * W);
  for (const t of p.trajectories) {
    const P = positions(t, F);
    const sx = Math.trunc(P[0].x);
    const sy = Math.trunc(P[0].y);
    const y0 = Math.max(sy - u, 0);
    const y1 = Math.min(sy + u, H);
    const x0 = Math.max(sx - u, 0);
    const x1 = Math.min(Math.trunc(P[0].x + u), W);
    for (let f = 1; f < F; f++) {
      const dx = P[f].x - P[0].x;
      const dy = P[f].y - P[0].y;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          flow[((f * 2 + 0) * H + y) * W + x] = dx;
          flow[((f * 2 + 1) * H + y) * W + x] = dy;
        }
      }
    }
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * W + x] = 1;
  }
  const paint = painted(p.brush, W, H);
  const anyPaint = paint.some((v) => v === 1);
  const staticMask = new Float32Array(H * W);
  if (anyPaint) for (let i = 0; i < H * W; i++) staticMask[i] = 1 - paint[i];
  for (let i = 0; i < H * W; i++) {
    if (staticMask[i] === 1) {
      mask[i] = 1;
      for (let f = 0; f < F; f++) {
        flow[(f * 2 + 0) * H * W + i] = 0;
        flow[(f * 2 + 1) * H * W + i] = 0;
      }
    }
  }
  const normalized = new Float32Array(F * 2 * H * W);
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < H * W; i++) {
      const nx = (flow[f * 2 * H * W + i] / W + 1) / 2;
      const ny = (flow[(f * 2 + 1) * H * W + i] / H + 1) / 2;
      normalized[f * 2 * H * W + i] = (nx - 0.5) * mask[i] + 0.5;
      normalized[(f * 2 + 1) * H * W + i] = (ny - 0.5) * mask[i] + 0.5;
    }
  }
  return { flow, mask, normalized, staticMask };
}
