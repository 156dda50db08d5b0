// Region flows: the dense flow of every pixel in a rigid or shape-preserving brush region,
// written over the fluid solve's output (the solve pins those pixels at zero; this pass
// replaces them). Pixels outside every region are left as they are.
// Per pixel v = (x, y) (pixel index = position, as the densify constraints) in region r, at
// frame f:
//   rigid (mode 0): T = transforms[f, r] = (a, b, tx, ty), the least-squares similarity of the
//     region's handles fitted on the CPU; flow = (a x - b y + tx, b x + a y + ty) - v.
//   shape (mode 1): rigid moving least squares (Schaefer, McPhail and Warren 2006, alpha = 1)
//     over the region's handles p_i -> q_i = p_i + handle_disp[f, i]:
//       w_i = 1 / |p_i - v|^2, p* = sum w p / sum w, q* = sum w q / sum w,
//       the rotation R(theta) minimising sum w_i |R (p_i - p*) - (q_i - q*)|^2:
//       cos, sin = S, C normalised, S = sum w (p^ . q^), C = sum w (p^ x q^);
//       f(v) = R (v - p*) + q*  (equal to the paper's |v - p*| frot / |frot| + q*),
//       flow = f(v) - v; at a handle (|p_i - v|^2 < 1e-6) flow = q_i - p_i exactly;
//       with one handle (or none turning: S = C = 0) R = I, a translation.
//   A region with no handle: flow 0.
// Bindings (group 0):
//   0 uniform Params { width, height, frames F, handle_count Hc }
//   1 storage read region_of   i32 [H, W]: region index or -1
//   2 storage read regions     vec4<u32> [R]: (mode, first handle, handle count, unused)
//   3 storage read handles     vec2<f32> [Hc]: positions at frame 0
//   4 storage read handle_disp vec2<f32> [F, Hc]
//   5 storage read transforms  vec4<f32> [F, R]
//   6 storage rw   flows       f32 [F, 2, H, W] (dx plane then dy plane per frame)
// Dispatch: tileGrid (common.ts), (ceil(W / 8), ceil(H / 8), F), one invocation per pixel and frame.

struct Params {
  width: u32,
  height: u32,
  frames: u32,
  handle_count: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> region_of: array<i32>;
@group(0) @binding(2) var<storage, read> regions: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> handles: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> handle_disp: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> transforms: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> flows: array<f32>;

const MODE_RIGID: u32 = 0u;

fn mls_flow(v: vec2<f32>, first: u32, count: u32, frame: u32) -> vec2<f32> {
  let disp_base = frame * params.handle_count;
  var wsum = 0.0;
  var pstar = vec2<f32>(0.0);
  var qstar = vec2<f32>(0.0);
  for (var i = 0u; i < count; i++) {
    let p = handles[first + i];
    let d = handle_disp[disp_base + first + i];
    let e = p - v;
    let d2 = dot(e, e);
    if (d2 < 1e-6) {
      return d;
    }
    let w = 1.0 / d2;
    wsum += w;
    pstar += w * p;
    qstar += w * (p + d);
  }
  pstar /= wsum;
  qstar /= wsum;
  var s = 0.0;
  var c = 0.0;
  for (var i = 0u; i < count; i++) {
    let p = handles[first + i];
    let ph = p - pstar;
    let qh = p + handle_disp[disp_base + first + i] - qstar;
    let w = 1.0 / dot(p - v, p - v);
    s += w * dot(ph, qh);
    c += w * (ph.x * qh.y - ph.y * qh.x);
  }
  let n = sqrt(s * s + c * c);
  var cs = 1.0;
  var sn = 0.0;
  if (n > 1e-20) {
    cs = s / n;
    sn = c / n;
  }
  let dv = v - pstar;
  let f = vec2<f32>(cs * dv.x - sn * dv.y, sn * dv.x + cs * dv.y) + qstar;
  return f - v;
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let px = tiled_pixel(gid, params.width, params.height, params.frames);
  if (!px.inside) {
    return;
  }
  let r = region_of[px.index];
  if (r < 0) {
    return;
  }
  let info = regions[u32(r)];
  let v = vec2<f32>(f32(gid.x), f32(gid.y));
  var flow = vec2<f32>(0.0);
  if (info.z > 0u) {
    if (info.x == MODE_RIGID) {
      let t = transforms[px.frame * arrayLength(&regions) + u32(r)];
      flow = vec2<f32>(t.x * v.x - t.y * v.y + t.z, t.y * v.x + t.x * v.y + t.w) - v;
    } else {
      flow = mls_flow(v, info.y, info.z, px.frame);
    }
  }
  let base = px.frame * 2u * px.plane + px.index;
  flows[base] = flow.x;
  flows[base + px.plane] = flow.y;
}
