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
  let px = tiled_pixel(gid, params.width, params.height, params.batch);
  if (!px.inside) { return; }
  let i = px.index;
  if (fixed[i] > 0.25) { return; }
  let t = upsample_taps(gid.x, gid.y);
  let co = gid.z * params.coarse_width * params.coarse_height;
  let top = mix(coarse_at(t.x0, t.y0, co), coarse_at(t.x0 + 1, t.y0, co), t.fx);
  let bottom = mix(coarse_at(t.x0, t.y0 + 1, co), coarse_at(t.x0 + 1, t.y0 + 1, co), t.fx);
  let o = px.frame * px.plane + i;
  u[o] = u[o] + mix(top, bottom, t.fy);
}
