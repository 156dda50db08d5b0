// image_flow_shift: flows relative to the last frame, f_i - f_N (the loop's backward flows).
// Params (binding 0): image_params.wgsl, prepended by image.ts.
// Fields read: width, height, frames.
// flows: [F, 2, H, W]; last: [2, H, W] (f_N); out: [F, 2, H, W] = flows - last.
@group(0) @binding(1) var<storage, read> flows: array<f32>;
@group(0) @binding(2) var<storage, read> last: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Pixels that never move have f_i = f_N = 0, so their shifted flow is exactly 0 too.
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let px = frame_pixel(gid);
  if (!px.inside) { return; }
  let o = px.frame * 2u * px.plane + px.index;
  out[o] = flows[o] - last[px.index];
  out[o + px.plane] = flows[o + px.plane] - last[px.plane + px.index];
}
