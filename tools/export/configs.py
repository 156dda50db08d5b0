"""Full-size (official) and tiny configurations of every component."""
from dataclasses import dataclass, field, replace

from tools.export.clip import CLIPTextConfig
from tools.export.scheduler import DDIMConfig
from tools.export.unet import UNetConfig
from tools.export.vae import VAEConfig


@dataclass(frozen=True)
class PackConfig:
    name: str
    width: int                 # canvas W (pixels)
    height: int                # canvas H
    frames: int                # stage-2 frames (frame 0 = reference); stage 1 predicts frames-1 flows
    stage1_unet: UNetConfig
    stage2_unet: UNetConfig
    image_vae: VAEConfig
    flow_vae: VAEConfig
    text: CLIPTextConfig
    controlnet_cond_hidden: int = 512
    scheduler: DDIMConfig = DDIMConfig()
    vae_scale: float = 0.18215
    latent_factor: int = 8
    strides: tuple = tuple(range(8, 121, 8))


FULL = PackConfig(
    name="motion-i2v", width=512, height=320, frames=16,
    stage1_unet=UNetConfig(in_channels=8, out_channels=4, stride_embedding=True, frames=15),
    stage2_unet=UNetConfig(in_channels=4, out_channels=4, motion_augmented=True, frames=16),
    image_vae=VAEConfig(),
    flow_vae=VAEConfig(in_channels=2, out_channels=2),
    text=CLIPTextConfig(),
)

_tiny_unet = dict(block_out_channels=(16, 32), layers_per_block=1, norm_num_groups=2, cross_attention_dim=32,
                  attention_heads=2, mm_heads=4, mm_groups=2, mm_pe_max_len=32, attention_score_bytes=8192)
# The tiny pack proves the pipeline in browser tests on a software GPU (SwiftShader), where ORT's
# kernels with workgroup barriers (group norm, softmax, layer norm, tiled matmul) cost milliseconds
# per workgroup: the canvas and frame count are as small as the UNet's two levels allow (latents
# 6x4, even sides; W != H so a swapped axis cannot pass) and the UNet's norms use 2 groups (still
# a grouping: a kernel that ignored groups would miss the goldens). Its spatial attention score
# budget (8 KiB) slices the top level into several query chunks, the last one shorter (stage 1:
# self 4 x 6 rows, cross 3 x 8; stage 2: self 5 chunks of 5, 5, 5, 5, 4), so the browser parity
# tests run the same sliced graph as the full-size pack (128 MiB: 48 chunks at 64 x 40 latents).
TINY = PackConfig(
    name="motion-i2v-tiny", width=48, height=32, frames=4,
    stage1_unet=UNetConfig(in_channels=8, out_channels=4, stride_embedding=True, frames=3, **_tiny_unet),
    stage2_unet=UNetConfig(in_channels=4, out_channels=4, motion_augmented=True, frames=4, **_tiny_unet),
    image_vae=VAEConfig(block_out_channels=(8, 16, 16, 16), layers_per_block=1, norm_num_groups=4),
    flow_vae=VAEConfig(in_channels=2, out_channels=2, block_out_channels=(8, 16, 16, 16), layers_per_block=1, norm_num_groups=4),
    text=CLIPTextConfig(vocab_size=0, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=2, max_position_embeddings=16),
    controlnet_cond_hidden=32,
    strides=tuple(range(8, 25, 8)),
)
