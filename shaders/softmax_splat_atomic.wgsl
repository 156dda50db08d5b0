// Softmax splatting, the scatter alternative (strategy 'atomic'; the default is the
// bin-sort-gather of softmax_splat_bin/scan/sort/gather*.wgsl). Kept for measurement and as a
// fallback; it matches the authors' CUDA kernel most literally.
// WGSL has no float atomics, so float adds are compare-and-swap loops on the u32 bit pattern:
// the sum order is whatever order the CAS succeeds in, so results vary in the last bits from
// run to run (the gather strategy is deterministic).
// Entry points:
//   scatter:   one invocation per (b, n, source pixel s, channel k), k in 0..acc_channels-1,
//              where channel C (only when mode != sum) is the normaliser. The source value is
//              x * Z (k < C) or Z (k = C), Z = 1 (sum, avg), metric (linear), exp(clamp(metric,
//              -20, 20)) (soft); each of the 4 bilinear corners (weights as in
//              softmax_splat_bin.wgsl) in bounds gets value * w added into acc.
//   normalise: one invocation per output element: out = acc_k (sum) or acc_k / (acc_C + 1e-7).
// Bindings (group 0):
//   0 uniform Params (softmax_splat_values.wgsl; codes from splat.ts)
//   1 storage read input  f32 [B, C, H, W] (chw) or [B, H, W, C] (hwc)
//   2 storage read flows  f32 [N_total, 2, H, W]
//   3 storage read metric f32 [metric_batch, metric_flows, H, W] (4-byte dummy when unused)
//   4 storage rw   acc    atomic<u32> (f32 bits) [B, n_flows, acc_channels, H*W] (chw) or
//                         [B, n_flows, H*W, acc_channels] (hwc), zeroed by the wrapper
//   5 storage rw   output f32 [B, n_total, C, H, W] (chw) or [B, n_total, H, W, C] (hwc)
// Dispatch: ceil(invocations / WG) workgroups split by dispatchGrid (common.ts) as
// gx = min(total, device limit),
// gy = ceil(total / gx), id = grid_invocation(wg, num_wg, local, WG).

// Params (binding 0) and the importance Z: softmax_splat_values.wgsl, prepended by splat.ts.
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> flows: array<f32>;
@group(0) @binding(3) var<storage, read> metric: array<f32>;
@group(0) @binding(4) var<storage, read_write> acc: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> output: array<f32>;

// Set by splat.ts: workgroup size and the codes of Params.mode / Params.channel_order.
override WG: u32;
override LAYOUT_HWC: u32;

fn atomic_add_f32(i: u32, v: f32) {
  var old = atomicLoad(&acc[i]);
  loop {
    let r = atomicCompareExchangeWeak(&acc[i], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) {
      break;
    }
    old = r.old_value;
  }
}

fn acc_index(bn: u32, t: u32, k: u32) -> u32 {
  let hw = params.height * params.width;
  if (params.channel_order == LAYOUT_HWC) {
    return (bn * hw + t) * params.acc_channels + k;
  }
  return (bn * params.acc_channels + k) * hw + t;
}

@compute @workgroup_size(WG)
fn scatter(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  let hw = params.height * params.width;
  let K = params.acc_channels;
  let C = params.channels;
  if (id >= params.batch * params.n_flows * K * hw) {
    return;
  }
  var s: u32;
  var k: u32;
  if (params.channel_order == LAYOUT_HWC) {
    k = id % K;
    s = (id / K) % hw;
  } else {
    s = id % hw;
    k = (id / hw) % K;
  }
  let bn = id / (K * hw);
  let n = bn % params.n_flows;
  let b = bn / params.n_flows;
  let ng = params.flow_base + n;

  let fbase = ng * 2u * hw;
  let q = vec2<f32>(f32(s % params.width) + flows[fbase + s], f32(s / params.width) + flows[fbase + hw + s]);
  if (!lands_on_grid(q, params.width, params.height)) {
    return;
  }
  let z = importance(params.mode, metric_plane(b, ng), s);
  var value = z;
  if (k < C) {
    var x: f32;
    if (params.channel_order == LAYOUT_HWC) {
      x = input[(b * hw + s) * C + k];
    } else {
      x = input[(b * C + k) * hw + s];
    }
    value = x * z;
  }
  let nw = vec2<i32>(floor(q));
  for (var corner = 0u; corner < 4u; corner++) {
    let ox = corner & 1u;
    let oy = corner >> 1u;
    let cx = nw.x + i32(ox);
    let cy = nw.y + i32(oy);
    if (cx < 0 || cy < 0 || cx >= i32(params.width) || cy >= i32(params.height)) {
      continue;
    }
    let wx = select(f32(nw.x + 1) - q.x, q.x - f32(nw.x), ox == 1u);
    let wy = select(f32(nw.y + 1) - q.y, q.y - f32(nw.y), oy == 1u);
    atomic_add_f32(acc_index(bn, u32(cy) * params.width + u32(cx), k), value * (wx * wy));
  }
}

@compute @workgroup_size(WG)
fn normalise(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  let hw = params.height * params.width;
  let C = params.channels;
  if (id >= params.batch * params.n_flows * C * hw) {
    return;
  }
  var t: u32;
  var c: u32;
  if (params.channel_order == LAYOUT_HWC) {
    c = id % C;
    t = (id / C) % hw;
  } else {
    t = id % hw;
    c = (id / hw) % C;
  }
  let bn = id / (C * hw);
  let n = bn % params.n_flows;
  let b = bn / params.n_flows;
  var result = bitcast<f32>(atomicLoad(&acc[acc_index(bn, t, c)]));
  if (params.mode != MODE_SUM) {
    result = result / (bitcast<f32>(atomicLoad(&acc[acc_index(bn, t, C)])) + 1e-7);
  }
  let ng = params.flow_base + n;
  if (params.channel_order == LAYOUT_HWC) {
    output[((b * params.n_total + ng) * hw + t) * C + c] = result;
  } else {
    output[((b * params.n_total + ng) * C + c) * hw + t] = result;
  }
}
