// densify_compose: dense flows of every requested frame from the K basis fields.
// struct Params: densify_params.wgsl, prepended by densify.ts.

@group(0) @binding(0) var<uniform> params: Params;
// basis: [K, H, W] (K = batch) solved fields, 1 on trajectory k's footprint.
@group(0) @binding(1) var<storage, read> basis: array<f32>;
// table: [F, K, 2] displacement (dx, dy) of trajectory k at output frame f, pixels.
@group(0) @binding(2) var<storage, read> table: array<f32>;
// flows: [F, 2, H, W] output, pixels.
@group(0) @binding(3) var<storage, read_write> flows: array<f32>;

// flow_f(p) = sum_k basis_k(p) * table[f, k]. On a footprint of trajectory k the basis values
// are exactly 1 (own) and 0 (others), so the flow there is exactly the trajectory's
// displacement; at anchors and static pixels every basis is exactly 0, so the flow is exactly 0.
// F is coarse_width here (the number of frames), reusing the shared Params layout.
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  let frames = params.coarse_width;
  if (!in_tiled_grid(gid, w, h, frames)) { return; }
  let i = gid.y * w + gid.x;
  let k_count = params.batch;
  var d = vec2f(0.0, 0.0);
  for (var k = 0u; k < k_count; k++) {
    let b = basis[k * w * h + i];
    let t = (gid.z * k_count + k) * 2u;
    d += b * vec2f(table[t], table[t + 1u]);
  }
  let o = gid.z * 2u * w * h + i;
  flows[o] = d.x;
  flows[o + w * h] = d.y;
}
