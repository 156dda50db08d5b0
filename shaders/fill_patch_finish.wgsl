// fill_patch_finish: puts the filled level 0 into the splat, so the composite needs no pyramid:
// where coverage a < 1, colour = splat + (1 - a) * fill (the splat's colour is already a *
// colour) and a = 1. Covered pixels keep what landed on them (the moving content in front).
// Params (binding 0): fill_patch_common.wgsl. Fields read: width, height, frames.
// fill: [F, 4, H, W] level 0 after the patch fill (colour, background weight).
@group(0) @binding(1) var<storage, read> fill: array<f32>;
// splat: [F, 4, H, W] premultiplied colour + coverage, updated in place.
@group(0) @binding(2) var<storage, read_write> splat: array<f32>;
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, params.frames)) { return; }
  let n = w * h;
  let p = gid.y * w + gid.x;
  let f = gid.z;
  let a = clamp(splat[plane_offset(f, 3u, n) + p], 0.0, 1.0);
  if (a >= 1.0) { return; }
  for (var c = 0u; c < 3u; c++) {
    let i = plane_offset(f, c, n) + p;
    splat[i] = splat[i] + (1.0 - a) * fill[i];
  }
  splat[plane_offset(f, 3u, n) + p] = 1.0;
}
