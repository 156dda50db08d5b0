// Softmax splatting, geometry phase: sorts every source pixel into the bin of the north-west
// corner of its bilinear footprint (CSR, one entry per source). Two entry points, run one
// after the other:
//   count: tally[bin(s)] += 1 for every source s with a footprint on the grid, and
//          points[n, s] = q, its landing point (so the gather needs neither the flows nor an
//          integer division, costly on SIMD lanes, to weigh a source);
//   fill:  after an exclusive scan of the counts into `offsets`, writes s into
//          entries[offsets[bin(s)] + atomicAdd(cursor[bin(s)], 1)] (tally is the cursor).
// A source's four corners are nw, nw + (1,0), nw + (0,1), nw + (1,1), so a target pixel t
// receives exactly the sources of the 2 x 2 bins whose nw corner is t - (0|1, 0|1): the gather
// (softmax_splat_gather*.wgsl) reads those four bins. One bin per source, instead of one list
// entry per corner in per-target lists, means a quarter of the atomics and of the entries.
// Bins: the nw corner of an in-grid footprint lies in [-1, W-1] x [-1, H-1], so bins form a
// (W+1) x (H+1) grid per flow, bin = n * (H+1)(W+1) + (nw.y + 1) * (W+1) + (nw.x + 1).
// Bindings (group 0):
//   0 uniform Params  { n_flows (flows in this chunk), height, width, flow_base (first flow) }
//   1 storage read    flows   f32 [N_total, 2, H, W]  (dx, dy in pixels)
//   2 storage rw      tally   atomic<u32> [n_flows * (H+1) * (W+1)]  (counts in `count`, cursors in `fill`)
//   3 storage read    offsets u32 [n_flows * (H+1) * (W+1) + 1]  (exclusive scan of counts; unused by `count`)
//   4 storage rw      entries u32 [n_flows * H * W]  (source pixel index within its flow; unused by `count`)
//   5 storage rw      points  vec2<f32> [n_flows, H, W]  (q of every source; written by `count`, read by `fill`)
// Index space: one invocation per (flow n, source pixel s), id = n * H * W + s, WG per
// workgroup, linearised over a 2D grid: id = grid_invocation(wg, num_wg, local, WG).
// Dispatch: ceil(n_flows*H*W / WG) workgroups, split as gx = min(total, limit), gy = ceil(total/gx).
// Math (Niklaus & Liu 2020, as their CUDA kernel): target q = (x + dx, y + dy) in f32; the
// source is skipped if q is not finite or no corner is in the grid, i.e. unless
// q.x in [-1, W) and q.y in [-1, H) (that test also keeps floor() of huge values away from the
// f32 -> i32 conversion); nw = floor(q).

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
@group(0) @binding(4) var<storage, read_write> entries: array<u32>;
@group(0) @binding(5) var<storage, read_write> points: array<vec2<f32>>;

// Workgroup size, set by splat.ts (which also computes the dispatch from it).
override WG: u32;

// Landing point q of source s of chunk flow n (read from the flows; `count` keeps it in points).
fn landing_point(n: u32, s: u32) -> vec2<f32> {
  let hw = params.height * params.width;
  let fbase = (params.flow_base + n) * 2u * hw;
  return vec2<f32>(f32(s % params.width) + flows[fbase + s], f32(s / params.width) + flows[fbase + hw + s]);
}

// The bin of a source of chunk flow n landing at q, or -1 when its footprint misses the grid.
fn bin_of(n: u32, q: vec2<f32>) -> i32 {
  if (!lands_on_grid(q, params.width, params.height)) {
    return -1;
  }
  let nw = vec2<i32>(floor(q));
  let bw = i32(params.width) + 1;
  return i32(n) * bw * (i32(params.height) + 1) + (nw.y + 1) * bw + nw.x + 1;
}

@compute @workgroup_size(WG)
fn count(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  let hw = params.height * params.width;
  if (id >= params.n_flows * hw) {
    return;
  }
  let q = landing_point(id / hw, id % hw);
  points[id] = q;
  let bin = bin_of(id / hw, q);
  if (bin >= 0) {
    atomicAdd(&tally[u32(bin)], 1u);
  }
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  let hw = params.height * params.width;
  if (id >= params.n_flows * hw) {
    return;
  }
  // The landing point `count` stored: no second read of the flows, no integer division.
  let bin = bin_of(id / hw, points[id]);
  if (bin >= 0) {
    entries[offsets[u32(bin)] + atomicAdd(&tally[u32(bin)], 1u)] = id % hw;
  }
}
