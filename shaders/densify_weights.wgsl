// densify_weights: edge-aware diffusion weights of the reference image (finest pyramid level).
// struct Params: densify_params.wgsl, prepended by densify.ts.

@group(0) @binding(0) var<uniform> params: Params;
// image: [H*W] packed RGBA8, red in the low byte (ImageData byte order).
@group(0) @binding(1) var<storage, read> image: array<u32>;
// ids: [H*W] constraint map (densify_setup); -3 marks static (unpainted) pixels.
@group(0) @binding(2) var<storage, read> ids: array<i32>;
// wx[y*W + x]: weight of the edge (x,y)-(x+1,y); 0 in the last column.
@group(0) @binding(3) var<storage, read_write> wx: array<f32>;
// wy[y*W + x]: weight of the edge (x,y)-(x,y+1); 0 in the last row.
@group(0) @binding(4) var<storage, read_write> wy: array<f32>;

// w = max(floor_weight, exp(-|c_p - c_q|^2 / 3 / (2 sigma^2))): close to 1 inside smooth regions,
// close to floor_weight across strong colour edges, so diffusion (motion) stays inside objects.
// The floor keeps every pixel connected, so the solve stays well posed. An edge between a static
// pixel (id -3) and a non-static one gets the floor weight: the brush outline acts like a strong
// image edge, so the painted region moves as a whole instead of being pulled to zero at its rim.
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).

fn rgb(i: u32) -> vec3f {
  return unpack4x8unorm(image[i]).xyz;
}

const STATIC_ID: i32 = -3;

fn edge_weight(a: vec3f, b: vec3f, ia: u32, ib: u32) -> f32 {
  if ((ids[ia] == STATIC_ID) != (ids[ib] == STATIC_ID)) { return params.floor_weight; }
  let d = a - b;
  return max(params.floor_weight, exp(-dot(d, d) / 3.0 * params.inv_two_sigma2));
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, 1u)) { return; }
  let i = gid.y * w + gid.x;
  let c = rgb(i);
  var a = 0.0;
  var b = 0.0;
  if (gid.x + 1u < w) { a = edge_weight(c, rgb(i + 1u), i, i + 1u); }
  if (gid.y + 1u < h) { b = edge_weight(c, rgb(i + w), i, i + w); }
  wx[i] = a;
  wy[i] = b;
}
