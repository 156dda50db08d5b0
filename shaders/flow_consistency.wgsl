// flow_consistency: forward-backward check (Sundaram et al. 2010): pixel x of the first image
// is occluded or unreliable when its forward flow f lands outside the second image, or when the
// backward flow b there does not bring it back:
//   |f(x) + b(x + f(x))|^2 > fb_alpha (|f(x)|^2 + |b(x + f(x))|^2) + fb_beta,
// b sampled bilinearly. The tolerance grows with the motion (fb_alpha) because flows of fast
// motion are less accurate; fb_beta (pixels^2) absorbs sub-pixel noise.
// Params (binding 0): flow_params.wgsl. Fields read: width, height, fb_alpha, fb_beta.
// forward: [2, H, W] flow image 0 -> 1; backward: [2, H, W] flow image 1 -> 0.
@group(0) @binding(1) var<storage, read> forward: array<f32>;
@group(0) @binding(2) var<storage, read> backward: array<f32>;
// occlusion: [H, W] float32, 1 = occluded / unreliable, 0 = consistent.
@group(0) @binding(3) var<storage, read_write> occlusion: array<f32>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, 1u)) { return; }
  let n = w * h;
  let i = gid.y * w + gid.x;
  let f = vec2f(forward[i], forward[n + i]);
  let p = vec2f(f32(gid.x), f32(gid.y)) + f;
  var occluded = 1.0;
  if (inside_grid(p, w, h)) {
    let t = bilinear_taps(p, w, h);
    let b = vec2f(bilinear_mix(t, backward[t.i00], backward[t.i10], backward[t.i01], backward[t.i11]),
                  bilinear_mix(t, backward[n + t.i00], backward[n + t.i10], backward[n + t.i01], backward[n + t.i11]));
    let s = f + b;
    if (dot(s, s) <= params.fb_alpha * (dot(f, f) + dot(b, b)) + params.fb_beta) { occluded = 0.0; }
  }
  occlusion[i] = occluded;
}
