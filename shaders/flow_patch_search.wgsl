// flow_patch_search: the inverse search of DIS (Kroeger et al. 2016, "Fast Optical Flow using
// Dense Inverse Search", eq. 1-3), one invocation per patch.
// A patch is a square template T of P x P pixels of the reference image I0 at patch_origin; its
// displacement u starts from the dense initial flow at the patch centre (the coarser level's
// densified flow, upsampled) and is refined by inverse-compositional Gauss-Newton on the
// mean-normalised SSD
//   E(u) = sum_x (e(x) - mean e)^2,   e(x) = I1(x + u) - T(x)
// (mean normalisation makes the match tolerate a brightness change over the patch). The
// Hessian uses the template's gradient only, so it is computed once per patch:
//   H = sum g g^T + I (g = grad I0; the identity keeps flat patches solvable),
//   b = sum g (e - mean e) = sum g e - mean(e) sum g,   u <- u - H^-1 b,
// `iterations` times, I1 sampled bilinearly with clamped borders. As in OpenCV's DIS, the
// result is dropped for the initial value when it did not lower E or moved the patch more than
// P pixels (a diverged fit).
// Params (binding 0): flow_params.wgsl. Fields read: width, height, patch_size, patch_stride,
// patches_x, patches_y, iterations.
// i0: [H, W] reference grey levels; grad0: [2, H, W] its gradient (flow_gradient);
// i1: [H, W] the other image; init: [2, H, W] initial flow in pixels (dx, dy planes).
@group(0) @binding(1) var<storage, read> i0: array<f32>;
@group(0) @binding(2) var<storage, read> grad0: array<f32>;
@group(0) @binding(3) var<storage, read> i1: array<f32>;
@group(0) @binding(4) var<storage, read> init: array<f32>;
// patches: [2, patches_y, patches_x] float32: each patch's displacement (dx, dy planes).
@group(0) @binding(5) var<storage, read_write> patches: array<f32>;

fn sample_i1(p: vec2f) -> f32 {
  let t = bilinear_taps(p, params.width, params.height);
  return bilinear_mix(t, i1[t.i00], i1[t.i10], i1[t.i01], i1[t.i11]);
}

// Sums over the patch at origin o displaced by u: sum e, sum e^2, sum g e.
struct Residual {
  se: f32,
  se2: f32,
  sge: vec2f,
}

fn residual(o: vec2u, u: vec2f) -> Residual {
  let w = params.width;
  let n = w * params.height;
  var r: Residual;
  r.se = 0.0;
  r.se2 = 0.0;
  r.sge = vec2f(0.0);
  for (var y = 0u; y < params.patch_size; y++) {
    for (var x = 0u; x < params.patch_size; x++) {
      let px = o + vec2u(x, y);
      let i = px.y * w + px.x;
      let e = sample_i1(vec2f(px) + u) - i0[i];
      r.se += e;
      r.se2 += e * e;
      r.sge += vec2f(grad0[i], grad0[n + i]) * e;
    }
  }
  return r;
}

// Workgroup 8x8 over the patch grid; dispatch (ceil(patches_x/8), ceil(patches_y/8), 1).
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (!in_tiled_grid(gid, params.patches_x, params.patches_y, 1u)) { return; }
  let w = params.width;
  let n = w * params.height;
  let size = params.patch_size;
  let o = vec2u(patch_origin(gid.x, params.patch_stride, size, w),
                patch_origin(gid.y, params.patch_stride, size, params.height));
  let area = f32(size * size);
  var h11 = 1.0;
  var h12 = 0.0;
  var h22 = 1.0;
  var sg = vec2f(0.0);
  for (var y = 0u; y < size; y++) {
    for (var x = 0u; x < size; x++) {
      let i = (o.y + y) * w + o.x + x;
      let g = vec2f(grad0[i], grad0[n + i]);
      h11 += g.x * g.x;
      h12 += g.x * g.y;
      h22 += g.y * g.y;
      sg += g;
    }
  }
  let centre = (o.y + size / 2u) * w + o.x + size / 2u;
  let start = vec2f(init[centre], init[n + centre]);
  let det = h11 * h22 - h12 * h12;
  var u = start;
  var start_cost = 0.0;
  for (var it = 0u; it < params.iterations; it++) {
    let r = residual(o, u);
    let mean_e = r.se / area;
    if (it == 0u) { start_cost = r.se2 - r.se * mean_e; }
    let b = r.sge - mean_e * sg;
    u -= vec2f(h22 * b.x - h12 * b.y, h11 * b.y - h12 * b.x) / det;
  }
  let r = residual(o, u);
  let cost = r.se2 - r.se * r.se / area;
  if (params.iterations == 0u) { start_cost = cost; }
  let moved = u - start;
  if (!(cost <= start_cost) || dot(moved, moved) > area || !is_finite(u.x) || !is_finite(u.y)) {
    u = start;
  }
  let p = gid.y * params.patches_x + gid.x;
  patches[p] = u.x;
  patches[params.patches_x * params.patches_y + p] = u.y;
}
