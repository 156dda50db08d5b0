// flow_variational_sor: one half sweep of red-black successive over-relaxation on the linear
// system that flow_variational_prep set up for the flow increment du (Brox et al. 2004, sec. 3):
// at every pixel p of colour `parity` ((x + y) % 2), with its 4-neighbours q inside the grid
// and edge weights w_pq = alpha (phi_p + phi_q) / 2 (the frozen diffusivity),
//   du_x* = (b1 - a12 du_y + sum_q w_pq (u_q + du_q - u_p)_x) / (a11 + sum_q w_pq)
//   du_y* = (b2 - a12 du_x* + sum_q w_pq (u_q + du_q - u_p)_y) / (a22 + sum_q w_pq)
//   du <- du + omega (du* - du).
// A pixel reads only neighbours of the other colour, so a half sweep updates in place in any
// order, and a CPU loop in the same red-then-black order gives the same numbers.
// Params (binding 0): flow_params.wgsl. Fields read: width, height, parity, alpha, omega.
// coefficients: [6, H, W] (flow_variational_prep); flow: [2, H, W] the warp's flow u.
@group(0) @binding(1) var<storage, read> coefficients: array<f32>;
@group(0) @binding(2) var<storage, read> flow: array<f32>;
// increment: [2, H, W] float32 du, updated in place at this colour's pixels.
@group(0) @binding(3) var<storage, read_write> increment: array<f32>;

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1); half the invocations return at once.
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, 1u)) { return; }
  if (((gid.x + gid.y) & 1u) != params.parity) { return; }
  let n = w * h;
  let x = gid.x;
  let y = gid.y;
  let i = y * w + x;
  let phi = coefficients[5u * n + i];
  let u = vec2f(flow[i], flow[n + i]);
  var sw = 0.0;
  var s = vec2f(0.0);
  for (var k = 0u; k < 4u; k++) {
    var q = i;
    if (k == 0u) { if (x == 0u) { continue; } q = i - 1u; }
    if (k == 1u) { if (x + 1u >= w) { continue; } q = i + 1u; }
    if (k == 2u) { if (y == 0u) { continue; } q = i - w; }
    if (k == 3u) { if (y + 1u >= h) { continue; } q = i + w; }
    let wq = params.alpha * 0.5 * (phi + coefficients[5u * n + q]);
    sw += wq;
    s += wq * (vec2f(flow[q] + increment[q], flow[n + q] + increment[n + q]) - u);
  }
  let a11 = coefficients[i];
  let a12 = coefficients[n + i];
  let a22 = coefficients[2u * n + i];
  var du = vec2f(increment[i], increment[n + i]);
  let dx = (coefficients[3u * n + i] - a12 * du.y + s.x) / (a11 + sw);
  du.x += params.omega * (dx - du.x);
  let dy = (coefficients[4u * n + i] - a12 * du.x + s.y) / (a22 + sw);
  du.y += params.omega * (dy - du.y);
  increment[i] = du.x;
  increment[n + i] = du.y;
}
