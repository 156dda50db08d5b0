// fill_holes_layers: which layer every target pixel of a splat shows, for hole filling from the
// background side. Two atomic maxima per frame, by the softmax splat's own ordering (larger
// metric = drawn in front):
//  - landed[f, q]: the largest metric of the MOVING sources whose bilinear footprint touches
//    target q (the same four corners and non-zero weights as the splat); 0 where only static
//    content (metric 0) or nothing lands;
//  - occluder[f]: the largest metric of the sources that left a hole: source pixel p whose own
//    target pixel p is a hole (splat coverage < KNOWN_COVERAGE) after its content moved away.
// Metrics are stored as the u32 bits of non-negative floats, whose integer order is the float
// order, so atomicMax on u32 is a float max. Both buffers must be cleared to 0 first.
// Params (binding 0): image_params.wgsl, prepended by fillHoles.ts.
// Fields read: width, height, frames.
// flows: [F, 2, H, W] float32 pixels (the splat's flows).
@group(0) @binding(1) var<storage, read> flows: array<f32>;
// metric: [F, H, W] float32 (the splat's [1, F, H, W] metric; values < 0 count as 0).
@group(0) @binding(2) var<storage, read> metric: array<f32>;
// splat: [F, 4, H, W] premultiplied colour + coverage (a normalised splat of (R, G, B, 1)).
@group(0) @binding(3) var<storage, read> splat: array<f32>;
// landed: [F, H, W] u32 float bits; occluder: [F] u32 float bits.
@group(0) @binding(4) var<storage, read_write> landed: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> occluder: array<atomic<u32>>;

// A target pixel is known when the splat covers it at least this much (fill_holes_background).
const KNOWN_COVERAGE: f32 = 0.999;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let px = frame_pixel(gid);
  if (!px.inside) { return; }
  let w = params.width;
  let h = params.height;
  let n = px.plane;
  let i = px.index;
  let m = metric[px.frame * n + i];
  let f = vec2f(flows[px.frame * 2u * n + i], flows[px.frame * 2u * n + n + i]);
  if (!(m > 0.0) || !is_finite(m) || (f.x == 0.0 && f.y == 0.0)) { return; }
  let bits = bitcast<u32>(m);
  if (clamp(splat[px.frame * 4u * n + 3u * n + i], 0.0, 1.0) < KNOWN_COVERAGE) {
    atomicMax(&occluder[px.frame], bits);
  }
  let q = vec2f(f32(gid.x), f32(gid.y)) + f;
  if (!lands_on_grid(q, w, h)) { return; }
  let q0 = floor(q);
  let frac = q - q0;
  let weights = array<f32, 4>((1.0 - frac.x) * (1.0 - frac.y), frac.x * (1.0 - frac.y), (1.0 - frac.x) * frac.y, frac.x * frac.y);
  let offsets = array<vec2f, 4>(vec2f(0.0, 0.0), vec2f(1.0, 0.0), vec2f(0.0, 1.0), vec2f(1.0, 1.0));
  for (var c = 0u; c < 4u; c++) {
    let t = q0 + offsets[c];
    if (weights[c] > 0.0 && t.x >= 0.0 && t.y >= 0.0 && t.x < f32(w) && t.y < f32(h)) {
      atomicMax(&landed[px.frame * n + u32(t.y) * w + u32(t.x)], bits);
    }
  }
}
