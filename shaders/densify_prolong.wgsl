// densify_prolong: adds the coarse correction, bilinearly interpolated, to the fine solution.
// struct Params: densify_params.wgsl, prepended by densify.ts.

@group(0) @binding(0) var<uniform> params: Params;
// Fine level (width x height): Dirichlet mask [H*W] and solution [batch, H, W].
@group(0) @binding(1) var<storage, read> fixed: array<f32>;
@group(0) @binding(2) var<storage, read_write> u: array<f32>;
// Coarse correction [batch, Hc, Wc].
@group(0) @binding(3) var<storage, read> coarse_u: array<f32>;

// Cell-centred bilinear interpolation: fine pixel x sits at coarse coordinate (x + 0.5) / 2 - 0.5,
// clamped to the coarse grid. Fixed fine pixels keep their constraint value exactly.
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), batch).

fn coarse_at(x: i32, y: i32, o: u32) -> f32 {
  let cx = u32(clamp(x, 0, i32(params.coarse_width) - 1));
  let cy = u32(clamp(y, 0, i32(params.coarse_height) - 1));
  return coarse_u[o + cy * params.coarse_width + cx];
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (gid.x >= w || gid.y >= h || gid.z >= params.batch) { return; }
  let i = gid.y * w + gid.x;
  if (fixed[i] > 0.25) { return; }
  let sx = (f32(gid.x) + 0.5) * 0.5 - 0.5;
  let sy = (f32(gid.y) + 0.5) * 0.5 - 0.5;
  let x0 = i32(floor(sx));
  let y0 = i32(floor(sy));
  let fx = sx - f32(x0);
  let fy = sy - f32(y0);
  let co = gid.z * params.coarse_width * params.coarse_height;
  let top = mix(coarse_at(x0, y0, co), coarse_at(x0 + 1, y0, co), fx);
  let bottom = mix(coarse_at(x0, y0 + 1, co), coarse_at(x0 + 1, y0 + 1, co), fx);
  let o = gid.z * w * h + i;
  u[o] = u[o] + mix(top, bottom, fy);
}
