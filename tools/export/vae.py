"""AutoencoderKL (diffusers 0.11 names: mid-block attention uses group_norm/query/key/value/proj_attn).

Used for the SD image VAE (3 channels) and the flow VAE (2 channels)."""
from dataclasses import dataclass
from typing import Tuple

import math
import torch
import torch.nn as nn
import torch.nn.functional as F

from tools.export.layers import Downsample, ResnetBlock, Upsample


@dataclass(frozen=True)
class VAEConfig:
    in_channels: int = 3
    out_channels: int = 3
    block_out_channels: Tuple[int, ...] = (128, 256, 512, 512)
    layers_per_block: int = 2
    latent_channels: int = 4
    norm_num_groups: int = 32


class AttentionBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.query = nn.Linear(c, c)
        self.key = nn.Linear(c, c)
        self.value = nn.Linear(c, c)
        self.proj_attn = nn.Linear(c, c)

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.group_norm(x).reshape(n, c, h * w).transpose(1, 2)
        q, k, v = self.query(t), self.key(t), self.value(t)
        a = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * (1.0 / math.sqrt(c)), dim=-1)
        o = self.proj_attn(torch.matmul(a, v))
        return o.transpose(1, 2).reshape(n, c, h, w) + x


class MidBlock2D(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(c, c, None, groups, 1e-6) for _ in range(2)])
        self.attentions = nn.ModuleList([AttentionBlock(c, groups)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class _Block(nn.Module):
    pass


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, g = cfg.block_out_channels, cfg.norm_num_groups
        self.conv_in = nn.Conv2d(cfg.in_channels, ch[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        cout = ch[0]
        for i, c in enumerate(ch):
            cin, cout = cout, c
            blk = _Block()
            blk.resnets = nn.ModuleList([ResnetBlock(cin if j == 0 else cout, cout, None, g, 1e-6) for j in range(cfg.layers_per_block)])
            if i < len(ch) - 1:
                blk.downsamplers = nn.ModuleList([Downsample(cout, padding=0)])
            self.down_blocks.append(blk)
        self.mid_block = MidBlock2D(ch[-1], g)
        self.conv_norm_out = nn.GroupNorm(g, ch[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(ch[-1], 2 * cfg.latent_channels, 3, padding=1)

    def forward(self, x):
        x = self.conv_in(x)
        for blk in self.down_blocks:
            for r in blk.resnets:
                x = r(x)
            if hasattr(blk, "downsamplers"):
                x = blk.downsamplers[0](x)
        x = self.mid_block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, g = cfg.block_out_channels, cfg.norm_num_groups
        rch = list(reversed(ch))
        self.conv_in = nn.Conv2d(cfg.latent_channels, rch[0], 3, padding=1)
        self.mid_block = MidBlock2D(rch[0], g)
        self.up_blocks = nn.ModuleList()
        prev = rch[0]
        for i, c in enumerate(rch):
            blk = _Block()
            blk.resnets = nn.ModuleList([ResnetBlock(prev if j == 0 else c, c, None, g, 1e-6) for j in range(cfg.layers_per_block + 1)])
            if i < len(rch) - 1:
                blk.upsamplers = nn.ModuleList([Upsample(c)])
            self.up_blocks.append(blk)
            prev = c
        self.conv_norm_out = nn.GroupNorm(g, ch[0], eps=1e-6)
        self.conv_out = nn.Conv2d(ch[0], cfg.out_channels, 3, padding=1)

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for blk in self.up_blocks:
            for r in blk.resnets:
                x = r(x)
            if hasattr(blk, "upsamplers"):
                x = blk.upsamplers[0](x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class AutoencoderKL(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quant_conv = nn.Conv2d(2 * cfg.latent_channels, 2 * cfg.latent_channels, 1)
        self.post_quant_conv = nn.Conv2d(cfg.latent_channels, cfg.latent_channels, 1)

    def encode(self, x, eps=None):
        """Posterior sample mean + exp(0.5*clamp(logvar,-30,20)) * eps (eps=None -> mean). Unscaled."""
        m = self.quant_conv(self.encoder(x))
        mean, logvar = m.chunk(2, dim=1)
        if eps is None:
            return mean
        return mean + torch.exp(0.5 * logvar.clamp(-30.0, 20.0)) * eps

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))


class VAEEncoderExport(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, image, eps):
        return self.vae.encode(image, eps)


class VAEDecoderExport(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent):
        return self.vae.decode(latent)
