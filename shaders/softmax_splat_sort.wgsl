// Softmax splatting: sorts each bin's sources (softmax_splat_bin.wgsl) by source index, so
// that the gather can merge the four bins of a target in source order: the order a sequential
// CPU splat sums in, which makes the result deterministic and equal to such a loop. The fill
// pass appends with atomics, so the order within a bin alone would vary run to run.
// Bindings (group 0):
//   0 uniform Params { n_lists }
//   1 storage read  offsets u32 [n_lists + 1]    (bin b holds entries offsets[b] .. offsets[b+1])
//   2 storage rw    entries u32 [...]            (source indices, the sort keys)
// One invocation per bin, WG per workgroup; dispatch ceil(n_lists / WG) workgroups split as
// gx = min(total, limit), gy = ceil(total / gx). Most bins of a smooth flow hold 0, 1 or 2
// sources (about one per bin on average); up to 4 take a sorting network, up to 16 insertion
// sort, longer ones (many sources converging on one pixel) an in-place heapsort, O(n log n)
// worst case, so no input can make a single invocation quadratic.

struct Params {
  n_lists: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read_write> entries: array<u32>;

// Workgroup size, set by splat.ts.
override WG: u32;
const INSERTION_MAX: u32 = 16u;
// Source indices are below 2^31, so this key sorts after every real one.
const NO_KEY: u32 = 0xffffffffu;

fn compare_exchange(a: ptr<function, u32>, b: ptr<function, u32>) {
  let lo = min(*a, *b);
  *b = max(*a, *b);
  *a = lo;
}

fn sift_down(base: u32, root_in: u32, len: u32) {
  var root = root_in;
  loop {
    let left = 2u * root + 1u;
    if (left >= len) {
      break;
    }
    var child = left;
    if (left + 1u < len && entries[base + left + 1u] > entries[base + left]) {
      child = left + 1u;
    }
    if (entries[base + child] <= entries[base + root]) {
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
  let id = grid_invocation(wg, nwg, local, WG);
  if (id >= params.n_lists) {
    return;
  }
  let base = offsets[id];
  let len = offsets[id + 1u] - base;
  if (len < 2u) {
    return;
  }
  // Up to 4 sources (nearly every bin of a smooth flow): a 5-comparator sorting network,
  // straight-line code, so SIMD lanes with short bins never step through the loops below.
  // Slots past the end sort last (key NO_KEY) and are not written back.
  if (len <= 4u) {
    var e0 = entries[base];
    var e1 = entries[base + 1u];
    var e2 = entries[base + min(2u, len - 1u)];
    var e3 = entries[base + min(3u, len - 1u)];
    e2 = select(NO_KEY, e2, len > 2u);
    e3 = select(NO_KEY, e3, len > 3u);
    compare_exchange(&e0, &e1);
    compare_exchange(&e2, &e3);
    compare_exchange(&e0, &e2);
    compare_exchange(&e1, &e3);
    compare_exchange(&e1, &e2);
    entries[base] = e0;
    entries[base + 1u] = e1;
    if (len > 2u) {
      entries[base + 2u] = e2;
    }
    if (len > 3u) {
      entries[base + 3u] = e3;
    }
    return;
  }
  if (len <= INSERTION_MAX) {
    for (var i = 1u; i < len; i++) {
      let e = entries[base + i];
      var j = i;
      while (j > 0u && entries[base + j - 1u] > e) {
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
