// fill_holes_background: level 0 of background-only pull-push: the splat's colour with a weight
// that keeps only the background layer (fill_holes_layers.wgsl's maxima), so holes are filled
// from what lies behind the content that left them, never from that content itself.
// Params (binding 0): image_params.wgsl, prepended by fillHoles.ts.
// Fields read: width, height, frames.
// splat: [F, 4, H, W] premultiplied colour + coverage a.
@group(0) @binding(1) var<storage, read> splat: array<f32>;
// landed: [F, H, W], occluder: [F]: u32 bits of non-negative float metrics (fill_holes_layers).
@group(0) @binding(2) var<storage, read> landed: array<u32>;
@group(0) @binding(3) var<storage, read> occluder: array<u32>;
// level0: [F, 4, H, W] out: colour (not premultiplied) and signed background weight: a on the
// background, -a on the front layers (pull and push clamp it to 0; the patch fill reads
// weight <= -0.999 as "covered by moving content: not a hole, not a source").
@group(0) @binding(4) var<storage, read_write> level0: array<f32>;

// Background: the largest moving metric landing on q is at most BACKGROUND_FRACTION of the
// largest metric that left a hole in this frame (the nearest occluder's layer and anything in
// front of it are excluded; static content, metric 0, is always background). A frame without
// holes keeps every pixel. weight = a when background, else -a; colour = splat / a (0 if a = 0).
// The coarser levels are pulled from this one with fill_holes_pull.wgsl (premultiplied = 0).
const BACKGROUND_FRACTION: f32 = 0.5;
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let px = frame_pixel(gid);
  if (!px.inside) { return; }
  let n = px.plane;
  let i = px.frame * 4u * n + px.index;
  let a = clamp(splat[i + 3u * n], 0.0, 1.0);
  var colour = vec3f(0.0);
  if (a > 0.0) { colour = vec3f(splat[i], splat[i + n], splat[i + 2u * n]) / a; }
  let limit = BACKGROUND_FRACTION * bitcast<f32>(occluder[px.frame]);
  let front = bitcast<f32>(landed[px.frame * n + px.index]);
  let background = occluder[px.frame] == 0u || front <= limit;
  level0[i] = colour.x;
  level0[i + n] = colour.y;
  level0[i + 2u * n] = colour.z;
  level0[i + 3u * n] = select(-a, a, background);
}
