// fill_holes_push: one "push" step of pull-push hole filling: where the fine level's weight is
// below 1, blend in the (already filled) coarser level, interpolated bilinearly.
// Params (binding 0): image_params.wgsl, prepended by image.ts.
// Fields read: width, height (fine level), coarse_width, coarse_height, frames.
// fine: [F, 4, H, W] colour + weight; the colour is filled in place, the weight is kept (the
// patch fill reads it as "known").
@group(0) @binding(1) var<storage, read_write> fine: array<f32>;
// coarse: [F, 4, Hc, Wc], colour filled everywhere (its weight plane is not read).
@group(0) @binding(2) var<storage, read> coarse: array<f32>;

// colour = a * colour + (1 - a) * bilinear(coarse), a = fine weight; cell-centred sampling at
// ((x + 0.5) / 2 - 0.5, (y + 0.5) / 2 - 0.5), clamped to the coarse grid.
// Workgroup 8x8; dispatch (ceil(W/8), ceil(H/8), F).

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let px = frame_pixel(gid);
  if (!px.inside) { return; }
  let n = px.plane;
  let i = px.frame * 4u * n + px.index;
  let a = clamp(fine[i + 3u * n], 0.0, 1.0);
  if (a >= 1.0) { return; }
  let cw = params.coarse_width;
  let ch = params.coarse_height;
  let up = coarse_upsample_rgb(gid.x, gid.y, px.frame * 4u * cw * ch, cw, ch);
  let c = a * vec3f(fine[i], fine[i + n], fine[i + 2u * n]) + (1.0 - a) * up;
  fine[i] = c.x;
  fine[i + n] = c.y;
  fine[i + 2u * n] = c.z;
}
