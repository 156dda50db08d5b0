// fill_patch_common: what the patch-fill kernels share (fill_patch_init, _search, _apply,
// _finish); patchFill.ts prepends it and packs Params in the same order.
// A level is an image [F, 4, H, W]: R, G, B (holes hold the current estimate) and the signed
// background weight of background-only pull-push. A pixel is KNOWN when that weight is at
// least KNOWN_WEIGHT (background: only these are ever copied), FRONT when it is at most
// -KNOWN_WEIGHT (level 0 only: covered by moving content, left alone), else a HOLE; holes are
// filled unless they are mostly covered background (weight >= PARTIAL_WEIGHT, as where a
// smooth flow stretches the image: the fill adds at most half there, pull-push is enough).
// The nearest-neighbour field (NNF) is u32 [F, H, W]: for every pixel the position of the
// centre of its source patch, x | (y << 16), on the same level.
struct Params {
  width: u32,
  height: u32,
  frames: u32,
  // The next coarser level (fill_patch_init upsamples its NNF); 0 x 0 when there is none.
  coarse_width: u32,
  coarse_height: u32,
  // Search: propagation distance (pixels) and the first random-search radius.
  jump: u32,
  radius: u32,
  // Random numbers: hash of (seed, pass, pixel, sample).
  seed: u32,
  pass_index: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// Patches are (2 PATCH_RADIUS + 1)^2 pixels.
const PATCH_RADIUS: i32 = 2;
const PATCH_SIZE: u32 = 25u;
const KNOWN_WEIGHT: f32 = 0.999;
// Weight of a hole pixel's current estimate in a target patch (known pixels 1, front 0): the
// estimate is a guess, the known border is not.
const ESTIMATE_WEIGHT: f32 = 0.05;

fn is_known(weight: f32) -> bool {
  return weight >= KNOWN_WEIGHT;
}

fn is_front(weight: f32) -> bool {
  return weight <= -KNOWN_WEIGHT;
}

const PARTIAL_WEIGHT: f32 = 0.5;

// A hole the patch fill searches and writes.
fn is_target(weight: f32) -> bool {
  return weight < PARTIAL_WEIGHT && !is_front(weight);
}

// Weight of a pixel in the target patch by its role.
fn target_weight(weight: f32) -> f32 {
  if (is_known(weight)) { return 1.0; }
  if (is_front(weight)) { return 0.0; }
  return ESTIMATE_WEIGHT;
}

fn pack_position(p: vec2i) -> u32 {
  return u32(p.x) | (u32(p.y) << 16u);
}

fn unpack_position(v: u32) -> vec2i {
  return vec2i(i32(v & 0xffffu), i32(v >> 16u));
}

// PCG hash (O'Neill), the same on the CPU side of the tests.
fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Not of the frame: a frame's index inside a render chunk is not its number in the clip (a
// preview renders one frame alone), so the same frame must draw the same numbers wherever it
// is rendered; the same numbers in every frame also keep the texture from flickering.
fn random_u32(frame: u32, pixel: u32, sample: u32) -> u32 {
  return pcg_hash(pcg_hash(pcg_hash(params.seed ^ (params.pass_index * 0x9e3779b9u)) ^ pixel) + sample);
}

// Offset of plane `c` of frame `f` in a level of `n` pixels.
fn plane_offset(f: u32, c: u32, n: u32) -> u32 {
  return (f * 4u + c) * n;
}
