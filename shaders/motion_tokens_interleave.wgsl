// motion_tokens_interleave: the `kv` layout stage 2 passes between the ONNX segments around a
// motion-augmented attention (tools/export/README.md, "The WGSL step"): per batch entry b,
//   kv[b, 2i]     = tok[b F + i]                  i = 0..F-1 (the original frames)
//   kv[b, 2i - 1] = warped[src(b, i), i - 1]      i = 1..F-1 (frame 0 warped by flow i)
// with src(b, i) = b (frame0_batch 'same': each entry warps its own frame 0) or
// (b (F-1) + i - 1) mod B ('reference_quirk': the authors' batch mixing under guidance).
// A row is one frame's tokens, P x C floats (channels last); rows are copied bit for bit.
// Bindings (group 0):
//   0 uniform Params { batch, frames, row (P * C), quirk (1 = reference_quirk) }
//   1 storage read tok    f32 [B F, P, C]
//   2 storage read warped f32 [B, F - 1, P, C] (every entry's frame 0 splatted by flows 1..F-1)
//   3 storage rw   kv     f32 [B, 2F - 1, P, C]
// One invocation per kv element, id = (b (2F-1) + s) row + e, WG per workgroup; the grid is
// split by dispatchGrid (common.ts), id = grid_invocation(wg, num_wg, local, WG).

struct Params {
  batch: u32,
  frames: u32,
  row: u32,
  quirk: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tok: array<f32>;
@group(0) @binding(2) var<storage, read> warped: array<f32>;
@group(0) @binding(3) var<storage, read_write> kv: array<f32>;

override WG: u32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let id = grid_invocation(wg, nwg, local, WG);
  let F = params.frames;
  let slots = 2u * F - 1u;
  if (id >= params.batch * slots * params.row) {
    return;
  }
  let e = id % params.row;
  let bs = id / params.row;
  let s = bs % slots;
  let b = bs / slots;
  let i = (s + 1u) / 2u;
  if (s % 2u == 0u) {
    kv[id] = tok[(b * F + i) * params.row + e];
    return;
  }
  let src = select(b, (b * (F - 1u) + i - 1u) % params.batch, params.quirk == 1u);
  kv[id] = warped[(src * (F - 1u) + i - 1u) * params.row + e];
}
