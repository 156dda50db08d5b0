"""Stage-1 / stage-2 3D UNets and the trajectory ControlNet, written as *programs*.

A network is a list of steps over a dict of named tensors.  Running every step is the
plain forward; the exporter cuts the list at the motion-augmented attentions (stage 2) and
a liveness analysis gives each ONNX segment its inputs/outputs.  So the segmented and the
unsplit module are literally the same code.

Layouts: UNet inputs/outputs are (B, C, F, H, W) like the reference; inside, frame-major
(B*F, C, H, W).  Temporal tokens are (B*F, H*W, C).
"""
from dataclasses import dataclass, field, replace
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from tools.export.layers import (Downsample, ResnetBlock, TimestepEmbedding, Transformer3DModel, Upsample,
                                 VanillaTemporalModule, timestep_sinusoid, to_frame_major, to_time_major)
from tools.export import softsplat


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = 4
    out_channels: int = 4
    block_out_channels: Tuple[int, ...] = (320, 640, 1280, 1280)
    layers_per_block: int = 2
    norm_num_groups: int = 32
    norm_eps: float = 1e-5
    cross_attention_dim: int = 768
    attention_heads: int = 8          # SD 1.5 "attention_head_dim: 8" = 8 heads
    mm_heads: int = 8
    mm_groups: int = 32               # AnimateDiff temporal GroupNorm (hard-coded 32 upstream)
    mm_pe_max_len: int = 32
    mm_attn_blocks: int = 2
    stride_embedding: bool = False    # stage 1 frame-stride MLP
    motion_augmented: bool = False    # stage 2 motion-augmented temporal attention
    frames: int = 16
    # Spatial attention sliced over query rows so that one chunk's fp32 scores at CFG batch 2
    # (2 * frames images) hold at most this many bytes (the default maxStorageBufferBindingSize,
    # 128 MiB); None: the whole score matrix at once
    attention_score_bytes: Optional[int] = 1 << 27


@dataclass
class Step:
    name: str
    fn: object
    reads: List[str]
    writes: List[str]
    kind: str = "torch"               # "torch" | "motion_attention"
    meta: dict = field(default_factory=dict)


def spatial_slicing(cfg):
    """(images, score_bytes) for the spatial attentions: budgeted at CFG batch 2 over every frame."""
    return None if cfg.attention_score_bytes is None else (2 * cfg.frames, cfg.attention_score_bytes)


def _has_attn_down(i, n):
    return i < n - 1


def _has_attn_up(i, n):
    return i > 0


