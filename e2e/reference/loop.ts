/**
 * CPU reference of the classical engine's seamless loop (test tree only), written from its
 * definition: frame i (1..N) = mix(render(f_i), render(f_i - f_N), i / N), where render is the
 * one-flow splat + pull-push + static copy of reference/engine.ts, and the mix is quantised
 * like WGSL's pack4x8unorm (equal pixels pass through unchanged).
 */
import { cpuFlows, movingCover, pullPush, splatSoft, type CpuEngineInput } from './engine';

function renderFrame(planes: Float32Array, ref: Uint32Array, flow: Float32Array, w: number, h: number, metricScale: number): Uint32Array {
  const n = w * h;
  const out = new Uint32Array(n);
  const cover = movingCover(flow, w, h);
  const rgb = pullPush(splatSoft(planes, flow, w, h, metricScale), w, h);
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  for (let i = 0; i < n; i++) {
    if (flow[i] === 0 && flow[n + i] === 0 && !cover[i]) out[i] = ref[i];
    else out[i] = (byte(rgb[i]) | (byte(rgb[n + i]) << 8) | (byte(rgb[2 * n + i]) << 16) | (255 << 24)) >>> 0;
  }
  return out;
}

/** All N + 1 loop frames [N + 1, H, W] packed RGBA8; frame 0 is the image. */
export function cpuLoopFrames(a: CpuEngineInput): Uint32Array {
  const { width: w, height: h, frames: N } = a;
  const n = w * h;
  const flows = cpuFlows(a);
  const planes = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) planes[c * n + i] = a.rgba[4 * i + c] / 255;
    planes[3 * n + i] = 1;
  }
  const ref = new Uint32Array(a.rgba.buffer, a.rgba.byteOffset, n);
  const last = flows.subarray((N - 1) * 2 * n, N * 2 * n);
  const out = new Uint32Array((N + 1) * n);
  out.set(ref, 0);
  for (let f = 1; f <= N; f++) {
    const flow = flows.subarray((f - 1) * 2 * n, f * 2 * n);
    const shifted = new Float32Array(2 * n);
    for (let i = 0; i < 2 * n; i++) shifted[i] = Math.fround(flow[i] - last[i]);
    const fwd = renderFrame(planes, ref, flow, w, h, a.metricScale);
    const bwd = renderFrame(planes, ref, shifted, w, h, a.metricScale);
    const t = Math.fround(f / N);
    for (let i = 0; i < n; i++) {
      const pa = fwd[i];
      const pb = bwd[i];
      if (pa === pb) {
        out[f * n + i] = pa;
        continue;
      }
      let word = 0;
      for (let s = 0; s < 32; s += 8) {
        const va = ((pa >>> s) & 255) / 255;
        const vb = ((pb >>> s) & 255) / 255;
        word |= Math.floor(0.5 + 255 * Math.min(1, Math.max(0, va + (vb - va) * t))) << s;
      }
      out[f * n + i] = word >>> 0;
    }
  }
  return out;
}

/** Mean absolute byte difference (R, G, B) between frames `a` and `b` of a packed stack. */
export function frameMad(frames: Uint32Array, n: number, a: number, b: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = frames[a * n + i];
    const q = frames[b * n + i];
    for (let c = 0; c < 24; c += 8) s += Math.abs(((p >>> c) & 255) - ((q >>> c) & 255));
  }
  return s / (3 * n);
}
