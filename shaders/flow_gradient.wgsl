// flow_gradient: image gradient by central differences, Ix = (I[x+1] - I[x-1]) / 2 and
// Iy = (I[y+1] - I[y-1]) / 2, the neighbours clamped to the grid (so the border gets half a
// one-sided difference). Used by the patch search (the template's Hessian) and the
// variational refinement (brightness and gradient constancy).
// Params (binding 0): flow_params.wgsl. Fields read: width, height.
// image: [H, W] float32.
@group(0) @binding(1) var<storage, read> image: array<f32>;
// gradient: [2, H, W] float32: Ix then Iy.
@group(0) @binding(2) var<storage, read_write> gradient: array<f32>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, 1u)) { return; }
  let x = gid.x;
  let y = gid.y;
  let xl = select(x - 1u, 0u, x == 0u);
  let xr = min(x + 1u, w - 1u);
  let yu = select(y - 1u, 0u, y == 0u);
  let yd = min(y + 1u, h - 1u);
  let i = y * w + x;
  gradient[i] = 0.5 * (image[y * w + xr] - image[y * w + xl]);
  gradient[w * h + i] = 0.5 * (image[yd * w + x] - image[yu * w + x]);
}
