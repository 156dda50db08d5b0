// Softmax splatting, value phase: every output element gathers its target pixel's sorted list
// of (source, bilinear weight) entries, so there are no float atomics and the sum order is the
// source order (deterministic, and the order of a sequential CPU splat).
//   sum:    out = sum_e w_e * x_e
//   avg:    out = sum_e w_e * x_e / (sum_e w_e + 1e-7)
//   linear: out = sum_e w_e * (x_e * Z_e) / (sum_e w_e * Z_e + 1e-7)
//   soft:   as linear with Z_e replaced by exp(clamp(Z_e, -20, 20))
// Pixels nothing lands on give 0 (0 / 1e-7). Z is the importance metric at the source pixel,
// broadcast over its batch / flow dimension when that dimension is 1.
// Bindings (group 0):
//   0 uniform Params (below; MODE_* / LAYOUT_* values come from splat.ts)
//   1 storage read input   f32 [B, C, H, W] (channel_order 0, chw) or [B, H, W, C] (channel_order 1, hwc)
//   2 storage read metric  f32 [metric_batch, metric_flows, H, W] (a 4-byte dummy when unused)
//   3 storage read offsets u32 [n_flows * H * W]  list starts (exclusive scan of counts)
//   4 storage read counts  u32 [n_flows * H * W]  list lengths
//   5 storage read entries vec2<u32> [...]        (source pixel, bitcast<u32>(weight)), sorted
//   6 storage rw   output  f32 [B, n_total, C, H, W] (chw) or [B, n_total, H, W, C] (hwc);
//                  this dispatch writes flows flow_base .. flow_base + n_flows - 1
// One invocation per (b, flow, target pixel, group of CPI = 8 channels; the last group may be
// partial): B * n_flows * ceil(C / CPI) * H * W invocations, fastest index the pixel (chw) or
// the channel group (hwc) so neighbouring invocations touch neighbouring addresses. The
// channels of a group share one walk over the list (entry, weight and metric reads, exp), so
// the list is read C / CPI times per pixel instead of C times (stage 2: 40 instead of 320).
// WG (64) per workgroup, ceil(total / WG) workgroups split as gx = min(total, 65535),
// gy = ceil(total / gx), id = (wg.y * num_wg.x + wg.x) * WG + local.

struct Params {
  batch: u32,
  n_flows: u32,
  channels: u32,
  height: u32,
  width: u32,
  mode: u32,
  channel_order: u32,
  metric_batch: u32,
  metric_flows: u32,
  flow_base: u32,
  n_total: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> metric: array<f32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read> counts: array<u32>;
@group(0) @binding(5) var<storage, read> entries: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read_write> output: array<f32>;

// Set by splat.ts: workgroup size and the codes of Params.mode / Params.channel_order.
override WG: u32;
// Channels per invocation, set by splat.ts: 1..8 (the accumulators are two vec4s; channels
// beyond CPI or C are masked).
override CPI: u32;

fn load_x(b: u32, s: u32, c: u32, hw: u32, valid: bool) -> f32 {
  if (!valid) {
    return 0.0;
  }
  if (params.channel_order == LAYOUT_HWC) {
    return input[(b * hw + s) * params.channels + c];
  }
  return input[(b * params.channels + c) * hw + s];
}

fn store_out(b: u32, ng: u32, t: u32, c: u32, hw: u32, valid: bool, v: f32) {
  if (!valid) {
    return;
  }
  if (params.channel_order == LAYOUT_HWC) {
    output[((b * params.n_total + ng) * hw + t) * params.channels + c] = v;
  } else {
    output[((b * params.n_total + ng) * params.channels + c) * hw + t] = v;
  }
}
override MODE_SUM: u32;
override MODE_LINEAR: u32;
override MODE_SOFT: u32;
override LAYOUT_HWC: u32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let id = (wg.y * nwg.x + wg.x) * WG + local;
  let hw = params.height * params.width;
  let C = params.channels;
  let groups = (C + CPI - 1u) / CPI;
  if (id >= params.batch * params.n_flows * groups * hw) {
    return;
  }
  var t: u32;
  var g: u32;
  if (params.channel_order == LAYOUT_HWC) {
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
  let c0 = g * CPI;
  let nc = min(CPI, C - c0);

  let mb = select(0u, b, params.metric_batch > 1u);
  let mn = select(0u, ng, params.metric_flows > 1u);
  let metric_base = (mb * params.metric_flows + mn) * hw;

  let list = n * hw + t;
  let start = offsets[list];
  let len = counts[list];
  // Channel c0 + j is live when j < nc; the masks are per-invocation constants.
  let live_lo = vec4<bool>(0u < nc, 1u < nc, 2u < nc, 3u < nc);
  let live_hi = vec4<bool>(4u < nc, 5u < nc, 6u < nc, 7u < nc);
  var num_lo = vec4<f32>(0.0);
  var num_hi = vec4<f32>(0.0);
  var den = 0.0;
  for (var i = 0u; i < len; i++) {
    let e = entries[start + i];
    let s = e.x;
    let w = bitcast<f32>(e.y);
    var z = 1.0;
    if (params.mode == MODE_LINEAR) {
      z = metric[metric_base + s];
    } else if (params.mode == MODE_SOFT) {
      z = exp(clamp(metric[metric_base + s], -20.0, 20.0));
    }
    let x_lo = vec4<f32>(load_x(b, s, c0, hw, live_lo.x), load_x(b, s, c0 + 1u, hw, live_lo.y),
                         load_x(b, s, c0 + 2u, hw, live_lo.z), load_x(b, s, c0 + 3u, hw, live_lo.w));
    num_lo = num_lo + (x_lo * z) * w;
    if (live_hi.x) {
      let x_hi = vec4<f32>(load_x(b, s, c0 + 4u, hw, live_hi.x), load_x(b, s, c0 + 5u, hw, live_hi.y),
                           load_x(b, s, c0 + 6u, hw, live_hi.z), load_x(b, s, c0 + 7u, hw, live_hi.w));
      num_hi = num_hi + (x_hi * z) * w;
    }
    den = den + z * w;
  }
  if (params.mode != MODE_SUM) {
    num_lo = num_lo / (den + 1e-7);
    num_hi = num_hi / (den + 1e-7);
  }
  store_out(b, ng, t, c0, hw, live_lo.x, num_lo.x);
  store_out(b, ng, t, c0 + 1u, hw, live_lo.y, num_lo.y);
  store_out(b, ng, t, c0 + 2u, hw, live_lo.z, num_lo.z);
  store_out(b, ng, t, c0 + 3u, hw, live_lo.w, num_lo.w);
  store_out(b, ng, t, c0 + 4u, hw, live_hi.x, num_hi.x);
  store_out(b, ng, t, c0 + 5u, hw, live_hi.y, num_hi.y);
  store_out(b, ng, t, c0 + 6u, hw, live_hi.z, num_hi.z);
  store_out(b, ng, t, c0 + 7u, hw, live_hi.w, num_hi.w);
}
