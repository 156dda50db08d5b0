// image_composite: the final packed RGBA8 frames: the reference pixel, byte for byte, where
// nothing moves; otherwise the splatted colour with holes filled from the pull-push pyramid.
struct Params {
  width: u32,
  height: u32,
  coarse_width: u32,
  coarse_height: u32,
  frames: u32,
  // Output frame index of input frame 0 (1 when frame 0 of the output is the reference image).
  frame_offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
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

fn coarse_rgb(x: i32, y: i32, o: u32) -> vec3f {
  let cw = params.coarse_width;
  let cn = cw * params.coarse_height;
  let cx = u32(clamp(x, 0, i32(cw) - 1));
  let cy = u32(clamp(y, 0, i32(params.coarse_height) - 1));
  let i = o + cy * cw + cx;
  return vec3f(coarse[i], coarse[i + cn], coarse[i + 2u * cn]);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (gid.x >= w || gid.y >= h || gid.z >= params.frames) { return; }
  let n = w * h;
  let p = gid.y * w + gid.x;
  let o = (gid.z + params.frame_offset) * n + p;
  let fx = flows[gid.z * 2u * n + p];
  let fy = flows[gid.z * 2u * n + n + p];
  if (fx == 0.0 && fy == 0.0 && covered[gid.z * n + p] == 0u) {
    out[o] = reference[p];
    return;
  }
  let i = gid.z * 4u * n + p;
  let a = clamp(splat[i + 3u * n], 0.0, 1.0);
  var c = vec3f(splat[i], splat[i + n], splat[i + 2u * n]);
  if (a < 1.0) {
    let sx = (f32(gid.x) + 0.5) * 0.5 - 0.5;
    let sy = (f32(gid.y) + 0.5) * 0.5 - 0.5;
    let x0 = i32(floor(sx));
    let y0 = i32(floor(sy));
    let tx = sx - f32(x0);
    let ty = sy - f32(y0);
    let co = gid.z * 4u * params.coarse_width * params.coarse_height;
    let up = mix(mix(coarse_rgb(x0, y0, co), coarse_rgb(x0 + 1, y0, co), tx),
                 mix(coarse_rgb(x0, y0 + 1, co), coarse_rgb(x0 + 1, y0 + 1, co), tx), ty);
    c = c + (1.0 - a) * up;
  }
  out[o] = pack4x8unorm(vec4f(clamp(c, vec3f(0.0), vec3f(1.0)), 1.0));
}
