// One DDIM step (eta = 0, epsilon prediction) with the classifier-free guidance combine, in place
// on the latents:
//   eps    = batch == 2 ? u + g * (c - u) : u      (noise_pred batch order [uncond, cond])
//   x0     = (x - sqrt(1 - a_t) * eps) / sqrt(a_t)
//   x_prev = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps
// The square roots are computed in float64 on the CPU (src/pipeline/scheduler.ts); the update in fp32.
// Layout: latents [n] (one batch entry), noise_pred [batch, n] (u first, then c).

struct Params {
  n: u32,
  batch: u32,
  row: u32,          // threads per grid row (workgroups in x * WG)
  guidance: f32,
  sqrt_a: f32,
  sqrt_one_minus_a: f32,
  sqrt_a_prev: f32,
  sqrt_one_minus_a_prev: f32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> noise_pred: array<f32>;
@group(0) @binding(2) var<storage, read_write> latents: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.row;
  if (i >= p.n) { return; }
  let u = noise_pred[i];
  var eps = u;
  if (p.batch == 2u) {
    eps = u + p.guidance * (noise_pred[p.n + i] - u);
  }
  let x0 = (latents[i] - p.sqrt_one_minus_a * eps) / p.sqrt_a;
  latents[i] = p.sqrt_a_prev * x0 + p.sqrt_one_minus_a_prev * eps;
}
