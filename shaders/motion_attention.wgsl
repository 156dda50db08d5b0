// Motion-augmented temporal attention (Motion-I2V stage 2), after the projections.
//
// Bindings (group 0), every tensor fp32, row-major, channels last, in units of vec4<f32>:
//   0 qkv    : [B, F, P, 3C]   projected ORIGINAL tokens of every frame, channels [q | k | v]
//                              (q = Wq h_f, k = Wk h_f, v = Wv h_f; no position encoding yet)
//   1 warped : [B, F-1, P, 2C] projected, forward-warped frame-0 tokens, channels [k | v]:
//                              warped[b, i-1] = splat_avg(Wk h_0 | Wv h_0, flow 0->i), i = 1..F-1;
//                              holes (pixels nothing lands on) are exactly 0
//   2 pe     : [>= 2F-1, 3C]   projected position table, row s = [Wq pe_s | Wk pe_s | Wv pe_s]
//   3 out    : [B, F, P, C]    attention output per query frame, heads concatenated
//                              (to_out, a Linear with bias, runs afterwards in ONNX)
//   4 params : uniform Params
// P = H*W pixels; B*P pixel-sequences. C % heads == 0 and head_dim % 4 == 0.
//
// Math, per pixel-sequence (b, p) and head h (d = head_dim, slice [h*d, (h+1)*d)):
//   the interleaved sequence is s = 0..2F-2: s even -> original frame s/2, s odd -> warped
//   frame (s+1)/2 (slot (s-1)/2 of `warped`). It is only INDEXED, never materialised.
//   Q_i = q[f=i] + pe_q[2i]                  (queries: originals only, i = 0..F-1)
//   K_s = k(s)   + pe_k[s],  V_s = v(s) + pe_v[s]   (keys/values: all 2F-1 positions)
//   S_is = scale * <Q_i, K_s>, scale = 1/sqrt(d)
//   out_i = sum_s softmax_s(S_is) V_s
// This equals AnimateDiff/Motion-I2V's to_q/to_k/to_v(x + pe) because the projections have
// no bias, and the avg-mode splat is linear in its input with holes exactly 0 (see
// src/gpu/kernels/motionAttention.ts for why the projections run before the warp, in ONNX).
//
// Softmax: the 31 scores of a row fit in workgroup memory, so each row's maximum and
// normaliser are found in ONE pass with the online recurrence (m' = max(m, s),
// l' = l * exp(m - m') + exp(s - m')), then probabilities exp(s - m) / l are written back.
// All exponents are <= 0: no overflow for any logit magnitude. fp32 throughout.
//
// Workgroup: WG threads, one workgroup per (pixel-sequence, head); workgroup w (linearised
// over a 2-D grid: w = grid_workgroup(wid, num_workgroups)) handles head w % heads of
// sequence w / heads. Dispatch: total = B*P*heads workgroups, split as
// x = min(total, maxComputeWorkgroupsPerDimension), y = ceil(total / x); w >= total returns.
// Channels are processed in chunks of CHUNK4 vec4s: Q and K chunks (then V chunks) are staged
// in workgroup memory, so every global value is read once per workgroup, coalesced.

struct Params {
  batch : u32,
  frames : u32,        // F: original frames (queries); 2F-1 keys
  pixels : u32,        // P = H*W
  c4 : u32,            // C / 4
  heads : u32,
  hd4 : u32,           // head_dim / 4
  total : u32,         // B * P * heads workgroups that do work
  scale : f32,         // 1 / sqrt(head_dim)
}

@group(0) @binding(0) var<storage, read> qkv : array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> warped : array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> pe : array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out : array<vec4<f32>>;
@group(0) @binding(4) var<uniform> params : Params;

override WG : u32 = 64;        // threads per workgroup
override CHUNK4 : u32 = 8;     // channel chunk staged in workgroup memory, in vec4s
override MAX_F : u32 = 16;     // most query frames (2*MAX_F-1 <= PE max_len 32)
const MAX_L : u32 = 32;        // score row stride (>= 2*MAX_F-1)
const MAX_R : u32 = 8;         // ceil(MAX_F * (2*MAX_F-1) / WG) for WG >= 64

var<workgroup> q_tile : array<vec4<f32>, MAX_F * CHUNK4>;
var<workgroup> kv_tile : array<vec4<f32>, 2u * MAX_F * CHUNK4>;   // K chunk, later V chunk
var<workgroup> scores : array<f32, MAX_F * MAX_L>;

