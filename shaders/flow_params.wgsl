// flow_params: the uniform and the helpers shared by the optical-flow shaders (flow_*.wgsl, the
// DIS-style estimator of src/motion/track). gpu/kernels/opticalFlow.ts prepends this file to each
// of them (WGSL has no includes) and packs Params in flowParams(), so the layout lives in one
// place on each side. Each shader reads the fields it documents; the others are 0.
// Intensities are grey levels in [0, 255] (the scale the variational weights are tuned for).
//
// The estimator (Kroeger et al. 2016, DIS), per frame pair: flow_gray, then a pyramid of
// flow_downsample levels, each with flow_gradient. From the coarsest level (a patch spans about
// a quarter of the image's larger side) to the finest one: the coarser flow upsampled
// (FlowResize) -> flow_patch_search -> flow_densify -> variational refinement (per outer
// iteration flow_variational_prep, sor_iterations x (red, black) flow_variational_sor,
// flow_variational_apply); below the finest level the flow is upsampled to full size. Presets
// (src/motion/track/dis.ts; OpenCV's DIS presets for fast and medium):
//   quality  finest level  patch  stride  search iterations  outer x SOR sweeps  omega
//   fast     2             8      4       16                 5 x 5               1.6
//   medium   1             8      3       25                 5 x 5               1.6
//   high     0             8      3       25                 5 x 5               1.6
// with alpha = 20 (smoothness), gamma = 10 (gradient constancy), delta = 5 (brightness).
// Tracking (src/motion/track/index.ts) adds flow_consistency (fb_alpha 0.01, fb_beta 0.5 px^2)
// and flow_compose, and refines f(0 -> i) from frame 0 starting 2 levels above the finest.
struct Params {
  // Grid of the dispatch: width x height pixels of the current pyramid level.
  width: u32,
  height: u32,
  // Downsample: the finer level's size.
  src_width: u32,
  src_height: u32,
  // Patch search and densification: square patches of patch_size pixels whose top-left corners
  // sit every patch_stride pixels, the last row and column moved in to end at the border
  // (patch_origin); patches_x x patches_y of them.
  patch_size: u32,
  patch_stride: u32,
  patches_x: u32,
  patches_y: u32,
  // Patch search: Gauss-Newton iterations per patch.
  iterations: u32,
  // Variational SOR: which colour of the red-black checkerboard, (x + y) % 2, this pass updates.
  parity: u32,
  // Grey conversion: element offset of the frame in the packed frame stack.
  offset: u32,
  pad0: u32,
  // Variational refinement: smoothness (alpha), gradient constancy (gamma) and brightness
  // constancy (delta) weights, SOR relaxation (omega).
  alpha: f32,
  gamma: f32,
  delta: f32,
  omega: f32,
  // Forward-backward check: occluded when |f + b|^2 > fb_alpha (|f|^2 + |b|^2) + fb_beta.
  fb_alpha: f32,
  fb_beta: f32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Top-left coordinate of patch i along an axis of `extent` pixels (extent >= size).
fn patch_origin(i: u32, stride: u32, size: u32, extent: u32) -> u32 {
  return min(i * stride, extent - size);
}

// Bilinear taps of point p on a width x height grid, p clamped to the grid (edge pixels repeat).
struct Bilinear {
  i00: u32,
  i10: u32,
  i01: u32,
  i11: u32,
  fx: f32,
  fy: f32,
}

fn bilinear_taps(p: vec2f, width: u32, height: u32) -> Bilinear {
  let q = clamp(p, vec2f(0.0), vec2f(f32(width - 1u), f32(height - 1u)));
  let x0 = min(u32(floor(q.x)), width - 1u);
  let y0 = min(u32(floor(q.y)), height - 1u);
  let x1 = min(x0 + 1u, width - 1u);
  let y1 = min(y0 + 1u, height - 1u);
  var t: Bilinear;
  t.i00 = y0 * width + x0;
  t.i10 = y0 * width + x1;
  t.i01 = y1 * width + x0;
  t.i11 = y1 * width + x1;
  t.fx = q.x - f32(x0);
  t.fy = q.y - f32(y0);
  return t;
}

fn bilinear_mix(t: Bilinear, v00: f32, v10: f32, v01: f32, v11: f32) -> f32 {
  return mix(mix(v00, v10, t.fx), mix(v01, v11, t.fx), t.fy);
}

// Whether p lies inside the grid's pixel centres [0, W-1] x [0, H-1].
fn inside_grid(p: vec2f, width: u32, height: u32) -> bool {
  return is_finite(p.x) && is_finite(p.y) && p.x >= 0.0 && p.y >= 0.0 &&
         p.x <= f32(width - 1u) && p.y <= f32(height - 1u);
}

// Derivative of the Charbonnier penalty Psi(s2) = sqrt(s2 + eps^2), eps = 0.001, over 2:
// the robust weight Psi'(s2) of iteratively reweighted least squares.
fn robust_weight(s2: f32) -> f32 {
  return 0.5 / sqrt(s2 + 1e-6);
}
