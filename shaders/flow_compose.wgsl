// flow_compose: chains a track by one frame. With f = f(0 -> i-1) and its occlusion o, and the
// pair's flow s = f(i-1 -> i) with its occlusion o_s (both in frame i-1's pixels):
//   f(0 -> i)(x) = f(x) + s(x + f(x)),
//   o(0 -> i)(x) = max(o(x), [o_s(x + f(x)) > 0.5], [x + f(x) outside frame i-1]),
// s and o_s sampled bilinearly. A pixel once occluded stays so: its track is lost.
// Params (binding 0): flow_params.wgsl. Fields read: width, height.
// track: [2, H, W] f; track_occlusion: [H, W] o; step: [2, H, W] s; step_occlusion: [H, W] o_s.
@group(0) @binding(1) var<storage, read> track: array<f32>;
@group(0) @binding(2) var<storage, read> track_occlusion: array<f32>;
@group(0) @binding(3) var<storage, read> step: array<f32>;
@group(0) @binding(4) var<storage, read> step_occlusion: array<f32>;
// composed: [2, H, W] f(0 -> i); composed_occlusion: [H, W].
@group(0) @binding(5) var<storage, read_write> composed: array<f32>;
@group(0) @binding(6) var<storage, read_write> composed_occlusion: array<f32>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, 1u)) { return; }
  let n = w * h;
  let i = gid.y * w + gid.x;
  let f = vec2f(track[i], track[n + i]);
  let p = vec2f(f32(gid.x), f32(gid.y)) + f;
  let t = bilinear_taps(p, w, h);
  let s = vec2f(bilinear_mix(t, step[t.i00], step[t.i10], step[t.i01], step[t.i11]),
                bilinear_mix(t, step[n + t.i00], step[n + t.i10], step[n + t.i01], step[n + t.i11]));
  let os = bilinear_mix(t, step_occlusion[t.i00], step_occlusion[t.i10], step_occlusion[t.i01], step_occlusion[t.i11]);
  var o = track_occlusion[i];
  if (os > 0.5 || !inside_grid(p, w, h)) { o = 1.0; }
  composed[i] = f.x + s.x;
  composed[n + i] = f.y + s.y;
  composed_occlusion[i] = o;
}
