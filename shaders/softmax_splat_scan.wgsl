// Exclusive prefix sum of u32 counts, in place, for the splat's bins (CSR offsets).
// Barrier-free chunked scan (chunks of CHUNK consecutive elements, one invocation each), used
// recursively by the TS wrapper, level l holding n_l elements:
//   reduce_chunks: sums[k] = sum of data[k*CHUNK .. (k+1)*CHUNK)        (n_{l+1} = ceil(n_l / CHUNK))
//   (the wrapper scans `sums` the same way, recursively)
//   scan_chunks:   data[k*CHUNK + j] = sums[k] + sum of data[k*CHUNK .. k*CHUNK + j)
//                  (with top = 1 the chunk offset is 0 and `sums` is not read: the last level,
//                  n_l <= CHUNK, is one invocation scanning everything serially)
// No barriers and no workgroup memory: on a software adapter a barrier-heavy workgroup scan was
// three orders of magnitude slower (bench/README.md); on GPUs both are microseconds here.
// Bindings (group 0):
//   0 uniform Params { n (elements in `data`), top (1 on the last level) }
//   1 storage rw data u32 [n]
//   2 storage rw sums u32 [ceil(n / CHUNK)]
// One invocation per chunk, WG per workgroup; ceil(ceil(n / CHUNK) / WG) workgroups split as
// dispatchGrid (common.ts): gx = min(total, device limit), gy = ceil(total / gx),
// chunk = grid_invocation(wg, num_wg, local, WG).
// Totals stay below 2^32: one entry per source pixel and far fewer than 2^30 pixels.

struct Params {
  n: u32,
  top: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;

// Set by splat.ts (which sizes the levels from CHUNK).
override WG: u32;
override CHUNK: u32;

@compute @workgroup_size(WG)
fn reduce_chunks(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) local: u32) {
  let k = grid_invocation(wg, nwg, local, WG);
  let start = k * CHUNK;
  if (start >= params.n) {
    return;
  }
  let end = min(start + CHUNK, params.n);
  var total = 0u;
  for (var i = start; i < end; i++) {
    total += data[i];
  }
  sums[k] = total;
}

@compute @workgroup_size(WG)
fn scan_chunks(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) local: u32) {
  let k = grid_invocation(wg, nwg, local, WG);
  let start = k * CHUNK;
  if (start >= params.n) {
    return;
  }
  let end = select(min(start + CHUNK, params.n), params.n, params.top == 1u);
  var running = 0u;
  if (params.top == 0u) {
    running = sums[k];
  }
  for (var i = start; i < end; i++) {
    let v = data[i];
    data[i] = running;
    running += v;
  }
}
