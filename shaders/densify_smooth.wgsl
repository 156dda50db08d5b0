// densify_smooth: one red-black Gauss-Seidel half-sweep of the screened edge-aware Poisson
// equation, in place, for all basis fields at once.
// struct Params: densify_params.wgsl, prepended by densify.ts.

@group(0) @binding(0) var<uniform> params: Params;
// Level of width x height; wx/wy: edge weights, fixed: Dirichlet mask, [H*W] each.
@group(0) @binding(1) var<storage, read> wx: array<f32>;
@group(0) @binding(2) var<storage, read> wy: array<f32>;
@group(0) @binding(3) var<storage, read> fixed: array<f32>;
// rhs, u: [batch, H, W].
@group(0) @binding(4) var<storage, read> rhs: array<f32>;
@group(0) @binding(5) var<storage, read_write> u: array<f32>;

// Equation at a free pixel p (neighbours q, edge weights w_pq, screening s = lambda * 4^level):
//   (s + sum_q w_pq) u_p - sum_q w_pq u_q = rhs_p
// Gauss-Seidel: u_p <- (rhs_p + sum_q w_pq u_q) / (s + sum_q w_pq). Fixed pixels: u_p <- rhs_p.
// Only pixels with (x + y) % 2 == parity are updated, so neighbours are never written in the
// same dispatch (red-black ordering; two dispatches make one sweep). Invocation (i, y) handles
// x = 2 i + ((y + parity) & 1), so no invocation idles on the other colour.
// Workgroup 8x8; dispatch (ceil(ceil(W/2)/8), ceil(H/8), batch).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  let x = 2u * gid.x + ((gid.y + params.parity) & 1u);
  if (x >= w || gid.y >= h || gid.z >= params.batch) { return; }
  let i = gid.y * w + x;
  let o = gid.z * w * h;
  if (fixed[i] > 0.25) {
    u[o + i] = rhs[o + i];
    return;
  }
  var num = rhs[o + i];
  var den = params.screening;
  if (x > 0u) { let k = wx[i - 1u]; num += k * u[o + i - 1u]; den += k; }
  if (x + 1u < w) { let k = wx[i]; num += k * u[o + i + 1u]; den += k; }
  if (gid.y > 0u) { let k = wy[i - w]; num += k * u[o + i - w]; den += k; }
  if (gid.y + 1u < h) { let k = wy[i]; num += k * u[o + i + w]; den += k; }
  if (den > 0.0) { u[o + i] = num / den; }
}
