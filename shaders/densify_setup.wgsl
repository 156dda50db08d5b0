// densify_setup: Dirichlet constraints of the finest level from a per-pixel constraint map.
// struct Params: densify_params.wgsl, prepended by densify.ts.

@group(0) @binding(0) var<uniform> params: Params;
// ids[y*W + x]: -2 free (solved), -1 fixed at zero (anchor), -3 fixed at zero (static pixel;
// densify_weights also cuts its edges to non-static pixels), k >= 0 fixed at 1
// in basis field k (the footprint of trajectory k) and at 0 in every other basis field.
@group(0) @binding(1) var<storage, read> ids: array<i32>;
// fixed: [H*W], 1 where the pixel is a hard Dirichlet constraint (trajectory, anchor), 0.5 on
// static pixels (Dirichlet too, but they do not pin the coarse levels: being cut loose from the
// moving region, they must not stop the coarse correction of the region next to them), else 0.
@group(0) @binding(2) var<storage, read_write> fixed: array<f32>;
// rhs, u: [batch, H, W] (batch = number of basis fields K). rhs holds the Dirichlet value at
// fixed pixels and 0 (homogeneous equation) elsewhere; u starts as rhs.
@group(0) @binding(3) var<storage, read_write> rhs: array<f32>;
@group(0) @binding(4) var<storage, read_write> u: array<f32>;

// The field is linear in the constraint values, so each trajectory gets its own basis field
// (1 on its footprint, 0 on every other constraint); flows for any frame are then a weighted
// sum of the K basis fields (densify_compose), instead of one solve per frame and channel.
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), batch); z = basis index.

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let px = tiled_pixel(gid, params.width, params.height, params.batch);
  if (!px.inside) { return; }
  let i = px.index;
  let id = ids[i];
  let o = px.frame * px.plane + i;
  var value = 0.0;
  if (id >= 0 && u32(id) == gid.z) { value = 1.0; }
  rhs[o] = value;
  u[o] = value;
  if (gid.z == 0u) { fixed[i] = select(select(0.0, 1.0, id >= -1), 0.5, id == -3); }
}
