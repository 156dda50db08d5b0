"""Reference pipelines (PyTorch): stage 1 (with/without ControlNet), stage 2, full I2V, V2V stage 2.

All randomness is passed in (noise tensors), so the browser can replay a run exactly.
Semantics follow ../shared/design/reference.md:
  * stage 1 encodes the image in [0,1] (quirk kept), times 0.18215, repeated over F-1 frames;
    UNet input = [image latent, noisy flow latent]; the scheduler steps the flow half only;
  * flow decode: latent / 0.18215 -> decode -> clamp(2v-1, -1, 1) * (W, H); times (1 - brush);
    a zero flow is prepended for frame 0;
  * stage 2: frame 0 latent replaced by the clean latent (image in [-1,1]) before every step and
    at the end; frame 0 uses the t=1 embedding (inside the UNet); brush blending after each step
    with add_noise(ref latent, initial noise, next t).
"""
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F

from tools.export.scheduler import DDIMScheduler


@dataclass
class Models:
    text_encoder: object
    image_vae: object
    flow_vae: object
    stage1_unet: object
    controlnet: Optional[object]
    stage2_vae: object
    stage2_unet: object


def encode_flow(flow, W, H):
    """Pixel flow (N, 2, H, W) -> [0,1] normalised image for the flow VAE."""
    f = torch.stack([flow[:, 0] / W, flow[:, 1] / H], 1)
    return (f + 1) / 2


def decode_flow_values(v, W, H):
    f = (2 * v - 1).clamp(-1, 1)
    return torch.stack([f[:, 0] * W, f[:, 1] * H], 1)


def build_control(flow_vae, sparse_flow01, mask, eps):
    """sparse_flow01 (F1, 2, H, W) already normalised to [0,1] (0.5 = no motion), mask (F1, 1, H, W).
    -> control (1, 5, F1, h, w): [flow-VAE posterior sample (NOT scaled), mask nearest 1/8]."""
    f = (sparse_flow01 - 0.5) * mask + 0.5
    lat = flow_vae.encode(f, eps)                                          # (F1, 4, h, w)
    m = F.interpolate(mask, size=lat.shape[-2:], mode="nearest")
    return torch.cat([lat, m], 1).permute(1, 0, 2, 3)[None]


def stage1(models, cfg, image01, ctx, noise, steps, guidance, control=None, brush=None, image_eps=None,
           control_scale=1.0, sched=None):
    """image01 (1,3,H,W) in [0,1]; ctx (2 or 1, L, D) [uncond, cond]; noise (1,4,F1,h,w).
    Returns pixel flows (F, 2, H, W) with the zero flow prepended, and the final latents."""
    W, H = cfg.width, cfg.height
    F1 = cfg.frames - 1
    sched = sched or DDIMScheduler(cfg.scheduler)
    sched.set_timesteps(steps)
    img = models.image_vae.encode(image01, image_eps) * cfg.vae_scale              # (1,4,h,w)
    img = img[:, :, None].expand(-1, -1, F1, -1, -1)
    stride = torch.tensor([list(cfg.strides[:F1])], dtype=noise.dtype)
    lat = noise * sched.init_noise_sigma
    cfgd = guidance > 1.0
    B = 2 if cfgd else 1
    for t in sched.timesteps:
        x = torch.cat([img, lat], 1).expand(B, -1, -1, -1, -1)
        tt = torch.full((B,), float(t), dtype=noise.dtype)
        sb = stride.expand(B, -1)
        res = mid = None
        if control is not None and models.controlnet is not None:
            *res, mid = models.controlnet(x, tt, ctx, sb, control.expand(B, -1, -1, -1, -1),
                                          torch.tensor([control_scale], dtype=noise.dtype))
        eps = models.stage1_unet(x, tt, ctx, stride=sb, down_residuals=res, mid_residual=mid)
        if cfgd:
            eps = eps[0:1] + guidance * (eps[1:2] - eps[0:1])
        lat, _ = sched.step(eps, t, lat)
    z = lat[0].permute(1, 0, 2, 3) / cfg.vae_scale                                # (F1,4,h,w)
    v = torch.cat([models.flow_vae.decode(z[i:i + 1]) for i in range(F1)])
    flows = decode_flow_values(v, W, H)
    if brush is not None:                                                          # brush (1,1,H,W): 1 = static
        flows = flows * (1 - brush)
    flows = torch.cat([torch.zeros_like(flows[:1]), flows])
    return flows, lat


def stage2(models, cfg, image01, ctx, flows, noise, steps, guidance, brush=None, image_eps=None,
           frame0_batch="same", sched=None):
    """image01 (1,3,H,W) in [0,1]; flows (F,2,H,W) pixels with flows[0]=0; noise (1,4,F,h,w).
    Returns video (F,3,H,W) in [0,1] and final latents."""
    from tools.export import softsplat
    sched = sched or DDIMScheduler(cfg.scheduler)
    sched.set_timesteps(steps)
    ref = models.stage2_vae.encode(image01 * 2 - 1, image_eps) * cfg.vae_scale      # (1,4,h,w)
    lat = noise * sched.init_noise_sigma
    m = None
    if brush is not None:
        m = F.interpolate(brush, size=noise.shape[-2:], mode="nearest")[:, :, None]   # (1,1,1,h,w)
    cfgd = guidance > 1.0
    B = 2 if cfgd else 1
    ts = list(sched.timesteps)
    unet = models.stage2_unet
    for i, t in enumerate(ts):
        lat = lat.clone()
        lat[:, :, 0] = ref
        x = lat.expand(B, -1, -1, -1, -1)
        tt = torch.full((B,), float(t), dtype=noise.dtype)
        eps = unet(x, tt, ctx, flow=flows, frame0_batch=frame0_batch)
        if cfgd:
            eps = eps[0:1] + guidance * (eps[1:2] - eps[0:1])
        lat, _ = sched.step(eps, t, lat)
        if i < len(ts) - 1 and m is not None:
            init = sched.add_noise(ref[:, :, None], noise, ts[i + 1])
            lat = init * m + lat * (1 - m)
    lat = lat.clone()
    lat[:, :, 0] = ref
    z = lat[0].permute(1, 0, 2, 3) / cfg.vae_scale
    video = torch.cat([models.stage2_vae.decode(z[i:i + 1]) for i in range(z.shape[0])])
    return (video / 2 + 0.5).clamp(0, 1), lat


def i2v(models, cfg, image01, ctx, noise1, noise2, steps, guidance, control=None, brush=None, image_eps1=None,
        image_eps2=None):
    flows, _ = stage1(models, cfg, image01, ctx, noise1, steps, guidance, control, brush, image_eps1)
    video, lat = stage2(models, cfg, image01, ctx, flows, noise2, steps, guidance, brush, image_eps2)
    return flows, video, lat


def v2v_stage2(models, cfg, edited_first_frame01, ctx, source_flows, noise, steps, guidance, image_eps=None):
    """Video-to-video: the source video's dense flows f(0->i) (F,2,H,W; flows[0]=0) drive stage 2
    from an edited first frame."""
    return stage2(models, cfg, edited_first_frame01, ctx, source_flows, noise, steps, guidance, None, image_eps)
