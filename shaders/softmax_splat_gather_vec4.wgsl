// Softmax splatting, value phase with lanes over channels: for channels-last (hwc) maps whose
// channel count C is a multiple of 4, as stage 2's tokens (320..1280 channels). A workgroup
// owns one (b, flow, target pixel); its invocations take consecutive vec4s of channels, so
// every load and store of a workgroup is contiguous in memory, and the walk over the merged
// bins (softmax_splat_gather_common.wgsl, prepended by splat.ts) is the same for every lane:
// no divergence, and the entry, landing point and metric reads are the same address across lanes.
// Bindings (group 0): 0-4 as in softmax_splat_gather_common, and
//   5 storage read input   vec4<f32> [B, H, W, C/4]
//   6 storage rw   output  vec4<f32> [B, n_total, H, W, C/4]; this dispatch writes flows
//                  flow_base .. flow_base + n_flows - 1
// One workgroup per (b, chunk flow n, target pixel t): B * n_flows * H * W workgroups split as
// gx = min(total, limit), gy = ceil(total / gx), item = grid_workgroup(wg, num_wg), fastest t.
// Invocation `local` computes vec4s c4 = local + k * WG (k = 0, 1, ...) below C / 4, four per
// walk over the bins (k = 4j .. 4j + 3 share walk j), so the walk's reads are paid once per
// 16 channels of a lane; splat.ts sets WG = ceil(C / 16), at most 64.

@group(0) @binding(5) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> output: array<vec4<f32>>;

override WG: u32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let item = grid_workgroup(wg, nwg);
  let hw = params.height * params.width;
  if (item >= params.batch * params.n_flows * hw) {
    return;
  }
  let t = item % hw;
  let bn = item / hw;
  let n = bn % params.n_flows;
  let b = bn / params.n_flows;
  let ng = params.flow_base + n;
  let c4n = params.channels / 4u;
  let plane = metric_plane(b, ng);
  let out_base = ((b * params.n_total + ng) * hw + t) * c4n;
  let in_base = b * hw * c4n;

  // Each walk serves four vec4s per lane: c4 + {0, 1, 2, 3} * WG.
  for (var c4 = local; c4 < c4n; c4 += 4u * WG) {
    let live = vec4<bool>(true, c4 + WG < c4n, c4 + 2u * WG < c4n, c4 + 3u * WG < c4n);
    let c = vec4<u32>(c4, select(c4, c4 + WG, live.y), select(c4, c4 + 2u * WG, live.z), select(c4, c4 + 3u * WG, live.w));
    var m = merge_start(n, t);
    var num0 = vec4<f32>(0.0);
    var num1 = vec4<f32>(0.0);
    var num2 = vec4<f32>(0.0);
    var num3 = vec4<f32>(0.0);
    var den = 0.0;
    loop {
      let e = merge_next(&m, n, plane);
      if (e.source == NO_SOURCE) {
        break;
      }
      let row = in_base + e.source * c4n;
      num0 = num0 + (input[row + c.x] * e.z) * e.w;
      num1 = num1 + (input[row + c.y] * e.z) * e.w;
      num2 = num2 + (input[row + c.z] * e.z) * e.w;
      num3 = num3 + (input[row + c.w] * e.z) * e.w;
      den = den + e.z * e.w;
    }
    if (MODE != MODE_SUM) {
      let norm = den + 1e-7;
      num0 = num0 / norm;
      num1 = num1 / norm;
      num2 = num2 / norm;
      num3 = num3 / norm;
    }
    output[out_base + c.x] = num0;
    if (live.y) {
      output[out_base + c.y] = num1;
    }
    if (live.z) {
      output[out_base + c.z] = num2;
    }
    if (live.w) {
      output[out_base + c.w] = num3;
    }
  }
}
