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
// One invocation per output element of the chunk, B * n_flows * C * H * W, fastest index
// w (chw) or c (hwc) so neighbouring invocations write neighbouring addresses; WG (64) per
// workgroup, ceil(total / WG) workgroups split as gx = min(total, 65535), gy = ceil(total / gx).

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
  if (id >= params.batch * params.n_flows * C * hw) {
    return;
  }
  var t: u32;
  var c: u32;
  var bn: u32;
  if (params.channel_order == LAYOUT_HWC) {
    c = id % C;
    t = (id / C) % hw;
    bn = id / (C * hw);
  } else {
    t = id % hw;
    c = (id / hw) % C;
    bn = id / (C * hw);
  }
  let n = bn % params.n_flows;
  let b = bn / params.n_flows;
  let ng = params.flow_base + n;

  let mb = select(0u, b, params.metric_batch > 1u);
  let mn = select(0u, ng, params.metric_flows > 1u);
  let metric_base = (mb * params.metric_flows + mn) * hw;

  let list = n * hw + t;
  let start = offsets[list];
  let len = counts[list];
  var num = 0.0;
  var den = 0.0;
  for (var i = 0u; i < len; i++) {
    let e = entries[start + i];
    let s = e.x;
    let w = bitcast<f32>(e.y);
    var x: f32;
    if (params.channel_order == LAYOUT_HWC) {
      x = input[(b * hw + s) * C + c];
    } else {
      x = input[(b * C + c) * hw + s];
    }
    var z = 1.0;
    if (params.mode == MODE_LINEAR) {
      z = metric[metric_base + s];
    } else if (params.mode == MODE_SOFT) {
      z = exp(clamp(metric[metric_base + s], -20.0, 20.0));
    }
    num = num + (x * z) * w;
    den = den + z * w;
  }
  var result = num;
  if (params.mode != MODE_SUM) {
    result = num / (den + 1e-7);
  }
  if (params.channel_order == LAYOUT_HWC) {
    output[((b * params.n_total + ng) * hw + t) * C + c] = result;
  } else {
    output[((b * params.n_total + ng) * C + c) * hw + t] = result;
  }
}