class DownBlock(nn.Module):
    def __init__(self, cfg, cin, cout, temb, attn, down):
        super().__init__()
        L = cfg.layers_per_block
        self.resnets = nn.ModuleList([ResnetBlock(cin if j == 0 else cout, cout, temb, cfg.norm_num_groups, cfg.norm_eps) for j in range(L)])
        if attn:
            self.attentions = nn.ModuleList([Transformer3DModel(cfg.attention_heads, cout // cfg.attention_heads, cout, cfg.norm_num_groups, cfg.cross_attention_dim, spatial_slicing(cfg)) for _ in range(L)])
        self.motion_modules = nn.ModuleList([VanillaTemporalModule(cout, cfg.mm_heads, cfg.mm_groups, cfg.mm_attn_blocks, cfg.mm_pe_max_len) for _ in range(L)])
        if down:
            self.downsamplers = nn.ModuleList([Downsample(cout, padding=1)])


class UpBlock(nn.Module):
    def __init__(self, cfg, cin, cout, prev, temb, attn, up):
        super().__init__()
        L = cfg.layers_per_block + 1
        res = []
        for j in range(L):
            skip = cin if j == L - 1 else cout
            rin = prev if j == 0 else cout
            res.append(ResnetBlock(rin + skip, cout, temb, cfg.norm_num_groups, cfg.norm_eps))
        self.resnets = nn.ModuleList(res)
        if attn:
            self.attentions = nn.ModuleList([Transformer3DModel(cfg.attention_heads, cout // cfg.attention_heads, cout, cfg.norm_num_groups, cfg.cross_attention_dim, spatial_slicing(cfg)) for _ in range(L)])
        self.motion_modules = nn.ModuleList([VanillaTemporalModule(cout, cfg.mm_heads, cfg.mm_groups, cfg.mm_attn_blocks, cfg.mm_pe_max_len) for _ in range(L)])
        if up:
            self.upsamplers = nn.ModuleList([Upsample(cout)])


class MidBlock(nn.Module):
    def __init__(self, cfg, c, temb):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(c, c, temb, cfg.norm_num_groups, cfg.norm_eps) for _ in range(2)])
        self.attentions = nn.ModuleList([Transformer3DModel(cfg.attention_heads, c // cfg.attention_heads, c, cfg.norm_num_groups, cfg.cross_attention_dim, spatial_slicing(cfg))])
        self.motion_modules = nn.ModuleList([VanillaTemporalModule(c, cfg.mm_heads, cfg.mm_groups, cfg.mm_attn_blocks, cfg.mm_pe_max_len)])


class _ProgramBuilder:
    """Collects steps; `w(key)` gives a fresh SSA name for a state key, `r(key)` the current one."""

    def __init__(self):
        self.steps: List[Step] = []
        self.ver = {}

    def r(self, key):
        v = self.ver.get(key)
        return key if v is None else f"{key}_{v}"

    def w(self, key):
        self.ver[key] = self.ver.get(key, -1) + 1
        return f"{key}_{self.ver[key]}"

    def add(self, name, fn, reads, writes, kind="torch", **meta):
        self.steps.append(Step(name, fn, reads, writes, kind, meta))


def run_steps(steps, env, flow=None, frame0_batch="same"):
    """Run steps on env (dict name->tensor).  motion_attention steps use `flow` (F, 2, H, W) pixels and take frame 0
    from the batch entries as `frame0_batch` says (softsplat.warp_frame0)."""
    for s in steps:
        args = [env[k] for k in s.reads]
        if s.kind == "motion_attention":
            outs = s.fn(*args, flow, frame0_batch)
        else:
            outs = s.fn(*args)
        if not isinstance(outs, (tuple, list)):
            outs = (outs,)
        for k, v in zip(s.writes, outs):
            env[k] = v
    return env


def _temporal_module_steps(pb, mm, prefix, cfg, hw_key, motion_augmented, frames):
    tt = mm.temporal_transformer
    blk = tt.transformer_blocks[0]
    hkey = pb.r("h")

    def mm_in(h):
        # (B*F, C, h, w) -> tokens (B*F, h, w, C)
        return tt.proj_in(tt.norm(h).permute(0, 2, 3, 1))
    x_name = pb.w("x")
    pb.add(f"{prefix}.in", mm_in, [hkey], [x_name])
    for j, (attn, norm) in enumerate(zip(blk.attention_blocks, blk.norms)):
        if not motion_augmented:
            def tattn(x, attn=attn, norm=norm):
                n, hh, ww, c = x.shape
                t = to_time_major(norm(x).reshape(n, hh * ww, c), frames)
                return to_frame_major(attn(t), frames, hh * ww).reshape(n, hh, ww, c) + x
            xi = pb.r("x")
            pb.add(f"{prefix}.attn{j}", tattn, [xi], [pb.w("x")])
        else:
            # Cut (tools/export/README.md "Stage-2 cut"): the segment before projects the LayerNorm'ed tokens
            # with [Wq|Wk|Wv]; the browser warps frame 0's [k|v] and runs the attention (WGSL); the segment
            # after applies to_out and the residual.
            xi = pb.r("x")
            qkv, kv0, pe = pb.w("qkv"), pb.w("kv0"), pb.w("pe")
            pb.add(f"{prefix}.qkv{j}", lambda x, attn=attn, norm=norm: attn.project_augmented(norm(x), frames),
                   [xi], [qkv, kv0, pe])
            warped, ao = pb.w("warped"), pb.w("attn")
            pb.add(f"{prefix}.motion{j}", softsplat.motion_attention_step(frames, attn.heads), [qkv, kv0, pe],
                   [warped, ao], kind="motion_attention",
                   module=f"{prefix}.temporal_transformer.transformer_blocks.0.attention_blocks.{j}",
                   heads=attn.heads, channels=attn.to_q.in_features)
            pb.add(f"{prefix}.attn{j}", lambda o, x, attn=attn: attn.to_out[0](o) + x, [ao, xi], [pb.w("x")])
    xi = pb.r("x")
    pb.add(f"{prefix}.ff", lambda x: blk.ff(blk.ff_norm(x)) + x, [xi], [pb.w("x")])

    def mm_out(x, h):
        return tt.proj_out(x).permute(0, 3, 1, 2) + h
    xi = pb.r("x")
    pb.add(f"{prefix}.out", mm_out, [xi, hkey], [pb.w("h")])


class UNet3DConditionModel(nn.Module):
    """Stage-1 (stride_embedding=True) or stage-2 (motion_augmented=True) UNet."""

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        ch = cfg.block_out_channels
        n = len(ch)
        temb = ch[0] * 4
        self.conv_in = nn.Conv2d(cfg.in_channels, ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        if cfg.stride_embedding:
            self.stride_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        cout = ch[0]
        for i in range(n):
            cin, cout = cout, ch[i]
            self.down_blocks.append(DownBlock(cfg, cin, cout, temb, _has_attn_down(i, n), i < n - 1))
        self.mid_block = MidBlock(cfg, ch[-1], temb)
        rch = list(reversed(ch))
        prev = rch[0]
        self.up_blocks = nn.ModuleList()
        for i in range(n):
            cout = rch[i]
            cin = rch[min(i + 1, n - 1)]
            self.up_blocks.append(UpBlock(cfg, cin, cout, prev, temb, _has_attn_up(i, n), i < n - 1))
            prev = cout
        self.conv_norm_out = nn.GroupNorm(cfg.norm_num_groups, ch[0], eps=cfg.norm_eps)
        self.conv_out = nn.Conv2d(ch[0], cfg.out_channels, 3, padding=1)

    # ---- names of the inputs of the program ----
    def input_names(self, with_control=False):
        names = ["sample", "timestep", "encoder_hidden_states"]
        if self.cfg.stride_embedding:
            names.append("stride")
        if with_control:
            names += [f"down_residual_{i}" for i in range(self.num_down_residuals())] + ["mid_residual"]
        return names

    def num_down_residuals(self):
        n = len(self.cfg.block_out_channels)
        return 1 + n * self.cfg.layers_per_block + (n - 1)

    def program(self, with_control=False):
        cfg = self.cfg
        F_ = cfg.frames
        pb = _ProgramBuilder()
        ch0 = cfg.block_out_channels[0]

        def embed(t, *stride):
            b = t.shape[0]
            temb = self.time_embedding(timestep_sinusoid(t, ch0))               # (B, T)
            if cfg.stride_embedding:
                s = stride[0].reshape(-1)
                semb = self.stride_embedding(timestep_sinusoid(s, ch0)).reshape(b, F_, -1)
                e = temb[:, None, :] + semb
            elif cfg.motion_augmented:
                one = self.time_embedding(timestep_sinusoid(torch.ones_like(t), ch0))
                e = torch.cat([one[:, None, :], temb[:, None, :].expand(b, F_ - 1, temb.shape[1])], dim=1)
            else:
                e = temb[:, None, :].expand(b, F_, temb.shape[1])
            return e.reshape(b * F_, -1)
        pb.add("embed", embed, ["timestep"] + (["stride"] if cfg.stride_embedding else []), [pb.w("emb")])

        def ctx_fn(c):
            b, l, d = c.shape
            return c[:, None].expand(b, F_, l, d).reshape(b * F_, l, d)
        pb.add("context", ctx_fn, ["encoder_hidden_states"], [pb.w("ctx")])

        def conv_in(x):
            b, c, f, h, w = x.shape
            return self.conv_in(x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w))
        pb.add("conv_in", conv_in, ["sample"], [pb.w("h")])
        skips = []
        skip_i = [0]

        def push():
            name = f"skip{skip_i[0]}"
            skip_i[0] += 1
            src = pb.r("h")
            pb.add(f"save_{name}", lambda h: h, [src], [pb.w(name)])
            skips.append(pb.r(name))
        push()
        self._down_mid_steps(pb, push, cfg.motion_augmented)
        if with_control:
            for k in range(len(skips)):
                nm = skips[k]
                new = pb.w(nm.rsplit("_", 1)[0])
                pb.add(f"control_add{k}", lambda a, r: a + r, [nm, f"down_residual_{k}"], [new])
                skips[k] = new
            pb.add("control_add_mid", lambda a, r: a + r, [pb.r("h"), "mid_residual"], [pb.w("h")])
        for i, blk in enumerate(self.up_blocks):
            for j, res in enumerate(blk.resnets):
                sk = skips.pop()
                pb.add(f"up_blocks.{i}.cat{j}", lambda h, s: torch.cat([h, s], dim=1), [pb.r("h"), sk], [pb.w("h")])
                self._layer_steps(pb, blk, f"up_blocks.{i}", j, cfg.motion_augmented)
            if hasattr(blk, "upsamplers"):
                pb.add(f"up_blocks.{i}.upsamplers.0", blk.upsamplers[0], [pb.r("h")], [pb.w("h")])

        def out(h):
            bf, c, hh, ww = h.shape
            y = self.conv_out(F.silu(self.conv_norm_out(h)))
            return y.reshape(bf // F_, F_, -1, hh, ww).permute(0, 2, 1, 3, 4)
        pb.add("conv_out", out, [pb.r("h")], ["noise_pred"])
        return pb.steps

    def _layer_steps(self, pb, blk, prefix, j, aug):
        pb.add(f"{prefix}.resnets.{j}", blk.resnets[j], [pb.r("h"), "emb_0"], [pb.w("h")])
        if hasattr(blk, "attentions"):
            pb.add(f"{prefix}.attentions.{j}", blk.attentions[j], [pb.r("h"), "ctx_0"], [pb.w("h")])
        _temporal_module_steps(pb, blk.motion_modules[j], f"{prefix}.motion_modules.{j}", self.cfg, None, aug, self.cfg.frames)

    def _down_mid_steps(self, pb, push, aug):
        for i, blk in enumerate(self.down_blocks):
            for j in range(len(blk.resnets)):
                self._layer_steps(pb, blk, f"down_blocks.{i}", j, aug)
                push()
            if hasattr(blk, "downsamplers"):
                pb.add(f"down_blocks.{i}.downsamplers.0", blk.downsamplers[0], [pb.r("h")], [pb.w("h")])
                push()
        mb = self.mid_block
        pb.add("mid_block.resnets.0", mb.resnets[0], [pb.r("h"), "emb_0"], [pb.w("h")])
        pb.add("mid_block.attentions.0", mb.attentions[0], [pb.r("h"), "ctx_0"], [pb.w("h")])
        _temporal_module_steps(pb, mb.motion_modules[0], "mid_block.motion_modules.0", self.cfg, None, aug, self.cfg.frames)
        pb.add("mid_block.resnets.1", mb.resnets[1], [pb.r("h"), "emb_0"], [pb.w("h")])

    def forward(self, sample, timestep, encoder_hidden_states, stride=None, down_residuals=None, mid_residual=None, flow=None,
                frame0_batch="same"):
        env = {"sample": sample, "timestep": timestep, "encoder_hidden_states": encoder_hidden_states}
        if stride is not None:
            env["stride"] = stride
        with_control = down_residuals is not None
        if with_control:
            for i, r in enumerate(down_residuals):
                env[f"down_residual_{i}"] = r
            env["mid_residual"] = mid_residual
        run_steps(self.program(with_control), env, flow, frame0_batch)
        return env["noise_pred"]


class ControlNetConditioningEmbedding(nn.Module):
    def __init__(self, out_channels, cond_channels=5, hidden=512):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv3d(cond_channels, hidden, (1, 3, 3), padding=(0, 1, 1)), nn.SiLU(),
                                    nn.Conv3d(hidden, out_channels, (1, 3, 3), padding=(0, 1, 1)))

    def forward(self, c):
        return self.layers(c)


class ControlNetModel(nn.Module):
    """Trajectory ControlNet: copy of the stage-1 encoder + 5-channel condition encoder + zero 1x1 convs."""

    def __init__(self, cfg: UNetConfig, cond_hidden=512):
        super().__init__()
        self.cfg = cfg
        ch = cfg.block_out_channels
        n = len(ch)
        temb = ch[0] * 4
        self.conv_in = nn.Conv2d(cfg.in_channels, ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.stride_embedding = TimestepEmbedding(ch[0], temb)
        self.controlnet_cond_embedding = ControlNetConditioningEmbedding(ch[0], 5, cond_hidden)
        self.down_blocks = nn.ModuleList()
        blocks = [nn.Conv2d(ch[0], ch[0], 1)]
        cout = ch[0]
        for i in range(n):
            cin, cout = cout, ch[i]
            self.down_blocks.append(DownBlock(cfg, cin, cout, temb, _has_attn_down(i, n), i < n - 1))
            blocks += [nn.Conv2d(cout, cout, 1) for _ in range(cfg.layers_per_block)]
            if i < n - 1:
                blocks.append(nn.Conv2d(cout, cout, 1))
        self.controlnet_down_blocks = nn.ModuleList(blocks)
        self.controlnet_mid_block = nn.Conv2d(ch[-1], ch[-1], 1)
        self.mid_block = MidBlock(cfg, ch[-1], temb)

    _layer_steps = UNet3DConditionModel._layer_steps
    _down_mid_steps = UNet3DConditionModel._down_mid_steps

    def input_names(self):
        return ["sample", "timestep", "encoder_hidden_states", "stride", "control", "control_scale"]

    def output_names(self):
        return [f"down_residual_{i}" for i in range(len(self.controlnet_down_blocks))] + ["mid_residual"]

    def program(self):
        cfg = self.cfg
        F_ = cfg.frames
        ch0 = cfg.block_out_channels[0]
        pb = _ProgramBuilder()

        def embed(t, stride):
            b = t.shape[0]
            temb = self.time_embedding(timestep_sinusoid(t, ch0))
            semb = self.stride_embedding(timestep_sinusoid(stride.reshape(-1), ch0)).reshape(b, F_, -1)
            return (temb[:, None, :] + semb).reshape(b * F_, -1)
        pb.add("embed", embed, ["timestep", "stride"], [pb.w("emb")])

        def ctx_fn(c):
            b, l, d = c.shape
            return c[:, None].expand(b, F_, l, d).reshape(b * F_, l, d)
        pb.add("context", ctx_fn, ["encoder_hidden_states"], [pb.w("ctx")])

        def conv_in(x, c):
            b, ci, f, h, w = x.shape
            y = self.conv_in(x.permute(0, 2, 1, 3, 4).reshape(b * f, ci, h, w))
            e = self.controlnet_cond_embedding(c)             # (B, C, F, h, w)
            return y + e.permute(0, 2, 1, 3, 4).reshape(b * f, -1, h, w)
        pb.add("conv_in", conv_in, ["sample", "control"], [pb.w("h")])
        skips = []

        def push():
            k = len(skips)
            name = f"skip{k}"
            pb.add(f"save_{name}", lambda h: h, [pb.r("h")], [pb.w(name)])
            skips.append(pb.r(name))
        push()
        self._down_mid_steps(pb, push, False)

        def outs(*a):
            *ss, mid, scale = a
            res = [blk(s) * scale for blk, s in zip(self.controlnet_down_blocks, ss)]
            return tuple(res) + (self.controlnet_mid_block(mid) * scale,)
        pb.add("residuals", outs, skips + [pb.r("h"), "control_scale"], self.output_names())
        return pb.steps

    def forward(self, sample, timestep, encoder_hidden_states, stride, control, control_scale):
        env = dict(zip(self.input_names(), [sample, timestep, encoder_hidden_states, stride, control, control_scale]))
        run_steps(self.program(), env)
        return [env[k] for k in self.output_names()]
