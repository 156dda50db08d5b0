// image_composite: the final packed RGBA8 frames: the reference pixel, byte for byte, where
// nothing moves; otherwise the splatted colour with holes filled from the pull-push pyramid.
// Params (binding 0): image_params.wgsl, prepended by image.ts.
// Fields read: width, height, frames, frame_offset, coarse_width, coarse_height.
// reference: [H*W] packed RGBA8.
@group(0) @binding(1) var<storage, read> reference: array<u32>;
// flows: [F, 2, H, W]; covered: [F, H, W] (image_motion_prep).
@group(0) @binding(2) var<storage, read> flows: array<f32>;
@group(0) @binding(3) var<storage, read> covered: array<u32>;
// splat: [F, 4, H, W] colour + coverage; coarse: [F, 4, Hc, Wc] filled level 1 of the pyramid.
@group(0) @binding(4) var<storage, read> splat: array<f32>;
@group(0) @binding(5) var<storage, read> coarse: array<f32>;
// out: [frame_offset + F, H, W] packed RGBA8 (only frames frame_offset.. are written).
@group(0) @binding(6) var<storage, read_write> out: array<u32>;

// Static pixel of frame f: its own flow is exactly (0, 0) and no moving pixel lands on it.
// Those copy the reference's u32 unchanged (bit-identical). Others: colour = splat +
// (1 - a) * bilinear(coarse), a = coverage (the splat's colour is already a * colour: a
// normalised splat with the 1e-7 guard), rounded to 8 bits, alpha 255.
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let px = frame_pixel(gid);
  if (!px.inside) { return; }
  let n = px.plane;
  let p = px.index;
  let z = px.frame;
  let o = (z + params.frame_offset) * n + p;
  let fx = flows[z * 2u * n + p];
  let fy = flows[z * 2u * n + n + p];
  if (fx == 0.0 && fy == 0.0 && covered[z * n + p] == 0u) {
    out[o] = reference[p];
    return;
  }
  let i = z * 4u * n + p;
  let a = clamp(splat[i + 3u * n], 0.0, 1.0);
  var c = vec3f(splat[i], splat[i + n], splat[i + 2u * n]);
  if (a < 1.0) {
    let cw = params.coarse_width;
    let ch = params.coarse_height;
    let up = coarse_upsample_rgb(gid.x, gid.y, z * 4u * cw * ch, cw, ch);
    c = c + (1.0 - a) * up;
  }
  out[o] = pack4x8unorm(vec4f(clamp(c, vec3f(0.0), vec3f(1.0)), 1.0));
}
