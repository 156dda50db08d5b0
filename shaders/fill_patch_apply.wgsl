// fill_patch_apply: every target pixel of a level (is_target: a hole, not front, not mostly
// covered) takes the colour of its NNF source's centre
// pixel, when that pixel is known (background); otherwise it keeps its current colour (the
// background pull-push estimate). Sources are known and never written, holes are written and
// never read, so the update in place is race-free.
// Params (binding 0): fill_patch_common.wgsl. Fields read: width, height, frames.
// level: [F, 4, H, W] colours + weights, hole colours updated in place.
@group(0) @binding(1) var<storage, read_write> level: array<f32>;
// nnf: [F, H, W].
@group(0) @binding(2) var<storage, read> nnf: array<u32>;
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

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
  let s = unpack_position(nnf[f * n + p]);
  if (s.x < 0 || s.y < 0 || s.x >= i32(w) || s.y >= i32(h)) { return; }
  let i = u32(s.y) * w + u32(s.x);
  if (!is_known(level[plane_offset(f, 3u, n) + i])) { return; }
  for (var c = 0u; c < 3u; c++) {
    level[plane_offset(f, c, n) + p] = level[plane_offset(f, c, n) + i];
  }
}
