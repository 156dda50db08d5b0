// densify_params: the uniform shared by every densify_*.wgsl pass. densify.ts prepends this
// file to each of them (WGSL has no includes) and writes it in writeParams: u32 x 6 at byte 0,
// f32 x 3 at byte 24, so the layout lives in one place on each side.
struct Params {
  width: u32,
  height: u32,
  coarse_width: u32,
  coarse_height: u32,
  batch: u32,
  parity: u32,
  screening: f32,
  // 1 / (2 sigma^2), sigma = colour distance (RGB in [0,1], averaged over channels) of a "strong" edge.
  inv_two_sigma2: f32,
  floor_weight: f32,
}
