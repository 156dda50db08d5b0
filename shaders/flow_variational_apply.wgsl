// flow_variational_apply: u <- u + du after the SOR sweeps of one outer iteration of the
// variational refinement (flow_variational_prep, flow_variational_sor).
// Params (binding 0): flow_params.wgsl. Fields read: width, height.
// increment: [2, H, W] du.
@group(0) @binding(1) var<storage, read> increment: array<f32>;
// flow: [2, H, W] u, updated in place.
@group(0) @binding(2) var<storage, read_write> flow: array<f32>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 2): z is the component.
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (!in_tiled_grid(gid, params.width, params.height, 2u)) { return; }
  let i = (gid.z * params.height + gid.y) * params.width + gid.x;
  flow[i] += increment[i];
}
