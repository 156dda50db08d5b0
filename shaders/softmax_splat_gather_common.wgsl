// softmax_splat_gather_common: what both gather kernels share (softmax_splat_gather.wgsl,
// lanes over target pixels; softmax_splat_gather_vec4.wgsl, lanes over channels). splat.ts
// prepends this file to each of them (WGSL has no includes).
//
// A target pixel t = (x, y) of flow n receives exactly the sources binned (softmax_splat_bin)
// under the nw corners (x-1, y-1), (x, y-1), (x-1, y), (x, y): in the (W+1)-wide padded bin grid
// those are two pairs of neighbouring bins, b0, b0 + 1 and b2 = b0 + W + 1, b2 + 1, with
// b0 = n (H+1)(W+1) + y (W+1) + x, each sorted by source index (softmax_splat_sort). The
// gather walks them as one list merged by source index: every source lies in exactly one bin
// per flow, so the merge never ties, and the sum runs in the order of a sequential CPU splat.
// The bin a source came from says which of its corners t is: slot 0 (nw = t - (1,1)) the se
// corner, 1 the sw corner, 2 the ne corner, 3 the nw corner itself.
//
// Math (Niklaus & Liu 2020): q = (sx + dx, sy + dy) in f32 (kept in `points` by the bin
// pass, so the gather needs neither the flows nor an integer division), nw = floor(q), weights
//   w = (ox ? q.x - nw.x : nw.x + 1 - q.x) * (oy ? q.y - nw.y : nw.y + 1 - q.y),
// Z = 1 (sum, avg), metric (linear), exp(clamp(metric, -20, 20)) (soft), at the source pixel;
// out = sum w (x Z) (sum) or sum w (x Z) / (sum w Z + 1e-7) (avg, linear, soft), accumulated
// in f32 in source order. Nothing landing gives 0.
//
// Bindings 0-4 (group 0), the kernels add 5 (input) and 6 (output):
//   0 uniform Params (softmax_splat_values.wgsl)
//   1 storage read metric  f32 [metric_batch, metric_flows, H, W] (a 4-byte dummy when unused)
//   2 storage read offsets u32 [n_flows (H+1)(W+1) + 1] (bin b: entries offsets[b] .. offsets[b+1])
//   3 storage read entries u32 [...] source pixel indices, sorted within each bin
//   4 storage read points  vec2<f32> [n_flows, H, W] landing point q of every source
// Overrides (pipeline constants from splat.ts, so each mode/layout is its own specialised
// pipeline and its branches fold away): MODE and the codes MODE_SUM / MODE_LINEAR / MODE_SOFT.

// Params (binding 0) and the importance Z: softmax_splat_values.wgsl, prepended before this file.
@group(0) @binding(1) var<storage, read> metric: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> entries: array<u32>;
@group(0) @binding(4) var<storage, read> points: array<vec2<f32>>;

// Mode of this pipeline; the codes MODE_SUM / MODE_LINEAR / MODE_SOFT come with
// softmax_splat_values.wgsl.
override MODE: u32;

const NO_SOURCE: u32 = 0xffffffffu;

// Cursor, end and current head (source index, NO_SOURCE when exhausted) of the four bins.
struct BinMerge {
  cursor: vec4<u32>,
  end: vec4<u32>,
  head: vec4<u32>,
}

fn bin_head(i: u32, end: u32) -> u32 {
  // When i == end the load may fall past the chunk's entries; it is discarded either way.
  return select(NO_SOURCE, entries[i], i < end);
}

fn merge_start(n: u32, t: u32) -> BinMerge {
  let bw = params.width + 1u;
  let b0 = n * bw * (params.height + 1u) + (t / params.width) * bw + t % params.width;
  let b2 = b0 + bw;
  var m: BinMerge;
  m.cursor = vec4<u32>(offsets[b0], offsets[b0 + 1u], offsets[b2], offsets[b2 + 1u]);
  m.end = vec4<u32>(m.cursor.y, offsets[b0 + 2u], m.cursor.w, offsets[b2 + 2u]);
  m.head = vec4<u32>(bin_head(m.cursor.x, m.end.x), bin_head(m.cursor.y, m.end.y),
                     bin_head(m.cursor.z, m.end.z), bin_head(m.cursor.w, m.end.w));
  return m;
}

// The smallest head: the next source in source order, NO_SOURCE when all bins are done.
fn merge_peek(m: BinMerge) -> u32 {
  return min(min(m.head.x, m.head.y), min(m.head.z, m.head.w));
}

// Moves past source s (= merge_peek(m), not NO_SOURCE) of chunk flow n and returns its
// landing point and which corner of s the target is: (ox, oy) in {0, 1}^2. Straight-line
// (selects, no branches): cheap on SIMD lanes.
struct Popped {
  q: vec2<f32>,
  corner: vec2<u32>,
}

fn merge_advance(m: ptr<function, BinMerge>, n: u32, s: u32) -> Popped {
  let hit = (*m).head == vec4<u32>(s);
  let one = select(vec4<u32>(0u), vec4<u32>(1u), hit);
  let cursor = (*m).cursor + one;
  (*m).cursor = cursor;
  (*m).head = select((*m).head, vec4<u32>(bin_head(dot(cursor, one), dot((*m).end, one))), hit);
  var p: Popped;
  p.q = points[n * params.height * params.width + s];
  p.corner = vec2<u32>(u32(hit.x || hit.z), u32(hit.x || hit.y));
  return p;
}

// Bilinear weight of a popped source on the target's corner, from its landing point q.
fn corner_weight(p: Popped) -> f32 {
  let nw = floor(p.q);
  let wx = select(nw.x + 1.0 - p.q.x, p.q.x - nw.x, p.corner.x == 1u);
  let wy = select(nw.y + 1.0 - p.q.y, p.q.y - nw.y, p.corner.y == 1u);
  return wx * wy;
}

// One step of the walk: the next source in source order (NO_SOURCE when the bins are done),
// its bilinear weight w on this target and its importance Z; the kernel adds w (x Z).
struct Contribution {
  source: u32,
  w: f32,
  z: f32,
}

fn merge_next(m: ptr<function, BinMerge>, n: u32, plane: u32) -> Contribution {
  var c: Contribution;
  c.source = merge_peek(*m);
  if (c.source != NO_SOURCE) {
    c.w = corner_weight(merge_advance(m, n, c.source));
    c.z = importance(MODE, plane, c.source);
  }
  return c;
}
