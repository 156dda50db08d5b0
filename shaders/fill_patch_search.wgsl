// fill_patch_search: one PatchMatch iteration (Barnes et al. 2009), parallel (Jacobi) form: every
// hole pixel of the level tries its current source, the sources of the four pixels `jump`
// away shifted by that offset (propagation), and random positions around the best so far at
// radii radius, radius / 2, .. 1 (random search); it keeps the cheapest. Pixels that are
// not targets (known, front, mostly covered) keep pointing at themselves.
// Patch cost over the 5x5 patch, d(o) = T(p + o) - S(s + o) (RGB), T = the level's current
// colours around the hole pixel p (clamped to the level), t = target_weight (known 1, hole
// estimate ESTIMATE_WEIGHT, front 0), S = the source patch, which must lie inside the level
// with EVERY pixel known (background), else the cost is infinite: sources come only from
// known background pixels. With D = sum t d / sum t (the weighted mean difference):
//   cost = sum t |d - D|^2 + MEAN_WEIGHT * (sum t) |D|^2
//        = sum t |d|^2 - (1 - MEAN_WEIGHT) |sum t d|^2 / sum t
// i.e. the detail must match, the mean only weakly: the fill keeps only the copy's detail
// (fill_patch_detail), and with the mean at full weight a smooth hole estimate draws the
// flattest source patch. Since |sum t d|^2 <= sum t * sum t |d|^2, cost >= MEAN_WEIGHT * the
// partial sum t |d|^2, which is the early exit's bound. Ties keep the earlier candidate.
// Params (binding 0): fill_patch_common.wgsl. Fields read: width, height, frames, jump, radius,
// seed, pass_index.
// level: [F, 4, H, W] colours + weights.
@group(0) @binding(1) var<storage, read> level: array<f32>;
// nnf_in: [F, H, W] this iteration's field; nnf_out: [F, H, W] the next (ping-pong).
@group(0) @binding(2) var<storage, read> nnf_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> nnf_out: array<u32>;
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

const INFINITE_COST: f32 = 3.4e38;
// Weight of the patches' mean difference in the cost (1 = plain SSD).
const MEAN_WEIGHT: f32 = 0.25;

fn colour_at(f: u32, n: u32, i: u32) -> vec3f {
  return vec3f(level[plane_offset(f, 0u, n) + i], level[plane_offset(f, 1u, n) + i], level[plane_offset(f, 2u, n) + i]);
}

// Cost of source centre s against the target patch, or INFINITE_COST when s is unusable; stops
// early (returning a value >= bound) once the cost's lower bound reaches `bound`.
fn patch_cost(target_patch: ptr<function, array<vec4f, PATCH_SIZE>>, f: u32, s: vec2i, bound: f32) -> f32 {
  let w = i32(params.width);
  let h = i32(params.height);
  if (s.x < PATCH_RADIUS || s.y < PATCH_RADIUS || s.x >= w - PATCH_RADIUS || s.y >= h - PATCH_RADIUS) { return INFINITE_COST; }
  let n = params.width * params.height;
  var sum2 = 0.0;
  var sum1 = vec3f(0.0);
  var total = 0.0;
  var k = 0u;
  for (var dy = -PATCH_RADIUS; dy <= PATCH_RADIUS; dy++) {
    for (var dx = -PATCH_RADIUS; dx <= PATCH_RADIUS; dx++) {
      let i = u32((s.y + dy) * w + s.x + dx);
      if (!is_known(level[plane_offset(f, 3u, n) + i])) { return INFINITE_COST; }
      let t = (*target_patch)[k];
      let d = t.xyz - colour_at(f, n, i);
      sum2 += t.w * dot(d, d);
      sum1 += t.w * d;
      total += t.w;
      k++;
    }
    if (MEAN_WEIGHT * sum2 >= bound) { return MEAN_WEIGHT * sum2; }
  }
  let mean_part = dot(sum1, sum1) / max(total, 1e-6);
  return sum2 - (1.0 - MEAN_WEIGHT) * mean_part;
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, params.frames)) { return; }
  let n = w * h;
  let p = gid.y * w + gid.x;
  let f = gid.z;
  let here = vec2i(gid.xy);
  let weight = level[plane_offset(f, 3u, n) + p];
  if (!is_target(weight)) {
    nnf_out[f * n + p] = pack_position(here);
    return;
  }
  // Colour and target weight of each pixel of the target patch.
  var target_patch: array<vec4f, PATCH_SIZE>;
  var k = 0u;
  for (var dy = -PATCH_RADIUS; dy <= PATCH_RADIUS; dy++) {
    for (var dx = -PATCH_RADIUS; dx <= PATCH_RADIUS; dx++) {
      let q = clamp(here + vec2i(dx, dy), vec2i(0), vec2i(i32(w) - 1, i32(h) - 1));
      let i = u32(q.y) * w + u32(q.x);
      target_patch[k] = vec4f(colour_at(f, n, i), target_weight(level[plane_offset(f, 3u, n) + i]));
      k++;
    }
  }
  var best = unpack_position(nnf_in[f * n + p]);
  var best_cost = patch_cost(&target_patch, f, best, INFINITE_COST);
  let j = i32(params.jump);
  let directions = array<vec2i, 4>(vec2i(-1, 0), vec2i(1, 0), vec2i(0, -1), vec2i(0, 1));
  for (var d = 0u; d < 4u; d++) {
    let q = here + directions[d] * j;
    if (q.x < 0 || q.y < 0 || q.x >= i32(w) || q.y >= i32(h)) { continue; }
    let candidate = unpack_position(nnf_in[f * n + u32(q.y) * w + u32(q.x)]) - directions[d] * j;
    let cost = patch_cost(&target_patch, f, candidate, best_cost);
    if (cost < best_cost) {
      best = candidate;
      best_cost = cost;
    }
  }
  var r = i32(params.radius);
  var sample_index = 1u;
  while (r >= 1) {
    let bits = random_u32(f, p, sample_index);
    let span = u32(2 * r + 1);
    let candidate = best + vec2i(i32(bits % span), i32((bits >> 16u) % span)) - vec2i(r);
    let cost = patch_cost(&target_patch, f, candidate, best_cost);
    if (cost < best_cost) {
      best = candidate;
      best_cost = cost;
    }
    r = r / 2;
    sample_index++;
  }
  nnf_out[f * n + p] = pack_position(best);
}
