// Flow blend: a weighted mix of two flow stacks of the same shape, used to blend a predicted
// motion field with the classical one before rendering:
//   out[i] = (1 - weight) * a[i] + weight * b[i]
// Both stacks are pixel flows f(0->i) [N, 2, H, W] (dx right, dy down); a mix of two forward
// flows from the same reference frame is again a forward flow from it, so the result renders
// like either input. weight = 0 gives a, 1 gives b, exactly (the products by 0 and 1 are exact).
// Bindings (group 0):
//   0 uniform Params { count, weight }
//   1 storage read a      f32 [count]
//   2 storage read b      f32 [count]
//   3 storage rw   output f32 [count]   (may not alias a or b)
// One invocation per element; ceil(count / WG) workgroups split by dispatchGrid (common.ts),
// id = grid_invocation(wg, num_wg, local, WG).

struct Params {
  count: u32,
  weight: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

// Workgroup size, set by flowBlend.ts.
override WG: u32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let i = grid_invocation(wg, nwg, local, WG);
  if (i >= params.count) {
    return;
  }
  let w = params.weight;
  output[i] = (1.0 - w) * a[i] + w * b[i];
}
