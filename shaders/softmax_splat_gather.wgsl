// Softmax splatting, value phase with lanes over target pixels: every invocation gathers one
// target pixel's sources (the merged bins of softmax_splat_gather_common.wgsl, prepended by
// splat.ts) for a group of 4 channels, so there are no float atomics and the sum order is the
// source order (deterministic, and that of a sequential CPU splat). Used for the chw layout
// and for hwc inputs with C % 4 != 0 or C < 64 (softmax_splat_gather_vec4 takes the others).
// Bindings (group 0): 0-4 as in softmax_splat_gather_common, and
//   5 storage read input   f32 [B, C, H, W] (LAYOUT chw) or [B, H, W, C] (LAYOUT hwc)
//   6 storage rw   output  f32 [B, n_total, C, H, W] (chw) or [B, n_total, H, W, C] (hwc);
//                  this dispatch writes flows flow_base .. flow_base + n_flows - 1
// One invocation per (b, chunk flow n, target pixel t, group g of 4 channels; the last group
// may be partial): B * n_flows * ceil(C / 4) * H * W invocations, fastest index t (chw) or g
// (hwc) so neighbouring invocations touch neighbouring addresses. The 4 channels share one
// walk over the bins (entry, landing point and metric reads, weight, exp). Channels past C load
// channel C-1 (any in-bounds value) and are not stored, so the walk has no branches.
// WG per workgroup, ceil(total / WG) workgroups split as gx = min(total, limit),
// gy = ceil(total / gx), id = grid_invocation(wg, num_wg, local, WG).

@group(0) @binding(5) var<storage, read> input: array<f32>;
@group(0) @binding(6) var<storage, read_write> output: array<f32>;

override WG: u32;
// Layout code of this pipeline and the code meaning hwc (both from splat.ts).
override LAYOUT: u32;
override LAYOUT_HWC: u32;

fn input_index(b: u32, s: u32, c: u32, hw: u32) -> u32 {
  if (LAYOUT == LAYOUT_HWC) {
    return (b * hw + s) * params.channels + c;
  }
  return (b * params.channels + c) * hw + s;
}

fn store_out(b: u32, ng: u32, t: u32, c: u32, hw: u32, v: f32) {
  if (c >= params.channels) {
    return;
  }
  if (LAYOUT == LAYOUT_HWC) {
    output[((b * params.n_total + ng) * hw + t) * params.channels + c] = v;
  } else {
    output[((b * params.n_total + ng) * params.channels + c) * hw + t] = v;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  let hw = params.height * params.width;
  let C = params.channels;
  let groups = (C + 3u) / 4u;
  if (id >= params.batch * params.n_flows * groups * hw) {
    return;
  }
  var t: u32;
  var g: u32;
  if (LAYOUT == LAYOUT_HWC) {
    g = id % groups;
    t = (id / groups) % hw;
  } else {
    t = id % hw;
    g = (id / hw) % groups;
  }
  let bn = id / (groups * hw);
  let n = bn % params.n_flows;
  let b = bn / params.n_flows;
  let ng = params.flow_base + n;
  let c0 = g * 4u;
  let last = C - 1u;
  let ch = vec4<u32>(min(c0, last), min(c0 + 1u, last), min(c0 + 2u, last), min(c0 + 3u, last));
  let plane = metric_plane(b, ng);

  var m = merge_start(n, t);
  var num = vec4<f32>(0.0);
  var den = 0.0;
  loop {
    let c = merge_next(&m, n, plane);
    if (c.source == NO_SOURCE) {
      break;
    }
    let s = c.source;
    let x = vec4<f32>(input[input_index(b, s, ch.x, hw)], input[input_index(b, s, ch.y, hw)],
                      input[input_index(b, s, ch.z, hw)], input[input_index(b, s, ch.w, hw)]);
    num = num + (x * c.z) * c.w;
    den = den + c.z * c.w;
  }
  if (MODE != MODE_SUM) {
    num = num / (den + 1e-7);
  }
  store_out(b, ng, t, c0, hw, num.x);
  store_out(b, ng, t, c0 + 1u, hw, num.y);
  store_out(b, ng, t, c0 + 2u, hw, num.z);
  store_out(b, ng, t, c0 + 3u, hw, num.w);
}
