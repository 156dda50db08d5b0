// flow_densify: DIS densification (Kroeger et al. 2016, eq. 4): every pixel's flow is the
// weighted mean of the displacements u_i of the patches that cover it, each weighted by how
// well it explains this pixel: w_i = 1 / max(1, |I1(x + u_i) - I0(x)|) (grey levels), so a
// patch that straddles a motion boundary counts little on the side it does not fit.
// Patches as in flow_patch_search (patch_origin); every pixel is covered by at least one.
// Params (binding 0): flow_params.wgsl. Fields read: width, height, patch_size, patch_stride,
// patches_x, patches_y.
// i0, i1: [H, W] grey levels; patches: [2, patches_y, patches_x] (flow_patch_search).
@group(0) @binding(1) var<storage, read> i0: array<f32>;
@group(0) @binding(2) var<storage, read> i1: array<f32>;
@group(0) @binding(3) var<storage, read> patches: array<f32>;
// flow: [2, H, W] float32, pixels.
@group(0) @binding(4) var<storage, read_write> flow: array<f32>;

// First and last patch index along an axis whose patch may cover coordinate c: the regular
// ones i * stride <= c < i * stride + size, and the last (moved in to the border) always.
fn first_patch(c: u32) -> u32 {
  if (c + 1u <= params.patch_size) { return 0u; }
  return (c + 1u - params.patch_size + params.patch_stride - 1u) / params.patch_stride;
}

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, 1u)) { return; }
  let size = params.patch_size;
  let stride = params.patch_stride;
  let np = params.patches_x * params.patches_y;
  let i = gid.y * w + gid.x;
  let ref_value = i0[i];
  var sum = vec2f(0.0);
  var weight = 0.0;
  let x_hi = params.patches_x - 1u;
  let y_hi = params.patches_y - 1u;
  for (var py = min(first_patch(gid.y), y_hi); py <= y_hi; py++) {
    let oy = patch_origin(py, stride, size, h);
    if (oy > gid.y) { break; }
    if (gid.y >= oy + size) { continue; }
    for (var px = min(first_patch(gid.x), x_hi); px <= x_hi; px++) {
      let ox = patch_origin(px, stride, size, w);
      if (ox > gid.x) { break; }
      if (gid.x >= ox + size) { continue; }
      let p = py * params.patches_x + px;
      let u = vec2f(patches[p], patches[np + p]);
      let t = bilinear_taps(vec2f(f32(gid.x), f32(gid.y)) + u, w, h);
      let d = bilinear_mix(t, i1[t.i00], i1[t.i10], i1[t.i01], i1[t.i11]) - ref_value;
      let wi = 1.0 / max(1.0, abs(d));
      sum += wi * u;
      weight += wi;
    }
  }
  let f = sum / weight;
  flow[i] = f.x;
  flow[w * h + i] = f.y;
}
