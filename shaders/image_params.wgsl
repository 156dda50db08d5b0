// image_params: the uniform and the pixel indexing shared by the classical renderer's 8x8-tiled
// shaders (image_*.wgsl, fill_holes_*.wgsl). image.ts prepends this file to each of them (WGSL
// has no includes) and packs Params in imageParams(), so the layout lives in one place on each
// side. Each shader reads the fields it documents; the others are 0.
struct Params {
  // Grid of the dispatch: width x height pixels, `frames` planes (z of the 8x8-tiled grid).
  width: u32,
  height: u32,
  frames: u32,
  // Output frame index of input frame 0 (composite, blend).
  frame_offset: u32,
  // The half-resolution level of hole filling: ceil(W/2) x ceil(H/2) (composite, fill holes).
  coarse_width: u32,
  coarse_height: u32,
  // Fill-holes pull: 1 when the fine level's colour is premultiplied by its weight.
  premultiplied: u32,
  // Blend: frame f gets weight t = (first + f) / period on `b` and 1 - t on `a`.
  first: u32,
  period: u32,
  // Motion prep: metric = metric_scale * |flow| (pixels).
  metric_scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;

// The pixel a thread of the (ceil(W/8), ceil(H/8), frames) grid owns (tiled_pixel, common.wgsl).
fn frame_pixel(gid: vec3u) -> TiledPixel {
  return tiled_pixel(gid, params.width, params.height, params.frames);
}
