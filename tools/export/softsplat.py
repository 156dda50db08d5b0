"""Softmax splatting (Niklaus & Liu 2020), "avg" mode, and the motion-augmented attention step.

Our own scatter/index_add implementation of the reference CUDA kernel:
for a source pixel p=(x, y) with flow (u, v) the target is q = (x+u, y+v); it is skipped if
not finite; with x0 = floor(qx), y0 = floor(qy), fx = qx - x0, fy = qy - y0 the four
neighbours (x0,y0), (x0+1,y0), (x0,y0+1), (x0+1,y0+1) receive weights
(1-fx)(1-fy), fx(1-fy), (1-fx)fy, fx*fy when inside the image.  "avg" splats [I, 1] and
divides: out = sum(w*I) / (sum(w) + 1e-7); pixels nothing lands on are 0.
"""
import math

import torch
import torch.nn.functional as F


def splat(x, flow, mode="avg", metric=None):
    """x (N, C, H, W), flow (N, 2, H, W) in pixels (dx, dy) -> (N, C, H, W)."""
    n, c, h, w = x.shape
    if mode == "avg":
        src = torch.cat([x, torch.ones_like(x[:, :1])], 1)
    elif mode == "linear":
        src = torch.cat([x * metric, metric], 1)
    elif mode == "soft":
        m = metric.clamp(-20.0, 20.0).exp()
        src = torch.cat([x * m, m], 1)
    elif mode == "sum":
        src = x
    else:
        raise ValueError(mode)
    cc = src.shape[1]
    gy, gx = torch.meshgrid(torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype), indexing="ij")
    qx = gx[None] + flow[:, 0]
    qy = gy[None] + flow[:, 1]
    finite = torch.isfinite(qx) & torch.isfinite(qy)
    qx = torch.where(finite, qx, torch.zeros_like(qx))
    qy = torch.where(finite, qy, torch.zeros_like(qy))
    x0 = torch.floor(qx)
    y0 = torch.floor(qy)
    fx = qx - x0
    fy = qy - y0
    x0 = x0.long()
    y0 = y0.long()
    vals = src.permute(0, 2, 3, 1).reshape(n * h * w, cc)
    acc = torch.zeros(n * h * w, cc, dtype=x.dtype)
    nidx = torch.arange(n).view(n, 1, 1).expand(n, h, w)
    for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        tx = x0 + dx
        ty = y0 + dy
        ok = finite & (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
        ok = ok.reshape(-1)
        idx = (nidx * h * w + ty.clamp(0, h - 1) * w + tx.clamp(0, w - 1)).reshape(-1)
        acc.index_add_(0, idx[ok], (vals * wgt.reshape(-1, 1))[ok])
    out = acc.reshape(n, h, w, cc).permute(0, 3, 1, 2)
    if mode == "sum":
        return out
    return out[:, :-1] / (out[:, -1:] + 1e-7)


def splat_naive(x, flow):
    """Per-pixel loop version of splat(..., 'avg') for tests."""
    n, c, h, w = x.shape
    acc = torch.zeros(n, c + 1, h, w, dtype=torch.float64)
    for b in range(n):
        for y in range(h):
            for xx in range(w):
                qx = xx + float(flow[b, 0, y, xx])
                qy = y + float(flow[b, 1, y, xx])
                if not (torch.isfinite(torch.tensor(qx)) and torch.isfinite(torch.tensor(qy))):
                    continue
                x0 = int(torch.floor(torch.tensor(qx)))
                y0 = int(torch.floor(torch.tensor(qy)))
                fx, fy = qx - x0, qy - y0
                for tx, ty, wgt in ((x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)),
                                    (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)):
                    if 0 <= tx < w and 0 <= ty < h:
                        acc[b, :c, ty, tx] += wgt * x[b, :, y, xx].double()
                        acc[b, c, ty, tx] += wgt
    return (acc[:, :c] / (acc[:, c:] + 1e-7)).to(x.dtype)


def resize_flow(flow, h, w):
    """Pixel flows (F, 2, H, W) -> feature-size flows (F, 2, h, w): bilinear, align_corners=False,
    then dx / (W / w), dy / (H / h) (exactly as the reference)."""
    H, W = flow.shape[-2:]
    fr = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
    return torch.stack([fr[:, 0] / (W / w), fr[:, 1] / (H / h)], 1)


def motion_tokens(tok, flow, frames, frame0_batch="same"):
    """Reference order of the motion-augmented tokens (before the projections): the interleaved kv of
    VersatileAttention.forward_augmented.  The export runs motion_attention instead (tests: equal).

    tok:  (B*F, h, w, C) LayerNorm'ed temporal-attention input tokens (frame-major).
    flow: (F, 2, H, W) pixel flows f(0->i), flow[0] = 0 (shared by all batch entries).
    Returns kv_in (B, 2F-1, h, w, C): slot 2i = tok frame i, slot 2i-1 = frame-0 tokens of the
    same batch entry forward-warped (softmax splat, avg) with flow i resized to (h, w).
    frame0_batch="reference_quirk" reproduces the authors' batch mixing (warp source batch
    (b*(F-1) + i-1) mod B), which only matters for B > 1 (classifier-free guidance)."""
    bf, h, w, c = tok.shape
    b = bf // frames
    t = tok.reshape(b, frames, h, w, c)
    fr = resize_flow(flow.to(tok.dtype), h, w)[1:]                       # (F-1, 2, h, w)
    src = t[:, 0].permute(0, 3, 1, 2)                                     # (B, C, h, w)
    if frame0_batch == "same":
        srcs = src[:, None].expand(b, frames - 1, c, h, w).reshape(b * (frames - 1), c, h, w)
    else:
        idx = torch.arange(b * (frames - 1)) % b
        srcs = src[idx]
    flows = fr[None].expand(b, frames - 1, 2, h, w).reshape(b * (frames - 1), 2, h, w)
    warped = splat(srcs, flows, "avg").reshape(b, frames - 1, c, h, w).permute(0, 1, 3, 4, 2)
    out = torch.empty(b, 2 * frames - 1, h, w, c, dtype=tok.dtype)
    out[:, 0::2] = t
    out[:, 1::2] = warped
    return out


