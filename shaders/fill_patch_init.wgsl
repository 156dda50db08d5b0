// fill_patch_init: the starting NNF of one pyramid level of the patch fill. Pixels that are not
// targets (known, front, mostly covered) point at themselves. A target takes its parent's
// source on the next coarser level, scaled up (2 s + (p mod 2): coarse-to-fine), or, on the coarsest level, a random position; either is
// clamped so the whole patch lies inside the level. Whether the source is usable is left to
// fill_patch_search (an unusable one costs infinity, so any usable candidate replaces it).
// Params (binding 0): fill_patch_common.wgsl. Fields read: width, height, frames,
// coarse_width, coarse_height (0 = no coarser level), seed, pass_index.
// level: [F, 4, H, W] (only the weight plane is read).
@group(0) @binding(1) var<storage, read> level: array<f32>;
// coarse_nnf: [F, Hc, Wc] (unused when there is no coarser level: bind any buffer).
@group(0) @binding(2) var<storage, read> coarse_nnf: array<u32>;
// nnf: [F, H, W] out.
@group(0) @binding(3) var<storage, read_write> nnf: array<u32>;
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, params.frames)) { return; }
  let n = w * h;
  let p = gid.y * w + gid.x;
  let here = vec2i(gid.xy);
  let weight = level[plane_offset(gid.z, 3u, n) + p];
  if (!is_target(weight)) {
    nnf[gid.z * n + p] = pack_position(here);
    return;
  }
  var s: vec2i;
  let cw = params.coarse_width;
  let ch = params.coarse_height;
  if (cw > 0u && ch > 0u) {
    let cx = min(gid.x / 2u, cw - 1u);
    let cy = min(gid.y / 2u, ch - 1u);
    s = 2 * unpack_position(coarse_nnf[gid.z * cw * ch + cy * cw + cx]) + (here & vec2i(1));
  } else {
    let r = random_u32(gid.z, p, 0u);
    s = vec2i(i32(r % w), i32((r >> 16u) % h));
  }
  let lo = vec2i(PATCH_RADIUS);
  let hi = max(lo, vec2i(i32(w), i32(h)) - 1 - PATCH_RADIUS);
  nnf[gid.z * n + p] = pack_position(clamp(s, lo, hi));
}
