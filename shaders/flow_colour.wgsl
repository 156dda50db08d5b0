// Flow visualisation with the Middlebury colour wheel (Baker et al. 2011; the common flow_vis
// code): hue from the flow's direction, saturation from its length.
// Two entry points over the same bindings:
//   max_radius: max over finite pixels of sqrt(dx^2 + dy^2) for the chosen frame; each
//               workgroup reduces in workgroup memory, then one atomicMax on the f32 bit
//               pattern (order-preserving for non-negative floats) into max_bits[0];
//   colour:     per pixel, with R = given_max (if use_given_max) else max_radius + 1e-5:
//     u = dx / R, v = dy / R, rad = sqrt(u^2 + v^2), a = atan2(-v, -u) / pi,
//     fk = (a + 1) / 2 * (NCOLS - 1), k0 = floor(fk), k1 = (k0 + 1) mod NCOLS, f = fk - k0,
//     col = ((1 - f) * wheel[k0] + f * wheel[k1]) / 255 per channel,
//     col = 1 - rad * (1 - col) if rad <= 1, else col * 0.75,
//     rgb = floor(255 * col) / 255, alpha 1. Non-finite flow pixels are black.
// Bindings (group 0):
//   0 uniform Params { height, width, frame, use_given_max, given_max (f32) }
//   1 storage read flows    f32 [N, 2, H, W]
//   2 storage rw   max_bits atomic<u32> [1] (zeroed by the wrapper before max_radius)
//   3 storage read wheel    vec4<f32> [NCOLS] (RGB in 0..255, w unused; built in flowColour.ts)
//   4 storage texture output rgba8unorm, write, W x H
// One invocation per pixel, id = y * W + x, WG per workgroup; ceil(H * W / WG) workgroups split
// by dispatchGrid (common.ts): gx = min(total, device limit), gy = ceil(total / gx),
// id = grid_invocation(wg, num_wg, local, WG).

struct Params {
  height: u32,
  width: u32,
  frame: u32,
  use_given_max: u32,
  given_max: f32,
}

// Set by flowColour.ts: workgroup size and wheel length (55 for the Middlebury wheel).
override WG: u32;
override NCOLS: u32;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> flows: array<f32>;
@group(0) @binding(2) var<storage, read_write> max_bits: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> wheel: array<vec4<f32>>;
@group(0) @binding(4) var output: texture_storage_2d<rgba8unorm, write>;

var<workgroup> partial: array<f32, WG>;

const PI: f32 = 3.14159265358979;

fn flow_at(p: u32) -> vec2<f32> {
  let hw = params.height * params.width;
  let base = params.frame * 2u * hw;
  return vec2<f32>(flows[base + p], flows[base + hw + p]);
}

@compute @workgroup_size(WG)
fn max_radius(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  var r = 0.0;
  if (id < params.height * params.width) {
    let f = flow_at(id);
    if (is_finite(f.x) && is_finite(f.y)) {
      r = sqrt(f.x * f.x + f.y * f.y);
    }
  }
  partial[local] = r;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (local < stride) {
      partial[local] = max(partial[local], partial[local + stride]);
    }
    workgroupBarrier();
  }
  if (local == 0u && is_finite(partial[0])) {
    atomicMax(&max_bits[0], bitcast<u32>(partial[0]));
  }
}

@compute @workgroup_size(WG)
fn colour(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  if (id >= params.height * params.width) {
    return;
  }
  let pos = vec2<u32>(id % params.width, id / params.width);
  let f = flow_at(id);
  if (!(is_finite(f.x) && is_finite(f.y))) {
    textureStore(output, pos, vec4<f32>(0.0, 0.0, 0.0, 1.0));
    return;
  }
  var radius = params.given_max;
  if (params.use_given_max == 0u) {
    radius = bitcast<f32>(atomicLoad(&max_bits[0])) + 1e-5;
  }
  let u = f.x / radius;
  let v = f.y / radius;
  let rad = sqrt(u * u + v * v);
  let a = atan2(-v, -u) / PI;
  let fk = (a + 1.0) / 2.0 * f32(NCOLS - 1u);
  let k0 = min(u32(max(floor(fk), 0.0)), NCOLS - 1u);
  let k1 = select(k0 + 1u, 0u, k0 + 1u == NCOLS);
  let frac = fk - f32(k0);
  var col = ((1.0 - frac) * wheel[k0].xyz + frac * wheel[k1].xyz) / 255.0;
  if (rad <= 1.0) {
    col = 1.0 - rad * (1.0 - col);
  } else {
    col = col * 0.75;
  }
  textureStore(output, pos, vec4<f32>(floor(255.0 * col) / 255.0, 1.0));
}
