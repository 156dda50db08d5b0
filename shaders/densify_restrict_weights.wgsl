// densify_restrict_weights: the next coarser level's edge weights and Dirichlet mask.
// struct Params: densify_params.wgsl, prepended by densify.ts.

@group(0) @binding(0) var<uniform> params: Params;
// Fine level (W x H = width x height): weights and mask, [H*W] each.
@group(0) @binding(1) var<storage, read> fine_wx: array<f32>;
@group(0) @binding(2) var<storage, read> fine_wy: array<f32>;
@group(0) @binding(3) var<storage, read> fine_fixed: array<f32>;
// Coarse level (coarse_width x coarse_height, = ceil(W/2) x ceil(H/2)).
@group(0) @binding(4) var<storage, read_write> coarse_wx: array<f32>;
@group(0) @binding(5) var<storage, read_write> coarse_wy: array<f32>;
@group(0) @binding(6) var<storage, read_write> coarse_fixed: array<f32>;

// Coarse cell (X,Y) covers fine pixels (2X..2X+1, 2Y..2Y+1). Its edge to (X+1,Y) is crossed by
// the fine edges (2X+1,2Y)-(2X+2,2Y) and (2X+1,2Y+1)-(2X+2,2Y+1): the coarse weight is their
// mean, so an image edge that blocks diffusion at the fine level also blocks it here.
// A coarse cell is fixed (Dirichlet, zero correction) when any of its children is a hard
// constraint (fixed = 1); static children (0.5) do not pin it. Fixed means > 0.25 everywhere.
// Workgroup 8x8; dispatch (ceil(Wc/8), ceil(Hc/8), 1).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let cw = params.coarse_width;
  let ch = params.coarse_height;
  if (!in_tiled_grid(gid, cw, ch, 1u)) { return; }
  let w = params.width;
  let h = params.height;
  let fx = gid.x * 2u;
  let fy = gid.y * 2u;
  var fixed = 0.0;
  for (var dy = 0u; dy < 2u; dy++) {
    for (var dx = 0u; dx < 2u; dx++) {
      let x = fx + dx;
      let y = fy + dy;
      if (x < w && y < h && fine_fixed[y * w + x] > 0.75) { fixed = 1.0; }
    }
  }
  var ax = 0.0;
  if (gid.x + 1u < cw) {
    let x = fx + 1u;
    var sum = fine_wx[fy * w + x];
    var n = 1.0;
    if (fy + 1u < h) { sum += fine_wx[(fy + 1u) * w + x]; n += 1.0; }
    ax = sum / n;
  }
  var ay = 0.0;
  if (gid.y + 1u < ch) {
    let y = fy + 1u;
    var sum = fine_wy[y * w + fx];
    var n = 1.0;
    if (fx + 1u < w) { sum += fine_wy[y * w + fx + 1u]; n += 1.0; }
    ay = sum / n;
  }
  let c = gid.y * cw + gid.x;
  coarse_wx[c] = ax;
  coarse_wy[c] = ay;
  coarse_fixed[c] = fixed;
}
