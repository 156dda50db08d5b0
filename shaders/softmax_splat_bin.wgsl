// Softmax splatting, geometry phase: bins every source pixel's bilinear footprint into
// per-target lists (CSR). Shared by two entry points run one after the other:
//   count: counts[t] += 1 for every in-bounds corner t a source lands on (integer atomics);
//   fill:  after an exclusive scan of counts into `offsets`, writes (source, weight) into
//          entries[offsets[t] + atomicAdd(cursors[t], 1)].
// Bindings (group 0):
//   0 uniform Params  { n_flows (flows in this chunk), height, width, flow_base (first flow) }
//   1 storage read    flows   f32 [N_total, 2, H, W]  (dx, dy in pixels)
//   2 storage rw      tally   atomic<u32> [n_flows * H * W]  (counts in `count`, cursors in `fill`)
//   3 storage read    offsets u32 [n_flows * H * W]  (exclusive scan of counts; unused by `count`)
//   4 storage rw      entries vec2<u32> [4 * n_flows * H * W]  (source index, bitcast weight; unused by `count`)
// Index space: one invocation per (flow n, source pixel s), id = n * H * W + s, WG (64) per
// workgroup, linearised over a 2D grid: id = (wg.y * num_wg.x + wg.x) * 64 + local.
// Dispatch: ceil(n_flows*H*W / WG) workgroups, split as gx = min(total, 65535), gy = ceil(total/gx).
// Math (Niklaus & Liu 2020, as their CUDA kernel): target q = (x + dx, y + dy) in f32; skip the
// source if q is not finite; nw = floor(q); the four corners get
//   w_nw = (nw.x+1 - q.x)(nw.y+1 - q.y), w_ne = (q.x - nw.x)(nw.y+1 - q.y),
//   w_sw = (nw.x+1 - q.x)(q.y - nw.y),   w_se = (q.x - nw.x)(q.y - nw.y),
// each kept only when the corner is inside the H x W grid. Any in-bounds corner needs
// q.x in [-1, W) and q.y in [-1, H); the early range test also keeps floor() of huge values
// away from the f32 -> i32 conversion.

struct Params {
  n_flows: u32,
  height: u32,
  width: u32,
  flow_base: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> flows: array<f32>;
@group(0) @binding(2) var<storage, read_write> tally: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> entries: array<vec2<u32>>;

// Workgroup size, set by splat.ts (which also computes the dispatch from it).
override WG: u32;

fn is_finite(v: f32) -> bool {
  // WGSL has no isfinite and compilers may assume no NaN: test the exponent bits.
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

struct Footprint {
  valid: bool,
  nw: vec2<i32>,
  q: vec2<f32>,
}

fn footprint(n: u32, s: u32) -> Footprint {
  let hw = params.height * params.width;
  let x = s % params.width;
  let y = s / params.width;
  let fbase = (params.flow_base + n) * 2u * hw;
  let q = vec2<f32>(f32(x) + flows[fbase + s], f32(y) + flows[fbase + hw + s]);
  var fp: Footprint;
  fp.q = q;
  fp.valid = is_finite(q.x) && is_finite(q.y) && q.x >= -1.0 && q.x < f32(params.width) &&
             q.y >= -1.0 && q.y < f32(params.height);
  if (fp.valid) {
    fp.nw = vec2<i32>(floor(q));
  }
  return fp;
}

fn corner_weight(fp: Footprint, k: u32) -> f32 {
  let ox = k & 1u;
  let oy = k >> 1u;
  let wx = select(f32(fp.nw.x + 1) - fp.q.x, fp.q.x - f32(fp.nw.x), ox == 1u);
  let wy = select(f32(fp.nw.y + 1) - fp.q.y, fp.q.y - f32(fp.nw.y), oy == 1u);
  return wx * wy;
}

// Target index within this chunk (n * H * W + pixel), or -1 when the corner is off the grid.
fn corner_target(fp: Footprint, n: u32, k: u32) -> i32 {
  let c = fp.nw + vec2<i32>(i32(k & 1u), i32(k >> 1u));
  if (c.x < 0 || c.y < 0 || c.x >= i32(params.width) || c.y >= i32(params.height)) {
    return -1;
  }
  return i32(n * params.height * params.width) + c.y * i32(params.width) + c.x;
}

fn invocation(wg: vec3<u32>, nwg: vec3<u32>, local: u32) -> u32 {
  return (wg.y * nwg.x + wg.x) * WG + local;
}

@compute @workgroup_size(WG)
fn count(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) local: u32) {
  let id = invocation(wg, nwg, local);
  let hw = params.height * params.width;
  if (id >= params.n_flows * hw) {
    return;
  }
  let fp = footprint(id / hw, id % hw);
  if (!fp.valid) {
    return;
  }
  for (var k = 0u; k < 4u; k++) {
    let t = corner_target(fp, id / hw, k);
    if (t >= 0) {
      atomicAdd(&tally[u32(t)], 1u);
    }
  }
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let id = invocation(wg, nwg, local);
  let hw = params.height * params.width;
  if (id >= params.n_flows * hw) {
    return;
  }
  let s = id % hw;
  let fp = footprint(id / hw, s);
  if (!fp.valid) {
    return;
  }
  for (var k = 0u; k < 4u; k++) {
    let t = corner_target(fp, id / hw, k);
    if (t >= 0) {
      let slot = offsets[u32(t)] + atomicAdd(&tally[u32(t)], 1u);
      entries[slot] = vec2<u32>(s, bitcast<u32>(corner_weight(fp, k)));
    }
  }
}
