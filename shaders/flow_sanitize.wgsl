// Flow sanitize: makes a flow stack safe to render, in place, and counts what it changed.
// Every flow set entering a render passes here (stage 1's output, tracked flows, a blend), so a
// NaN or an absurd displacement can never reach the splat's metric or its bin arithmetic.
// Per pixel p of frame n, with d = (dx, dy) = (flows[n, 0, p], flows[n, 1, p]):
//   - either component NaN or +-Inf  -> d = (0, 0)           (the pixel stays where it is), counts[0] += 1
//   - else |dx| > limit or |dy| > limit -> each component clamped to [-limit, limit],   counts[1] += 1
//   - else unchanged (not even rewritten).
// limit is a multiple of the canvas's larger side (flowSanitize.ts): a clamped pixel was
// outside the frame before and stays outside after, so the rendered picture is the same.
// Non-finite values are found from the bits (exponent all ones), not with x != x: WGSL lets an
// implementation assume floats are finite and fold such comparisons away.
// Bindings (group 0):
//   0 uniform Params { pixels = N * H * W, plane = H * W, limit }
//   1 storage rw flows  u32 [N, 2, H, W]   (f32 bits)
//   2 storage rw counts atomic<u32> [2]     (non-finite pixels, clamped pixels; zeroed by the caller)
// One invocation per pixel; ceil(pixels / WG) workgroups split by dispatchGrid (common.ts),
// id = grid_invocation(wg, num_wg, local, WG).

struct Params {
  pixels: u32,
  plane: u32,
  limit: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> flows: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>, 2>;

// Workgroup size, set by flowSanitize.ts.
override WG: u32;

const EXPONENT: u32 = 0x7f800000u;

fn finite(bits: u32) -> bool {
  return (bits & EXPONENT) != EXPONENT;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let p = grid_invocation(wg, nwg, local, WG);
  if (p >= params.pixels) {
    return;
  }
  let n = p / params.plane;
  let i = p % params.plane;
  let ix = n * 2u * params.plane + i;
  let iy = ix + params.plane;
  let bx = flows[ix];
  let by = flows[iy];
  if (!finite(bx) || !finite(by)) {
    flows[ix] = 0u;
    flows[iy] = 0u;
    atomicAdd(&counts[0], 1u);
    return;
  }
  let dx = bitcast<f32>(bx);
  let dy = bitcast<f32>(by);
  let lim = params.limit;
  if (abs(dx) > lim || abs(dy) > lim) {
    flows[ix] = bitcast<u32>(clamp(dx, -lim, lim));
    flows[iy] = bitcast<u32>(clamp(dy, -lim, lim));
    atomicAdd(&counts[1], 1u);
  }
}
