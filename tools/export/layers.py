"""Building blocks of the Motion-I2V networks (our own code).

Parameter names follow diffusers 0.11 / AnimateDiff as used by the authors, so the
official checkpoints load with strict=True.  Everything works on the *frame-major*
layout (B*F, C, H, W): a "3D" (inflated) conv or norm is the 2D one applied per frame.
Temporal modules regroup to (B*H*W, F, C).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_sinusoid(t, dim=320, flip_sin_to_cos=True, shift=0.0, max_period=10000.0):
    """diffusers `get_timestep_embedding`: t (N,) float -> (N, dim)."""
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32) / (half - shift)
    freqs = torch.exp(exponent).to(t.dtype)
    args = t[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    return emb


def sinusoid_table(max_len, d_model):
    """AnimateDiff PositionalEncoding table: (1, max_len, d_model)."""
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(1, max_len, d_model)
    pe[0, :, 0::2] = torch.sin(position * div_term)
    pe[0, :, 1::2] = torch.cos(position * div_term)
    return pe


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, out_dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(out_dim, out_dim)

    def forward(self, x):
        return self.linear_2(self.act(self.linear_1(x)))


class ResnetBlock(nn.Module):
    """ResnetBlock3D (inflated) / VAE ResnetBlock2D. temb: (N, temb_channels) per frame or None."""

    def __init__(self, in_channels, out_channels, temb_channels, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=eps)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels) if temb_channels else None
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=eps)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Downsample(nn.Module):
    def __init__(self, channels, padding=1):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:  # VAE: asymmetric pad right/bottom
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def attention_query_rows(lq, lk, heads, images, score_bytes):
    """Query rows per chunk of a sliced attention: the most rows whose fp32 score tensor
    (images, heads, rows, lk) stays within score_bytes, evened out over the chunks that takes (the
    last chunk may be shorter). lq (one chunk) when score_bytes is None or the whole tensor fits; at
    least 1 row even when a single row is over the budget."""
    if not score_bytes:
        return lq
    rows = max(1, min(lq, score_bytes // (4 * images * heads * lk)))
    chunks = -(-lq // rows)
    return -(-lq // chunks)


def attention(q, k, v, heads, query_rows=None):
    """q (N, Lq, D), k/v (N, Lk, D) -> (N, Lq, D); softmax over keys, scale 1/sqrt(D/heads).

    With query_rows < Lq the queries are taken in chunks of that many rows (the last one shorter),
    each chunk's scores -> softmax -> @V computed on its own and the outputs concatenated: softmax
    is per query row, so the result is the same up to fp32 rounding, and the exported graph holds
    one chunk's score matrix at a time instead of the whole (N, heads, Lq, Lk) one."""
    n, lq, d = q.shape
    lk = k.shape[1]
    hd = d // heads
    q = q.reshape(n, lq, heads, hd).permute(0, 2, 1, 3)
    k = k.reshape(n, lk, heads, hd).permute(0, 2, 3, 1)
    v = v.reshape(n, lk, heads, hd).permute(0, 2, 1, 3)
    scale = 1.0 / math.sqrt(hd)
    rows = int(lq) if query_rows is None else min(int(query_rows), int(lq))
    outs = []
    # constant slices, not torch.split: its ONNX Split with unequal sizes fails in ORT-web
    # ("Split size 5 exceeds the remaining size of the selected axis, 4")
    for start in range(0, int(lq), rows):
        q_chunk = q[:, :, start : start + rows] if rows < lq else q
        w = torch.matmul(q_chunk, k) * scale
        w = torch.softmax(w, dim=-1)
        outs.append(torch.matmul(w, v))
    o = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)
    return o.permute(0, 2, 1, 3).reshape(n, lq, d)


class CrossAttention(nn.Module):
    """diffusers 0.11 CrossAttention: to_q/to_k/to_v without bias, to_out = [Linear, Dropout]."""

    def __init__(self, query_dim, heads, dim_head, cross_attention_dim=None, slicing=None):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        # (images, score_bytes): query-chunk the attention so that one chunk's scores over `images`
        # images (the largest batch the graph runs) hold at most score_bytes; None: one chunk
        self.slicing = slicing
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(cross_attention_dim or query_dim, inner, bias=False)
        self.to_v = nn.Linear(cross_attention_dim or query_dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim), nn.Dropout(0.0)])

    def forward(self, x, context=None):
        context = x if context is None else context
        rows = None
        if self.slicing is not None:
            rows = attention_query_rows(int(x.shape[1]), int(context.shape[1]), self.heads, *self.slicing)
        o = attention(self.to_q(x), self.to_k(context), self.to_v(context), self.heads, rows)
        return self.to_out[0](o)


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        inner = dim * mult
        self.net = nn.ModuleList([GEGLU(dim, inner), nn.Dropout(0.0), nn.Linear(inner, dim)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, dim_head, cross_attention_dim, slicing=None):
        super().__init__()
        self.attn1 = CrossAttention(dim, heads, dim_head, slicing=slicing)
        self.norm1 = nn.LayerNorm(dim)
        self.attn2 = CrossAttention(dim, heads, dim_head, cross_attention_dim, slicing=slicing)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer3DModel(nn.Module):
    """Spatial transformer applied per frame (proj_in/proj_out are 1x1 convs)."""

    def __init__(self, heads, dim_head, in_channels, groups, cross_attention_dim, slicing=None):
        super().__init__()
        inner = heads * dim_head
        self.norm = nn.GroupNorm(groups, in_channels, eps=1e-6)
        self.proj_in = nn.Conv2d(in_channels, inner, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(inner, heads, dim_head, cross_attention_dim, slicing)])
        self.proj_out = nn.Conv2d(inner, in_channels, 1)

    def forward(self, x, context):
        """x (B*F, C, H, W); context (B*F, L, D) (already repeated per frame)."""
        n, c, h, w = x.shape
        res = x
        x = self.proj_in(self.norm(x))
        inner = x.shape[1]
        x = x.permute(0, 2, 3, 1).reshape(n, h * w, inner)
        for blk in self.transformer_blocks:
            x = blk(x, context)
        x = x.reshape(n, h, w, inner).permute(0, 3, 1, 2)
        return self.proj_out(x) + res


