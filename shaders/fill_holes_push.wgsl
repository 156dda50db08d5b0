// fill_holes_push: one "push" step of pull-push hole filling: where the fine level's weight is
// below 1, blend in the (already filled) coarser level, interpolated bilinearly.
struct Params {
  width: u32,
  height: u32,
  coarse_width: u32,
  coarse_height: u32,
  frames: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// fine: [F, 4, H, W] colour + weight, updated in place to weight 1.
@group(0) @binding(1) var<storage, read_write> fine: array<f32>;
// coarse: [F, 4, Hc, Wc], filled (weight 1 everywhere).
@group(0) @binding(2) var<storage, read> coarse: array<f32>;

// colour = a * colour + (1 - a) * bilinear(coarse), a = fine weight; cell-centred sampling at
// ((x + 0.5) / 2 - 0.5, (y + 0.5) / 2 - 0.5), clamped to the coarse grid.
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
  let i = gid.z * 4u * n + gid.y * w + gid.x;
  let a = clamp(fine[i + 3u * n], 0.0, 1.0);
  if (a >= 1.0) { return; }
  let sx = (f32(gid.x) + 0.5) * 0.5 - 0.5;
  let sy = (f32(gid.y) + 0.5) * 0.5 - 0.5;
  let x0 = i32(floor(sx));
  let y0 = i32(floor(sy));
  let fx = sx - f32(x0);
  let fy = sy - f32(y0);
  let co = gid.z * 4u * params.coarse_width * params.coarse_height;
  let up = mix(mix(coarse_rgb(x0, y0, co), coarse_rgb(x0 + 1, y0, co), fx),
               mix(coarse_rgb(x0, y0 + 1, co), coarse_rgb(x0 + 1, y0 + 1, co), fx), fy);
  let c = a * vec3f(fine[i], fine[i + n], fine[i + 2u * n]) + (1.0 - a) * up;
  fine[i] = c.x;
  fine[i + n] = c.y;
  fine[i + 2u * n] = c.z;
  fine[i + 3u * n] = 1.0;
}
