// coarse_rgb: bilinear upsampling of the colour planes of a half-resolution level, shared by
// fill_holes_push and image_composite (prepended by their wrappers). The including shader
// declares `coarse`: f32 [.., 4, ch, cw] (R, G, B, weight planes of each frame).

// The RGB of coarse pixel (x, y), clamped to the cw x ch grid, of the frame starting at `o`.
fn coarse_rgb(x: i32, y: i32, o: u32, cw: u32, ch: u32) -> vec3f {
  let cn = cw * ch;
  let cx = u32(clamp(x, 0, i32(cw) - 1));
  let cy = u32(clamp(y, 0, i32(ch) - 1));
  let i = o + cy * cw + cx;
  return vec3f(coarse[i], coarse[i + cn], coarse[i + 2u * cn]);
}

// The coarse frame starting at `o`, sampled bilinearly at fine pixel (x, y) (upsample_taps).
fn coarse_upsample_rgb(x: u32, y: u32, o: u32, cw: u32, ch: u32) -> vec3f {
  let t = upsample_taps(x, y);
  let top = mix(coarse_rgb(t.x0, t.y0, o, cw, ch), coarse_rgb(t.x0 + 1, t.y0, o, cw, ch), t.fx);
  let bottom = mix(coarse_rgb(t.x0, t.y0 + 1, o, cw, ch), coarse_rgb(t.x0 + 1, t.y0 + 1, o, cw, ch), t.fx);
  return mix(top, bottom, t.fy);
}
