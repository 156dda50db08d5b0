// flow_gray: packed RGBA8 frame -> grey level in [0, 255], BT.601 luma 0.299 R + 0.587 G +
// 0.114 B (what OpenCV's DIS sees after cvtColor). The optical flow runs on grey levels only.
// Params (binding 0): flow_params.wgsl. Fields read: width, height, offset (first pixel of the
// frame in the stack).
// frames: [F, H, W] packed RGBA8, red in the low byte.
@group(0) @binding(1) var<storage, read> frames: array<u32>;
// gray: [H, W] float32.
@group(0) @binding(2) var<storage, read_write> gray: array<f32>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (!in_tiled_grid(gid, params.width, params.height, 1u)) { return; }
  let i = gid.y * params.width + gid.x;
  let c = unpack4x8unorm(frames[params.offset + i]) * 255.0;
  gray[i] = 0.299 * c.x + 0.587 * c.y + 0.114 * c.z;
}
