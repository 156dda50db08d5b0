// common: helpers every kernel may use. gpu/kernels/common.ts prepends this file to every
// shader (WGSL has no includes). Pure functions only: nothing here names a binding.

// WGSL has no isfinite and compilers may assume no NaN: test the exponent bits.
fn is_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

// Whether a point q pushed with bilinear weights (a splat's landing point) puts any corner on
// the width x height grid: q finite, q.x in [-1, W), q.y in [-1, H). The test also keeps
// floor() of huge values away from the f32 -> i32 conversion.
fn lands_on_grid(q: vec2<f32>, width: u32, height: u32) -> bool {
  return is_finite(q.x) && is_finite(q.y) && q.x >= -1.0 && q.x < f32(width) &&
         q.y >= -1.0 && q.y < f32(height);
}

// Index of a workgroup in a grid from dispatchGrid (common.ts): X capped at the device's
// per-dimension limit, the rest in Y, X fastest. The last row may hold padding: callers guard.
fn grid_workgroup(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wg.y * nwg.x + wg.x;
}

// Index of an invocation in such a grid, `size` invocations per workgroup.
fn grid_invocation(wg: vec3<u32>, nwg: vec3<u32>, local: u32, size: u32) -> u32 {
  return grid_workgroup(wg, nwg) * size + local;
}

// Whether the thread at gid of an 8x8-tiled dispatch (tileGrid in common.ts: (ceil(W/8),
// ceil(H/8), planes)) owns a pixel, i.e. is not the padding past the grid.
fn in_tiled_grid(gid: vec3u, width: u32, height: u32, planes: u32) -> bool {
  return gid.x < width && gid.y < height && gid.z < planes;
}

// The pixel such a thread owns: `inside` as in_tiled_grid; `index` = y * W + x within its
// plane (z = `frame`) of `plane` = W * H pixels.
struct TiledPixel {
  inside: bool,
  frame: u32,
  index: u32,
  plane: u32,
}

fn tiled_pixel(gid: vec3u, width: u32, height: u32, planes: u32) -> TiledPixel {
  var p: TiledPixel;
  p.inside = in_tiled_grid(gid, width, height, planes);
  p.frame = gid.z;
  p.index = gid.y * width + gid.x;
  p.plane = width * height;
  return p;
}

// Cell-centred 2x upsampling: fine pixel (x, y) sits at coarse ((x + 0.5) / 2 - 0.5,
// (y + 0.5) / 2 - 0.5). The top-left tap of its bilinear footprint and the weights towards
// the next column and row; readers clamp the taps to the coarse grid.
struct UpsampleTaps {
  x0: i32,
  y0: i32,
  fx: f32,
  fy: f32,
}

fn upsample_taps(x: u32, y: u32) -> UpsampleTaps {
  let sx = (f32(x) + 0.5) * 0.5 - 0.5;
  let sy = (f32(y) + 0.5) * 0.5 - 0.5;
  var t: UpsampleTaps;
  t.x0 = i32(floor(sx));
  t.y0 = i32(floor(sy));
  t.fx = sx - f32(t.x0);
  t.fy = sy - f32(t.y0);
  return t;
}