class VersatileAttention(CrossAttention):
    """AnimateDiff temporal self-attention (+ sinusoidal position encoding buffer `pos_encoder.pe`)."""

    def __init__(self, dim, heads, dim_head, pe_max_len):
        super().__init__(dim, heads, dim_head)
        self.pos_encoder = PositionalEncoding(dim, pe_max_len)

    def forward(self, x):
        """x: (N, F, C) tokens (already LayerNorm'ed). Plain temporal attention (stage 1)."""
        x = self.pos_encoder(x)
        return super().forward(x)

    def forward_augmented(self, kv_in, n_frames):
        """Motion-augmented attention after the warp/interleave step (stage 2).

        kv_in: (N, 2F-1, C) interleaved tokens [h0, w1, h1, ..., w_{F-1}, h_{F-1}] WITHOUT position
        encoding. Queries from the originals (even positions) only. Returns (N, F, C)."""
        x = self.pos_encoder(kv_in)
        q = self.to_q(x[:, 0::2])
        o = attention(q, self.to_k(x), self.to_v(x), self.heads)
        return self.to_out[0](o)

    def project_augmented(self, tok, n_frames):
        """The exported order of forward_augmented (stage-2 cut), projections first.

        tok: (B*F, h, w, C) LayerNorm'ed tokens, frame-major.  Returns
          qkv (B*F, h, w, 3C) = tok @ [Wq|Wk|Wv]^T (no position encoding),
          kv0 (B, h, w, 2C)   = frame 0's [k|v] (what the browser warps),
          pe  (2F-1, 3C)      = pos_encoder.pe[:2F-1] @ [Wq|Wk|Wv]^T.
        Equal to forward_augmented's inputs because to_q/to_k/to_v have no bias and the avg splat is linear
        with holes exactly 0 (softsplat.motion_attention).  The PE table goes through the same weight
        initializer as the tokens, so every precision variant (q8 / q4 MatMuls) projects both alike."""
        n, hh, ww, c = tok.shape
        w = torch.cat([self.to_q.weight, self.to_k.weight, self.to_v.weight]).t()
        qkv = torch.matmul(tok, w)
        kv0 = qkv.reshape(n // n_frames, n_frames, hh, ww, 3 * c)[:, 0, :, :, c:]
        pe = torch.matmul(self.pos_encoder.pe[0, : 2 * n_frames - 1], w)
        return qkv, kv0, pe


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len):
        super().__init__()
        self.register_buffer("pe", sinusoid_table(max_len, d_model))

    def forward(self, x):
        return x + self.pe[:, : x.shape[1]]


class TemporalTransformerBlock(nn.Module):
    def __init__(self, dim, heads, dim_head, n_attn, pe_max_len):
        super().__init__()
        self.attention_blocks = nn.ModuleList([VersatileAttention(dim, heads, dim_head, pe_max_len) for _ in range(n_attn)])
        self.norms = nn.ModuleList([nn.LayerNorm(dim) for _ in range(n_attn)])
        self.ff = FeedForward(dim)
        self.ff_norm = nn.LayerNorm(dim)


class TemporalTransformer3DModel(nn.Module):
    def __init__(self, in_channels, heads, groups, n_attn, pe_max_len):
        super().__init__()
        dim_head = in_channels // heads
        inner = heads * dim_head
        self.norm = nn.GroupNorm(groups, in_channels, eps=1e-6)
        self.proj_in = nn.Linear(in_channels, inner)
        self.transformer_blocks = nn.ModuleList([TemporalTransformerBlock(inner, heads, dim_head, n_attn, pe_max_len)])
        self.proj_out = nn.Linear(inner, in_channels)


class VanillaTemporalModule(nn.Module):
    def __init__(self, in_channels, heads, groups, n_attn=2, pe_max_len=32):
        super().__init__()
        self.temporal_transformer = TemporalTransformer3DModel(in_channels, heads, groups, n_attn, pe_max_len)


def to_time_major(x, frames):
    """(B*F, HW, C) -> (B*HW, F, C)"""
    bf, hw, c = x.shape
    b = bf // frames
    return x.reshape(b, frames, hw, c).permute(0, 2, 1, 3).reshape(b * hw, frames, c)


def to_frame_major(x, frames, hw):
    """(B*HW, F, C) -> (B*F, HW, C)"""
    bhw, f, c = x.shape
    b = bhw // hw
    return x.reshape(b, hw, frames, c).permute(0, 2, 1, 3).reshape(b * frames, hw, c)