def warp_frame0(kv0, flow, frames, frame0_batch="same"):
    """kv0 (B, h, w, D) channels-last maps of frame 0 (the projected [k|v], D = 2C), flow (F, 2, H, W) pixel
    flows -> (B, F-1, h, w, D): entry (b, i-1) = splat_avg(kv0[src], flow i resized to (h, w)), src = b ('same')
    or (b*(F-1) + i-1) mod B ('reference_quirk')."""
    b, h, w, d = kv0.shape
    fr = resize_flow(flow.to(kv0.dtype), h, w)[1:]                       # (F-1, 2, h, w)
    src = kv0.permute(0, 3, 1, 2)                                         # (B, D, h, w)
    if frame0_batch == "same":
        srcs = src[:, None].expand(b, frames - 1, d, h, w).reshape(b * (frames - 1), d, h, w)
    else:
        srcs = src[[frame0_source(bb, j, b, frames, frame0_batch) for bb in range(b) for j in range(frames - 1)]]
    flows = fr[None].expand(b, frames - 1, 2, h, w).reshape(b * (frames - 1), 2, h, w)
    return splat(srcs, flows, "avg").reshape(b, frames - 1, d, h, w).permute(0, 1, 3, 4, 2)


def motion_attention(qkv, kv0, pe, flow, frames, heads, frame0_batch="same"):
    """The part of a motion-augmented attention that the browser runs in WGSL (shaders/motion_attention.wgsl).

    qkv (B*F, h, w, 3C) projected tokens [q|k|v], kv0 (B, h, w, 2C) frame 0's [k|v], pe (2F-1, 3C) projected
    position table, flow (F, 2, H, W) pixel flows f(0->i), flow[0] = 0.  Returns
      warped (B, F-1, h, w, 2C): warp_frame0(kv0, flow);
      out    (B*F, h, w, C): per pixel and head, queries q_i + pe_q[2i] (originals), keys / values over the
             interleaved 2F-1 positions s (even: original s/2, odd: warped (s+1)/2) plus pe_k[s] / pe_v[s];
             softmax(QK^T / sqrt(head_dim)) V, heads concatenated (to_out runs in the next segment).
    Since splat_avg(W x) = W splat_avg(x) (linear, holes exactly 0) and the projections have no bias, this is
    forward_augmented(motion_tokens(tok)) before to_out."""
    bf, h, w, c3 = qkv.shape
    c, b, P = c3 // 3, bf // frames, h * w
    warped = warp_frame0(kv0, flow, frames, frame0_batch)
    t = qkv.reshape(b, frames, P, c3)
    wk = warped.reshape(b, frames - 1, P, 2 * c)
    kv = torch.empty(b, 2 * frames - 1, P, 2 * c, dtype=qkv.dtype)
    kv[:, 0::2] = t[..., c:]
    kv[:, 1::2] = wk
    q = (t[..., :c] + pe[0::2, None, :c]).permute(0, 2, 1, 3).reshape(b * P, frames, c)
    k = (kv[..., :c] + pe[:, None, c:2 * c]).permute(0, 2, 1, 3).reshape(b * P, 2 * frames - 1, c)
    v = (kv[..., c:] + pe[:, None, 2 * c:]).permute(0, 2, 1, 3).reshape(b * P, 2 * frames - 1, c)
    hd = c // heads
    q = q.reshape(b * P, frames, heads, hd).permute(0, 2, 1, 3)
    k = k.reshape(b * P, 2 * frames - 1, heads, hd).permute(0, 2, 3, 1)
    v = v.reshape(b * P, 2 * frames - 1, heads, hd).permute(0, 2, 1, 3)
    o = torch.matmul(torch.softmax(torch.matmul(q, k) * (1.0 / math.sqrt(hd)), dim=-1), v)   # (bP, heads, F, hd)
    o = o.permute(0, 2, 1, 3).reshape(b, h, w, frames, c).permute(0, 3, 1, 2, 4).reshape(bf, h, w, c)
    return warped, o


def motion_attention_step(frames, heads, frame0_batch="same"):
    """The step function of a cut; run_steps may pass another `frame0_batch` per call (the plan's field)."""
    def fn(qkv, kv0, pe, flow, frame0_batch=frame0_batch):
        return motion_attention(qkv, kv0, pe, flow, frames, heads, frame0_batch)
    return fn


def frame0_source(b, j, batch, frames, frame0_batch="same"):
    """The batch entry whose frame 0 entry b warps with flow j + 1 (j = 0 .. F-2), as warp_frame0 indexes it."""
    return b if frame0_batch == "same" else (b * (frames - 1) + j) % batch
