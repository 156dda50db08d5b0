// image_unpack: packed RGBA8 image -> float planar [1, 4, H, W] = (R, G, B, 1), R/G/B in [0,1].
// Params (binding 0): image_params.wgsl, prepended by image.ts.
// Fields read: width, height (frames = 1).
// image: [H*W] packed RGBA8, red in the low byte.
@group(0) @binding(1) var<storage, read> image: array<u32>;
// planes: [4, H, W] float32; the constant 4th plane lets a normalised splat report coverage.
@group(0) @binding(2) var<storage, read_write> planes: array<f32>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let px = frame_pixel(gid);
  if (!px.inside) { return; }
  let i = px.index;
  let n = px.plane;
  let c = unpack4x8unorm(image[i]);
  planes[i] = c.x;
  planes[n + i] = c.y;
  planes[2u * n + i] = c.z;
  planes[3u * n + i] = 1.0;
}
