// Layout and scaling steps of stage 1 between ONNX sessions (no weights). Layouts are C order:
//   image     u32 [H, W] packed RGBA8 (red in the lowest byte)   -> image01 [1, 3, H, W] in [0, 1]
//   img_lat   [1, 4, h, w] SD-VAE latent, unscaled; lat [1, 4, F1, h, w] noisy flow latents
//   sample    [B, 8, F1, h, w] = [img_lat * vae_scale repeated over frames, lat], same for every b
//   lat_f     [1, 4, h, w] flow-VAE posterior sample of frame f (NOT scaled); mask8 [F1, h, w]
//   control   [B, 5, F1, h, w]: channels 0..3 = lat_f, channel 4 = mask8[f]   (frame f only)
//   z_f       [1, 4, h, w] = lat[:, :, f] / vae_scale                       (flow-VAE decoder input)
//   v         [1, 2, H, W] flow-VAE decoder output; static [H, W] brush (1 = static, 0 = may move)
//   flows     [F1, 2, H, W]: frame f = clamp(2 v - 1, -1, 1) * (W, H) * (1 - static)
// Each entry point uses its own binding numbers (layout 'auto' keeps only those it reads).

struct Params {
  total: u32,   // threads that do work
  row: u32,     // threads per grid row (workgroups in x * WG)
  B: u32,
  F1: u32,
  f: u32,
  h: u32,
  w: u32,
  H: u32,
  W: u32,
  scale: f32,   // vae_scale
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;

fn thread_index(gid: vec3<u32>) -> u32 { return gid.x + gid.y * p.row; }

@group(0) @binding(1) var<storage, read> image: array<u32>;
@group(0) @binding(2) var<storage, read_write> image01: array<f32>;

@compute @workgroup_size(WG)
fn unpack_rgb01(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over 3 * H * W
  if (i >= p.total) { return; }
  let hw = p.H * p.W;
  let c = i / hw;
  let px = image[i % hw];
  image01[i] = f32((px >> (8u * c)) & 255u) / 255.0;
}

@group(0) @binding(3) var<storage, read> img_lat: array<f32>;
@group(0) @binding(4) var<storage, read> lat: array<f32>;
@group(0) @binding(5) var<storage, read_write> unet_sample: array<f32>;

@compute @workgroup_size(WG)
fn assemble_sample(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over B * 8 * F1 * h * w
  if (i >= p.total) { return; }
  let hw = p.h * p.w;
  let per_c = p.F1 * hw;
  let c = (i / per_c) % 8u;
  let r = i % per_c;                  // f * hw + pixel
  if (c < 4u) {
    unet_sample[i] = img_lat[c * hw + r % hw] * p.scale;
  } else {
    unet_sample[i] = lat[(c - 4u) * per_c + r];
  }
}

@group(0) @binding(6) var<storage, read> lat_f: array<f32>;
@group(0) @binding(7) var<storage, read> mask8: array<f32>;
@group(0) @binding(8) var<storage, read_write> control: array<f32>;

@compute @workgroup_size(WG)
fn scatter_control(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over B * 5 * h * w (frame p.f)
  if (i >= p.total) { return; }
  let hw = p.h * p.w;
  let px = i % hw;
  let c = (i / hw) % 5u;
  let b = i / (5u * hw);
  var v = mask8[p.f * hw + px];
  if (c < 4u) { v = lat_f[c * hw + px]; }
  control[((b * 5u + c) * p.F1 + p.f) * hw + px] = v;
}

@group(0) @binding(9) var<storage, read> lat_all: array<f32>;
@group(0) @binding(10) var<storage, read_write> z_f: array<f32>;

@compute @workgroup_size(WG)
fn frame_latent(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over 4 * h * w
  if (i >= p.total) { return; }
  let hw = p.h * p.w;
  let c = i / hw;
  z_f[i] = lat_all[(c * p.F1 + p.f) * hw + i % hw] / p.scale;
}

@group(0) @binding(11) var<storage, read> v: array<f32>;
@group(0) @binding(12) var<storage, read> static_mask: array<f32>;
@group(0) @binding(13) var<storage, read_write> flows: array<f32>;

@compute @workgroup_size(WG)
fn decode_flow(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over 2 * H * W (frame p.f)
  if (i >= p.total) { return; }
  let hw = p.H * p.W;
  let c = i / hw;
  let px = i % hw;
  var size = f32(p.W);
  if (c == 1u) { size = f32(p.H); }
  let d = clamp(2.0 * v[i] - 1.0, -1.0, 1.0) * size;
  flows[p.f * 2u * hw + i] = d * (1.0 - static_mask[px]);
}

// image [H, W] packed RGBA8 -> image01 [1, 3, h, w] in [0, 1], bilinear with PyTorch's
// align_corners = false (src = (dst + 0.5) * in / out - 0.5, clamped at 0, neighbours clamped to
// the border; no antialiasing). Equal sizes give exactly value / 255.
@group(0) @binding(14) var<storage, read> src_image: array<u32>;
@group(0) @binding(15) var<storage, read_write> resized01: array<f32>;

fn channel01(x: u32, y: u32, c: u32) -> f32 {
  return f32((src_image[y * p.W + x] >> (8u * c)) & 255u) / 255.0;
}

@compute @workgroup_size(WG)
fn resize_rgb01(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);          // over 3 * h * w
  if (i >= p.total) { return; }
  let hw = p.h * p.w;
  let c = i / hw;
  let ox = (i % hw) % p.w;
  let oy = (i % hw) / p.w;
  let sx = max((f32(ox) + 0.5) * f32(p.W) / f32(p.w) - 0.5, 0.0);
  let sy = max((f32(oy) + 0.5) * f32(p.H) / f32(p.h) - 0.5, 0.0);
  let x0 = min(u32(floor(sx)), p.W - 1u);
  let y0 = min(u32(floor(sy)), p.H - 1u);
  let x1 = min(x0 + 1u, p.W - 1u);
  let y1 = min(y0 + 1u, p.H - 1u);
  let fx = sx - f32(x0);
  let fy = sy - f32(y0);
  let top = channel01(x0, y0, c) * (1.0 - fx) + channel01(x1, y0, c) * fx;
  let bottom = channel01(x0, y1, c) * (1.0 - fx) + channel01(x1, y1, c) * fx;
  resized01[i] = top * (1.0 - fy) + bottom * fy;
}

// flows [N, 2, H, W] *= (1 - static[H, W]) in place: the brush applied at the project's canvas
// after flows were resized to it.
@group(0) @binding(16) var<storage, read> static_full: array<f32>;
@group(0) @binding(17) var<storage, read_write> flows_full: array<f32>;

@compute @workgroup_size(WG)
fn mask_flows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);          // over N * 2 * H * W
  if (i >= p.total) { return; }
  flows_full[i] = flows_full[i] * (1.0 - static_full[i % (p.H * p.W)]);
}
