// softmax_splat_values: what the value passes share, the gathers (through
// softmax_splat_gather_common.wgsl) and the atomic scatter; splat.ts prepends it and packs
// Params in the same order. The importance Z of a source: 1 (sum, avg), metric
// (linear), exp(clamp(metric, -20, 20)) (soft), at the source pixel. The including shader
// declares `metric` f32 [metric_batch, metric_flows, H, W].

struct Params {
  batch: u32,
  // Flows in this chunk, from flow_base on, of n_total.
  n_flows: u32,
  channels: u32,
  height: u32,
  width: u32,
  metric_batch: u32,
  metric_flows: u32,
  flow_base: u32,
  n_total: u32,
  // Atomic scatter only (0 in the gathers, which are specialised by pipeline constants):
  // mode and layout codes, and accumulator channels (C, plus the normaliser unless sum).
  mode: u32,
  channel_order: u32,
  acc_channels: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Mode codes (pipeline constants from splat.ts, never copied by hand).
override MODE_SUM: u32;
override MODE_LINEAR: u32;
override MODE_SOFT: u32;

// Offset of the metric plane for batch b, flow ng (broadcast over size-1 dimensions).
fn metric_plane(b: u32, ng: u32) -> u32 {
  let mb = select(0u, b, params.metric_batch > 1u);
  let mn = select(0u, ng, params.metric_flows > 1u);
  return (mb * params.metric_flows + mn) * params.height * params.width;
}

// Z of source s in `mode`, from its metric plane.
fn importance(mode: u32, plane: u32, s: u32) -> f32 {
  if (mode == MODE_LINEAR) {
    return metric[plane + s];
  }
  if (mode == MODE_SOFT) {
    return exp(clamp(metric[plane + s], -20.0, 20.0));
  }
  return 1.0;
}

