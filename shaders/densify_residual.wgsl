// densify_residual: residual of the fine level, restricted (summed) to the coarse level's
// right-hand side; also clears the coarse correction.
// struct Params: densify_params.wgsl, prepended by densify.ts.

@group(0) @binding(0) var<uniform> params: Params;
// Fine level (width x height).
@group(0) @binding(1) var<storage, read> wx: array<f32>;
@group(0) @binding(2) var<storage, read> wy: array<f32>;
@group(0) @binding(3) var<storage, read> fixed: array<f32>;
@group(0) @binding(4) var<storage, read> rhs: array<f32>;
@group(0) @binding(5) var<storage, read> u: array<f32>;
// Coarse level (coarse_width x coarse_height): Dirichlet mask, rhs and correction [batch, Hc, Wc].
@group(0) @binding(6) var<storage, read> coarse_fixed: array<f32>;
@group(0) @binding(7) var<storage, read_write> coarse_rhs: array<f32>;
@group(0) @binding(8) var<storage, read_write> coarse_u: array<f32>;

// r_p = rhs_p - ((s + sum_q w_pq) u_p - sum_q w_pq u_q) at free fine pixels, 0 at fixed ones.
// The coarse rhs is the SUM of the 4 children's residuals: the graph Laplacian has no 1/h^2, so
// one coarse equation stands for four fine ones (and the screening grows by 4 per level).
// Fixed coarse cells get rhs 0: the correction must not move a constraint.
// Workgroup 8x8; dispatch (ceil(Wc/8), ceil(Hc/8), batch).

fn residual(x: u32, y: u32, o: u32) -> f32 {
  let w = params.width;
  let h = params.height;
  let i = y * w + x;
  if (fixed[i] > 0.25) { return 0.0; }
  let up = u[o + i];
  var r = rhs[o + i] - params.screening * up;
  if (x > 0u) { r += wx[i - 1u] * (u[o + i - 1u] - up); }
  if (x + 1u < w) { r += wx[i] * (u[o + i + 1u] - up); }
  if (y > 0u) { r += wy[i - w] * (u[o + i - w] - up); }
  if (y + 1u < h) { r += wy[i] * (u[o + i + w] - up); }
  return r;
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let cw = params.coarse_width;
  let ch = params.coarse_height;
  if (!in_tiled_grid(gid, cw, ch, params.batch)) { return; }
  let o = gid.z * params.width * params.height;
  let c = gid.y * cw + gid.x;
  let co = gid.z * cw * ch + c;
  coarse_u[co] = 0.0;
  if (coarse_fixed[c] > 0.5) {
    coarse_rhs[co] = 0.0;
    return;
  }
  var sum = 0.0;
  for (var dy = 0u; dy < 2u; dy++) {
    for (var dx = 0u; dx < 2u; dx++) {
      let x = gid.x * 2u + dx;
      let y = gid.y * 2u + dy;
      if (x < params.width && y < params.height) { sum += residual(x, y, o); }
    }
  }
  coarse_rhs[co] = sum;
}
