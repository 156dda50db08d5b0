// Flow resize: bilinear resampling of pixel flows to another grid, then rescaling of the
// displacements to the new pixel units (stage 2's motion-augmented attention, reference.md):
//   out[n, 0] = interp(dx) * (w_out / W_in),   out[n, 1] = interp(dy) * (h_out / H_in).
// interp is PyTorch F.interpolate(mode='bilinear', align_corners=False, antialias=False) with
// an output size (no scale factor): per axis, scale = in / out (f32),
//   src = max(scale * (dst + 0.5) - 0.5, 0)        (PyTorch clamps negative sources at 0)
//   i0 = floor(src), i1 = i0 + (i0 < in - 1 ? 1 : 0), l1 = src - i0, l0 = 1 - l1
//   out = l0y * (l0x * a[i0y, i0x] + l1x * a[i0y, i1x]) + l1y * (l0x * a[i1y, i0x] + l1x * a[i1y, i1x]).
// Bindings (group 0):
//   0 uniform Params { n_flows, in_h, in_w, out_h, out_w }
//   1 storage read flows  f32 [N, 2, in_h, in_w]
//   2 storage rw   output f32 [N, 2, out_h, out_w]
// One invocation per output element, id = ((n * 2 + comp) * out_h + y) * out_w + x; WG per
// workgroup; ceil(N * 2 * out_h * out_w / WG) workgroups split by dispatchGrid (common.ts) as
// gx = min(total, device limit),
// gy = ceil(total / gx), id = grid_invocation(wg, num_wg, local, WG).

struct Params {
  n_flows: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> flows: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

// Workgroup size, set by flowResize.ts.
override WG: u32;

struct Taps {
  i0: u32,
  i1: u32,
  l0: f32,
  l1: f32,
}

fn taps(dst: u32, in_size: u32, out_size: u32) -> Taps {
  let scale = f32(in_size) / f32(out_size);
  let src = max(scale * (f32(dst) + 0.5) - 0.5, 0.0);
  var t: Taps;
  t.i0 = min(u32(src), in_size - 1u);
  t.i1 = select(t.i0, t.i0 + 1u, t.i0 < in_size - 1u);
  t.l1 = src - f32(t.i0);
  t.l0 = 1.0 - t.l1;
  return t;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  let out_hw = params.out_h * params.out_w;
  if (id >= params.n_flows * 2u * out_hw) {
    return;
  }
  let x = id % params.out_w;
  let y = (id / params.out_w) % params.out_h;
  let plane = id / out_hw;  // n * 2 + component
  let tx = taps(x, params.in_w, params.out_w);
  let ty = taps(y, params.in_h, params.out_h);
  let base = plane * params.in_h * params.in_w;
  let r0 = base + ty.i0 * params.in_w;
  let r1 = base + ty.i1 * params.in_w;
  let v = ty.l0 * (tx.l0 * flows[r0 + tx.i0] + tx.l1 * flows[r0 + tx.i1]) +
          ty.l1 * (tx.l0 * flows[r1 + tx.i0] + tx.l1 * flows[r1 + tx.i1]);
  var unit: f32;
  if (plane % 2u == 0u) {
    unit = f32(params.out_w) / f32(params.in_w);
  } else {
    unit = f32(params.out_h) / f32(params.in_h);
  }
  output[id] = v * unit;
}
