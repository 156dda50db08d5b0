// Layout and scaling steps of stage 2 between ONNX sessions (no weights). Layouts are C order:
//   image01   [1, 3, H, W] in [0, 1]            -> signed [1, 3, H, W] in [-1, 1] (SD-VAE input)
//   ref       [1, 4, h, w] SD-VAE latent of the reference image, unscaled (times `scale` here)
//   lat       [1, 4, F, h, w] latents; noise [1, 4, F, h, w] the initial noise; still [h, w] brush
//             static mask at latent size (1 = static)
//   decoded   [1, 3, H, W] SD-VAE decoder output of one frame, in [-1, 1]
//   video     [F, 3, H, W] in [0, 1]; frames u32 [F, Ho, Wo] packed RGBA8 (red in the lowest byte)
// Each entry point uses its own binding numbers (layout 'auto' keeps only those it reads).

struct Params {
  total: u32,   // threads that do work
  row: u32,     // threads per grid row (workgroups in x * WG)
  F: u32,
  P: u32,       // h * w (latents) or H * W (images)
  f: u32,       // frame
  H: u32,
  W: u32,
  Ho: u32,
  Wo: u32,
  scale: f32,   // vae_scale
  sa: f32,      // sqrt(alpha_bar(t_next))
  sb: f32,      // sqrt(1 - alpha_bar(t_next))
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;

fn thread_index(gid: vec3<u32>) -> u32 { return gid.x + gid.y * p.row; }

@group(0) @binding(1) var<storage, read> image01: array<f32>;
@group(0) @binding(2) var<storage, read_write> signed_image: array<f32>;

// The reference pipeline feeds the stage-2 VAE image * 2 - 1.
@compute @workgroup_size(WG)
fn to_signed(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);
  if (i >= p.total) { return; }
  signed_image[i] = image01[i] * 2.0 - 1.0;
}

@group(0) @binding(3) var<storage, read> ref_lat: array<f32>;
@group(0) @binding(4) var<storage, read_write> lat: array<f32>;

// Selective noising: frame 0 of the latents is the clean reference latent (times vae_scale).
@compute @workgroup_size(WG)
fn set_frame0(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over 4 * P
  if (i >= p.total) { return; }
  let c = i / p.P;
  lat[c * p.F * p.P + i % p.P] = ref_lat[i] * p.scale;
}

@group(0) @binding(5) var<storage, read> noise: array<f32>;
@group(0) @binding(6) var<storage, read> still: array<f32>;

// Brush: lat = add_noise(ref * scale, noise, t_next) * m + lat * (1 - m), every frame.
@compute @workgroup_size(WG)
fn brush_blend(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over 4 * F * P
  if (i >= p.total) { return; }
  let px = i % p.P;
  let c = i / (p.F * p.P);
  let init = p.sa * (ref_lat[c * p.P + px] * p.scale) + p.sb * noise[i];
  let m = still[px];
  lat[i] = init * m + lat[i] * (1.0 - m);
}

@group(0) @binding(7) var<storage, read> decoded: array<f32>;
@group(0) @binding(8) var<storage, read_write> video: array<f32>;

// video[f] = clamp(decoded / 2 + 0.5, 0, 1).
@compute @workgroup_size(WG)
fn video_frame(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over 3 * P
  if (i >= p.total) { return; }
  video[p.f * 3u * p.P + i] = clamp(decoded[i] / 2.0 + 0.5, 0.0, 1.0);
}

@group(0) @binding(9) var<storage, read> video_in: array<f32>;
@group(0) @binding(10) var<storage, read_write> frames: array<u32>;

// frames [F, Ho, Wo] = RGBA8 of video [F, 3, H, W], resized bilinearly (PyTorch align_corners =
// false; the identity when the sizes agree), alpha 255.
@compute @workgroup_size(WG)
fn pack_rgba(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = thread_index(gid);                 // over F * Ho * Wo
  if (i >= p.total) { return; }
  let plane = p.Ho * p.Wo;
  let f = i / plane;
  let x = (i % plane) % p.Wo;
  let y = (i % plane) / p.Wo;
  let sy = max((f32(y) + 0.5) * f32(p.H) / f32(p.Ho) - 0.5, 0.0);
  let sx = max((f32(x) + 0.5) * f32(p.W) / f32(p.Wo) - 0.5, 0.0);
  let y0 = min(u32(floor(sy)), p.H - 1u);
  let x0 = min(u32(floor(sx)), p.W - 1u);
  let y1 = min(y0 + 1u, p.H - 1u);
  let x1 = min(x0 + 1u, p.W - 1u);
  let fy = sy - f32(y0);
  let fx = sx - f32(x0);
  var px = 255u << 24u;
  for (var c = 0u; c < 3u; c++) {
    let base = (f * 3u + c) * p.H * p.W;
    let top = mix(video_in[base + y0 * p.W + x0], video_in[base + y0 * p.W + x1], fx);
    let bottom = mix(video_in[base + y1 * p.W + x0], video_in[base + y1 * p.W + x1], fx);
    let v = clamp(mix(top, bottom, fy), 0.0, 1.0);
    px |= u32(round(v * 255.0)) << (8u * c);
  }
  frames[i] = px;
}
