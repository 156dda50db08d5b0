// fill_patch_detail: the fill written out: the background pull-push colour (smooth: right on
// average, no texture) plus the patch fill's detail (the copied texture minus its local mean),
// so the fill keeps the smooth fill's low frequencies and the background's texture:
//   out(p) = smooth(p) + P(p) - mean of P over the (2 DETAIL_RADIUS + 1)^2 window around p
// (clamped to the level, front pixels left out), for target pixels of level 0 (is_target);
// other pixels keep smooth_fill.
// Params (binding 0): fill_patch_common.wgsl. Fields read: width, height, frames.
// level: [F, 4, H, W] level 0 after the patch fill (P: copies of background pixels in holes).
@group(0) @binding(1) var<storage, read> level: array<f32>;
// smooth_fill: [F, 4, H, W] level 0 after background pull-push (a copy taken before the patch fill),
// updated in place (only pixel p is read and written by its thread).
@group(0) @binding(2) var<storage, read_write> smooth_fill: array<f32>;
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

// A 7x7 window: the detail keeps the fine texture (most of the gradient energy) and leaves the
// coarser bands, which a copy gets wrong more than it gets right, to the smooth fill.
const DETAIL_RADIUS: i32 = 3;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, params.frames)) { return; }
  let n = w * h;
  let p = gid.y * w + gid.x;
  let f = gid.z;
  let weight = level[plane_offset(f, 3u, n) + p];
  if (!is_target(weight)) { return; }
  var sum = vec3f(0.0);
  var count = 0.0;
  for (var dy = -DETAIL_RADIUS; dy <= DETAIL_RADIUS; dy++) {
    for (var dx = -DETAIL_RADIUS; dx <= DETAIL_RADIUS; dx++) {
      let q = vec2i(gid.xy) + vec2i(dx, dy);
      if (q.x < 0 || q.y < 0 || q.x >= i32(w) || q.y >= i32(h)) { continue; }
      let i = u32(q.y) * w + u32(q.x);
      if (is_front(level[plane_offset(f, 3u, n) + i])) { continue; }
      sum += vec3f(level[plane_offset(f, 0u, n) + i], level[plane_offset(f, 1u, n) + i], level[plane_offset(f, 2u, n) + i]);
      count += 1.0;
    }
  }
  let mean = sum / max(count, 1.0);
  for (var c = 0u; c < 3u; c++) {
    smooth_fill[plane_offset(f, c, n) + p] = smooth_fill[plane_offset(f, c, n) + p] + level[plane_offset(f, c, n) + p] - mean[c];
  }
}
