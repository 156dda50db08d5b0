// fill_holes_pull: one "pull" step of pull-push hole filling (Gortler et al. 1996): the next
// coarser level as the weight-averaged colour of each 2x2 block.
// Params (binding 0): image_params.wgsl, prepended by image.ts.
// Fields read: width, height (fine level), coarse_width, coarse_height, frames, premultiplied.
// fine: [F, 4, H, W]: R, G, B and weight in [0, 1] (coverage).
@group(0) @binding(1) var<storage, read> fine: array<f32>;
// coarse: [F, 4, Hc, Wc], Hc = ceil(H/2), Wc = ceil(W/2).
@group(0) @binding(2) var<storage, read_write> coarse: array<f32>;

// W = sum of the children's weights; colour = sum(w_i c_i) / W (0 when W = 0); weight = min(1, W).
// The coarse level is never premultiplied.
// Workgroup 8x8; dispatch (ceil(Wc/8), ceil(Hc/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let cw = params.coarse_width;
  let ch = params.coarse_height;
  if (!in_tiled_grid(gid, cw, ch, params.frames)) { return; }
  let w = params.width;
  let h = params.height;
  let n = w * h;
  let fo = gid.z * 4u * n;
  var sum = vec3f(0.0);
  var weight = 0.0;
  for (var dy = 0u; dy < 2u; dy++) {
    for (var dx = 0u; dx < 2u; dx++) {
      let x = gid.x * 2u + dx;
      let y = gid.y * 2u + dy;
      if (x < w && y < h) {
        let i = fo + y * w + x;
        let a = clamp(fine[i + 3u * n], 0.0, 1.0);
        let rgb = vec3f(fine[i], fine[i + n], fine[i + 2u * n]);
        sum += select(a * rgb, rgb, params.premultiplied == 1u);
        weight += a;
      }
    }
  }
  let cn = cw * ch;
  let c = gid.z * 4u * cn + gid.y * cw + gid.x;
  var colour = vec3f(0.0);
  if (weight > 0.0) { colour = sum / weight; }
  coarse[c] = colour.x;
  coarse[c + cn] = colour.y;
  coarse[c + 2u * cn] = colour.z;
  coarse[c + 3u * cn] = min(1.0, weight);
}
