// flow_variational_prep: one outer (warping) iteration of the variational refinement that DIS
// applies to the densified flow at every level (Kroeger et al. 2016, sec. 2.2; the energy of
// Brox et al. 2004 without the coarse-to-fine part, which DIS already is):
//   E(u) = sum_x delta Psi(|I1(x+u) - I0(x)|^2) + gamma Psi(|grad I1(x+u) - grad I0(x)|^2)
//                + alpha Psi(|grad u_x|^2 + |grad u_y|^2),     Psi(s2) = sqrt(s2 + eps^2).
// This pass linearises the data terms around the current flow u, for an increment du:
//   Iz + Ix du_x + Iy du_y  (Ix, Iy: the mean of grad I0(x) and grad I1(x+u)),
//   Ixz + Ixx du_x + Ixy du_y and Iyz + Ixy du_x + Iyy du_y (second derivatives of I1 at x+u
//   by central differences of its sampled gradient), and freezes the robust weights
//   (iteratively reweighted least squares): psi_i = Psi'(Iz^2), psi_g = Psi'(Ixz^2 + Iyz^2),
//   phi = Psi'(|grad u|^2) (central differences of u). The Euler-Lagrange equations per pixel
//   become [a11 a12; a12 a22] du + smoothness = [b1; b2] with
//   a11 = delta psi_i Ix^2 + gamma psi_g (Ixx^2 + Ixy^2), a12 = delta psi_i Ix Iy + gamma psi_g Ixy (Ixx + Iyy),
//   a22 = delta psi_i Iy^2 + gamma psi_g (Ixy^2 + Iyy^2),
//   b1 = -(delta psi_i Ix Iz + gamma psi_g (Ixx Ixz + Ixy Iyz)), b2 = -(delta psi_i Iy Iz + gamma psi_g (Ixy Ixz + Iyy Iyz)),
// solved for du by flow_variational_sor and added by flow_variational_apply. Where x + u leaves
// the image the data terms are dropped (only smoothness fills the flow in).
// Params (binding 0): flow_params.wgsl. Fields read: width, height, gamma, delta.
// i0, i1: [H, W] grey levels; grad0, grad1: [2, H, W] their gradients; flow: [2, H, W] u.
@group(0) @binding(1) var<storage, read> i0: array<f32>;
@group(0) @binding(2) var<storage, read> grad0: array<f32>;
@group(0) @binding(3) var<storage, read> i1: array<f32>;
@group(0) @binding(4) var<storage, read> grad1: array<f32>;
@group(0) @binding(5) var<storage, read> flow: array<f32>;
// coefficients: [6, H, W] float32: a11, a12, a22, b1, b2, phi.
@group(0) @binding(6) var<storage, read_write> coefficients: array<f32>;
// increment: [2, H, W] float32, set to 0 (the SOR's starting point).
@group(0) @binding(7) var<storage, read_write> increment: array<f32>;

fn sample(p: vec2f, plane: u32) -> f32 {
  let t = bilinear_taps(p, params.width, params.height);
  let o = plane * params.width * params.height;
  if (plane == 0u) {
    return bilinear_mix(t, i1[t.i00], i1[t.i10], i1[t.i01], i1[t.i11]);
  }
  let g = o - params.width * params.height;
  return bilinear_mix(t, grad1[g + t.i00], grad1[g + t.i10], grad1[g + t.i01], grad1[g + t.i11]);
}

// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), 1).
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let w = params.width;
  let h = params.height;
  if (!in_tiled_grid(gid, w, h, 1u)) { return; }
  let n = w * h;
  let x = gid.x;
  let y = gid.y;
  let i = y * w + x;
  let u = vec2f(flow[i], flow[n + i]);
  let xl = y * w + select(x - 1u, 0u, x == 0u);
  let xr = y * w + min(x + 1u, w - 1u);
  let yu = select(y - 1u, 0u, y == 0u) * w + x;
  let yd = min(y + 1u, h - 1u) * w + x;
  let ux = 0.5 * (flow[xr] - flow[xl]);
  let uy = 0.5 * (flow[yd] - flow[yu]);
  let vx = 0.5 * (flow[n + xr] - flow[n + xl]);
  let vy = 0.5 * (flow[n + yd] - flow[n + yu]);
  let phi = robust_weight(ux * ux + uy * uy + vx * vx + vy * vy);
  var a = vec3f(0.0);
  var b = vec2f(0.0);
  let p = vec2f(f32(x), f32(y)) + u;
  if (inside_grid(p, w, h)) {
    let g0 = vec2f(grad0[i], grad0[n + i]);
    let g1 = vec2f(sample(p, 1u), sample(p, 2u));
    let ix = 0.5 * (g0.x + g1.x);
    let iy = 0.5 * (g0.y + g1.y);
    let iz = sample(p, 0u) - i0[i];
    let ex = vec2f(1.0, 0.0);
    let ey = vec2f(0.0, 1.0);
    let ixx = 0.5 * (sample(p + ex, 1u) - sample(p - ex, 1u));
    let iyy = 0.5 * (sample(p + ey, 2u) - sample(p - ey, 2u));
    let ixy = 0.25 * (sample(p + ey, 1u) - sample(p - ey, 1u) + sample(p + ex, 2u) - sample(p - ex, 2u));
    let ixz = g1.x - g0.x;
    let iyz = g1.y - g0.y;
    let wi = params.delta * robust_weight(iz * iz);
    let wg = params.gamma * robust_weight(ixz * ixz + iyz * iyz);
    a = vec3f(wi * ix * ix + wg * (ixx * ixx + ixy * ixy),
              wi * ix * iy + wg * ixy * (ixx + iyy),
              wi * iy * iy + wg * (ixy * ixy + iyy * iyy));
    b = -vec2f(wi * ix * iz + wg * (ixx * ixz + ixy * iyz),
               wi * iy * iz + wg * (ixy * ixz + iyy * iyz));
  }
  coefficients[i] = a.x;
  coefficients[n + i] = a.y;
  coefficients[2u * n + i] = a.z;
  coefficients[3u * n + i] = b.x;
  coefficients[4u * n + i] = b.y;
  coefficients[5u * n + i] = phi;
  increment[i] = 0.0;
  increment[n + i] = 0.0;
}
