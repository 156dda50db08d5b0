// flow_downsample: one level of the image pyramid: each coarse pixel is the mean of the 2x2
// block of finer pixels it covers (the block's pixels past an odd border are left out), so a
// level of W x H becomes ceil(W/2) x ceil(H/2). Coarse pixel x sits at fine 2x + 0.5, the
// cell-centred convention FlowResize uses to move flows between levels.
// Params (binding 0): flow_params.wgsl. Fields read: width, height (coarse), src_width,
// src_height (fine).
// fine: [src_height, src_width] float32.
@group(0) @binding(1) var<storage, read> fine: array<f32>;
// coarse: [height, width] float32.
@group(0) @binding(2) var<storage, read_write> coarse: array<f32>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (!in_tiled_grid(gid, params.width, params.height, 1u)) { return; }
  var sum = 0.0;
  var count = 0.0;
  for (var dy = 0u; dy < 2u; dy++) {
    for (var dx = 0u; dx < 2u; dx++) {
      let x = gid.x * 2u + dx;
      let y = gid.y * 2u + dy;
      if (x < params.src_width && y < params.src_height) {
        sum += fine[y * params.src_width + x];
        count += 1.0;
      }
    }
  }
  coarse[gid.y * params.width + gid.x] = sum / count;
}
