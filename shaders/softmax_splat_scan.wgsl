// Exclusive prefix sum of u32 counts, in place, for the splat's per-target lists (CSR offsets).
// Two entry points, used recursively by the TS wrapper:
//   scan_blocks: each workgroup of WG (256) scans its WG elements in place (exclusive) and writes
//                its total to block_sums[workgroup];
//   add_offsets: after block_sums has itself been scanned (exclusive), adds block_sums[wg] to
//                every element of block wg.
// Bindings (group 0):
//   0 uniform Params { n (elements in `data`) }
//   1 storage rw data       u32 [n]
//   2 storage rw block_sums u32 [ceil(n / WG)]
// Dispatch: ceil(n / WG) workgroups of WG, split as gx = min(total, 65535), gy = ceil(total/gx);
// block index = wg.y * num_wg.x + wg.x. Scan: Hillis-Steele in workgroup memory (log2 WG
// steps); totals stay below 2^32 because there are at most 4 entries per target pixel.

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> block_sums: array<u32>;

// Block size = workgroup size, set by splat.ts (which also sizes block_sums from it).
override WG: u32;
var<workgroup> partial: array<u32, WG>;

@compute @workgroup_size(WG)
fn scan_blocks(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) local: u32) {
  let block = wg.y * nwg.x + wg.x;
  let i = block * WG + local;
  var own = 0u;
  if (i < params.n) {
    own = data[i];
  }
  partial[local] = own;
  workgroupBarrier();
  for (var stride = 1u; stride < WG; stride = stride * 2u) {
    var add = 0u;
    if (local >= stride) {
      add = partial[local - stride];
    }
    workgroupBarrier();
    partial[local] = partial[local] + add;
    workgroupBarrier();
  }
  if (i < params.n) {
    data[i] = partial[local] - own;
  }
  if (local == WG - 1u) {
    block_sums[block] = partial[local];
  }
}

@compute @workgroup_size(WG)
fn add_offsets(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) local: u32) {
  let block = wg.y * nwg.x + wg.x;
  let i = block * WG + local;
  if (i < params.n) {
    data[i] = data[i] + block_sums[block];
  }
}
