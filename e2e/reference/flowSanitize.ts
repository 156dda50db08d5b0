/**
 * CPU reference of shaders/flow_sanitize.wgsl, written from the rule, not from the kernel:
 * per pixel, a NaN or infinite component -> (0, 0); else a component beyond +-limit -> both
 * clamped to [-limit, limit]; counts of each.
 */
export function sanitizeFlowsCpu(
  flows: Float32Array,
  shape: readonly [number, number, number, number],
  limit: number,
): { flows: Float32Array; nonFinite: number; clamped: number } {
  const [n, , h, w] = shape;
  const out = Float32Array.from(flows);
  const plane = h * w;
  let nonFinite = 0;
  let clamped = 0;
  for (let f = 0; f < n; f++) {
    for (let i = 0; i < plane; i++) {
      const ix = f * 2 * plane + i;
      const iy = ix + plane;
      const dx = out[ix];
      const dy = out[iy];
      if (!Number.isFinite(dx) || !Number.isFinite(dy)) {
        out[ix] = 0;
        out[iy] = 0;
        nonFinite++;
      } else if (Math.abs(dx) > limit || Math.abs(dy) > limit) {
        out[ix] = Math.min(limit, Math.max(-limit, dx));
        out[iy] = Math.min(limit, Math.max(-limit, dy));
        clamped++;
      }
    }
  }
  return { flows: out, nonFinite, clamped };
}
