// Softmax splatting: sorts each target pixel's list of (source, weight) entries by source
// index, so that the gather sums contributions in a fixed order (the order a sequential CPU
// splat uses). The fill pass appends with atomics, so list order alone would vary run to run.
// Bindings (group 0):
//   0 uniform Params { n_lists }
//   1 storage read  offsets u32 [n_lists]        (start of each list in `entries`)
//   2 storage read  counts  u32 [n_lists]        (length of each list)
//   3 storage rw    entries vec2<u32> [...]      (x = source index = sort key, y = weight bits)
// One invocation per list, WG (64) per workgroup; dispatch ceil(n_lists / WG) workgroups split as
// gx = min(total, 65535), gy = ceil(total / gx). Lists of up to 16 entries (the usual case:
// about 4 per pixel for smooth flow) use insertion sort; longer ones (many sources converging
// on one pixel) use an in-place heapsort, O(n log n) worst case, so no input can make a
// single invocation quadratic.

struct Params {
  n_lists: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read> counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> entries: array<vec2<u32>>;

// Workgroup size, set by splat.ts.
override WG: u32;
const INSERTION_MAX: u32 = 16u;

fn sift_down(base: u32, root_in: u32, len: u32) {
  var root = root_in;
  loop {
    let left = 2u * root + 1u;
    if (left >= len) {
      break;
    }
    var child = left;
    if (left + 1u < len && entries[base + left + 1u].x > entries[base + left].x) {
      child = left + 1u;
    }
    if (entries[base + child].x <= entries[base + root].x) {
      break;
    }
    let tmp = entries[base + root];
    entries[base + root] = entries[base + child];
    entries[base + child] = tmp;
    root = child;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let id = (wg.y * nwg.x + wg.x) * WG + local;
  if (id >= params.n_lists) {
    return;
  }
  let base = offsets[id];
  let len = counts[id];
  if (len < 2u) {
    return;
  }
  if (len <= INSERTION_MAX) {
    for (var i = 1u; i < len; i++) {
      let e = entries[base + i];
      var j = i;
      while (j > 0u && entries[base + j - 1u].x > e.x) {
        entries[base + j] = entries[base + j - 1u];
        j--;
      }
      entries[base + j] = e;
    }
    return;
  }
  for (var start = len / 2u; start > 0u; start--) {
    sift_down(base, start - 1u, len);
  }
  for (var end = len - 1u; end > 0u; end--) {
    let tmp = entries[base];
    entries[base] = entries[base + end];
    entries[base + end] = tmp;
    sift_down(base, 0u, end);
  }
}
