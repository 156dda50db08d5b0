// image_motion_prep: per frame, the softmax-splat metric of every source pixel and a mark on
// every target pixel that a MOVING source pixel lands on.
// Params (binding 0): image_params.wgsl, prepended by image.ts.
// Fields read: width, height, frames, metric_scale.
// flows: [F, 2, H, W] float32 pixels.
@group(0) @binding(1) var<storage, read> flows: array<f32>;
// metric: [F, H, W] float32 (the splat's [1, F, H, W] metric).
@group(0) @binding(2) var<storage, read_write> metric: array<f32>;
// covered: [F, H, W]; must be cleared to 0 before the dispatch; set to 1 where any source
// pixel with a non-zero flow puts a non-zero bilinear weight (the same four corners and
// weights as the splat). Such targets are not "static" even if their own flow is zero.
@group(0) @binding(3) var<storage, read_write> covered: array<atomic<u32>>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let px = frame_pixel(gid);
  if (!px.inside) { return; }
  let w = params.width;
  let h = params.height;
  let n = px.plane;
  let i = px.index;
  let f = vec2f(flows[px.frame * 2u * n + i], flows[px.frame * 2u * n + n + i]);
  metric[px.frame * n + i] = params.metric_scale * length(f);
  if (f.x == 0.0 && f.y == 0.0) { return; }
  let q = vec2f(f32(gid.x), f32(gid.y)) + f;
  if (!(abs(q.x) < 1e30 && abs(q.y) < 1e30)) { return; }
  let q0 = floor(q);
  let frac = q - q0;
  let weights = array<f32, 4>((1.0 - frac.x) * (1.0 - frac.y), frac.x * (1.0 - frac.y), (1.0 - frac.x) * frac.y, frac.x * frac.y);
  let offsets = array<vec2f, 4>(vec2f(0.0, 0.0), vec2f(1.0, 0.0), vec2f(0.0, 1.0), vec2f(1.0, 1.0));
  for (var c = 0u; c < 4u; c++) {
    let t = q0 + offsets[c];
    if (weights[c] > 0.0 && t.x >= 0.0 && t.y >= 0.0 && t.x < f32(w) && t.y < f32(h)) {
      atomicStore(&covered[px.frame * n + u32(t.y) * w + u32(t.x)], 1u);
    }
  }
}