// Key/value vec4 at interleaved position s, channel vec4 `ch` of the head slice; section 1 = k, 2 = v.
fn kv_at(b : u32, p : u32, s : u32, section : u32, ch : u32) -> vec4<f32> {
  let F = params.frames;
  let C4 = params.c4;
  var x : vec4<f32>;
  if ((s & 1u) == 0u) {
    let f = s >> 1u;
    x = qkv[((b * F + f) * params.pixels + p) * (3u * C4) + section * C4 + ch];
  } else {
    let slot = s >> 1u;  // (s-1)/2
    x = warped[((b * (F - 1u) + slot) * params.pixels + p) * (2u * C4) + (section - 1u) * C4 + ch];
  }
  return x + pe[s * (3u * C4) + section * C4 + ch];
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid : vec3<u32>,
  @builtin(num_workgroups) nwg : vec3<u32>,
  @builtin(local_invocation_index) lid : u32,
) {
  let w = grid_workgroup(wid, nwg);
  if (w >= params.total) {
    return;  // uniform per workgroup: padding of the rounded-up 2-D grid
  }
  let h = w % params.heads;
  let seq = w / params.heads;
  let b = seq / params.pixels;
  let p = seq % params.pixels;
  let F = params.frames;
  let L = 2u * F - 1u;
  let C4 = params.c4;
  let hd4 = params.hd4;
  let head0 = h * hd4;
  let pairs = F * L;

  // ---- scores S[i, s] = <Q_i, K_s>, accumulated over channel chunks ----
  var acc : array<f32, MAX_R>;
  for (var r = 0u; r < MAX_R; r++) { acc[r] = 0.0; }
  for (var c0 = 0u; c0 < hd4; c0 += CHUNK4) {
    for (var idx = lid; idx < F * CHUNK4; idx += WG) {
      let i = idx / CHUNK4;
      let ch = c0 + idx % CHUNK4;
      var v = vec4<f32>(0.0);
      if (ch < hd4) {
        v = qkv[((b * F + i) * params.pixels + p) * (3u * C4) + head0 + ch] + pe[(2u * i) * (3u * C4) + head0 + ch];
      }
      q_tile[idx] = v;
    }
    for (var idx = lid; idx < L * CHUNK4; idx += WG) {
      let s = idx / CHUNK4;
      let ch = c0 + idx % CHUNK4;
      var v = vec4<f32>(0.0);
      if (ch < hd4) {
        v = kv_at(b, p, s, 1u, head0 + ch);
      }
      kv_tile[idx] = v;
    }
    workgroupBarrier();
    for (var r = 0u; r < MAX_R; r++) {
      let pr = lid + r * WG;
      if (pr < pairs) {
        let i = pr / L;
        let s = pr % L;
        var d = 0.0;
        for (var j = 0u; j < CHUNK4; j++) {
          d += dot(q_tile[i * CHUNK4 + j], kv_tile[s * CHUNK4 + j]);
        }
        acc[r] += d;
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < MAX_R; r++) {
    let pr = lid + r * WG;
    if (pr < pairs) {
      scores[(pr / L) * MAX_L + pr % L] = acc[r] * params.scale;
    }
  }
  workgroupBarrier();

  // ---- softmax per query row: online max + normaliser in one pass, then probabilities ----
  if (lid < F) {
    let row = lid * MAX_L;
    var m = scores[row];
    var l = 1.0;
    for (var s = 1u; s < L; s++) {
      let x = scores[row + s];
      let m2 = max(m, x);
      l = l * exp(m - m2) + exp(x - m2);
      m = m2;
    }
    let inv = 1.0 / l;
    for (var s = 0u; s < L; s++) {
      scores[row + s] = exp(scores[row + s] - m) * inv;
    }
  }
  workgroupBarrier();

  // ---- out_i = sum_s P[i, s] V_s, per channel chunk ----
  for (var c0 = 0u; c0 < hd4; c0 += CHUNK4) {
    for (var idx = lid; idx < L * CHUNK4; idx += WG) {
      let s = idx / CHUNK4;
      let ch = c0 + idx % CHUNK4;
      var v = vec4<f32>(0.0);
      if (ch < hd4) {
        v = kv_at(b, p, s, 2u, head0 + ch);
      }
      kv_tile[idx] = v;
    }
    workgroupBarrier();
    for (var idx = lid; idx < F * CHUNK4; idx += WG) {
      let i = idx / CHUNK4;
      let j = idx % CHUNK4;
      let ch = c0 + j;
      if (ch < hd4) {
        var o = vec4<f32>(0.0);
        for (var s = 0u; s < L; s++) {
          o += scores[i * MAX_L + s] * kv_tile[s * CHUNK4 + j];
        }
        out[((b * F + i) * params.pixels + p) * C4 + head0 + ch] = o;
      }
    }
    workgroupBarrier();
  }
}
