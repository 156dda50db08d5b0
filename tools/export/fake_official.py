"""A fake official checkpoint folder in the real layout, for tests (tiny, from the seeded tiny weights) and for the
full-size memory/time measurement (random weights):

    /usr/bin/python3 -m tools.export.fake_official <dir> [--config full|tiny]

Key names and shapes come from official_keys.py (the authors' class layouts), never from our modules'
state_dict(); values are looked up by name (tiny: the make_tiny weights, so the CLI must reproduce the committed
tiny pack) or drawn at random (full).  Like the real folder: every file the demo reads, the SD 1.5 config.json
files, the stage-1 UNet file also holding some `controlnet.*` keys that controlnet.bin overrides, the stage-2 UNet
spread over the SD 1.5 UNet (all spatial weights overridden later), motion_block.bin and an unwrapped
realistic_unet.ckpt, and the Realistic Vision .safetensors with its VAE in the LDM layout next to UNet/CLIP keys.
"""
import argparse
import copy
import json
import os

import numpy as np
import torch

from tools.export import official_keys as ok
from tools.export.checkpoint import RV_SAFETENSORS, S1, S2, write_safetensors

# The public SD 1.5 config.json files (runwayml/stable-diffusion-v1-5), as shipped.
SD15_UNET_CONFIG = {
    "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.6.0", "act_fn": "silu", "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": False, "cross_attention_dim": 768,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
    "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}
SD15_VAE_CONFIG = {
    "_class_name": "AutoencoderKL", "_diffusers_version": "0.6.0", "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512], "down_block_types": ["DownEncoderBlock2D"] * 4, "in_channels": 3,
    "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 512,
    "up_block_types": ["UpDecoderBlock2D"] * 4}
SD15_TEXT_CONFIG = {
    "_name_or_path": "openai/clip-vit-large-patch14", "architectures": ["CLIPTextModel"], "attention_dropout": 0.0,
    "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2, "hidden_act": "quick_gelu", "hidden_size": 768,
    "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05,
    "max_position_embeddings": 77, "model_type": "clip_text_model", "num_attention_heads": 12, "num_hidden_layers": 12,
    "pad_token_id": 1, "projection_dim": 768, "torch_dtype": "float32", "transformers_version": "4.22.0.dev0",
    "vocab_size": 49408}


def unet_config(ucfg):
    c = copy.deepcopy(SD15_UNET_CONFIG)
    n = len(ucfg.block_out_channels)
    c.update(in_channels=ucfg.in_channels, out_channels=ucfg.out_channels, block_out_channels=list(ucfg.block_out_channels),
             layers_per_block=ucfg.layers_per_block, norm_num_groups=ucfg.norm_num_groups,
             cross_attention_dim=ucfg.cross_attention_dim, attention_head_dim=ucfg.attention_heads,
             down_block_types=["CrossAttnDownBlock2D"] * (n - 1) + ["DownBlock2D"],
             up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * (n - 1))
    return c


def vae_config(vcfg):
    c = copy.deepcopy(SD15_VAE_CONFIG)
    n = len(vcfg.block_out_channels)
    c.update(in_channels=vcfg.in_channels, out_channels=vcfg.out_channels, block_out_channels=list(vcfg.block_out_channels),
             layers_per_block=vcfg.layers_per_block, norm_num_groups=vcfg.norm_num_groups,
             latent_channels=vcfg.latent_channels, down_block_types=["DownEncoderBlock2D"] * n,
             up_block_types=["UpDecoderBlock2D"] * n)
    return c


def text_config(tcfg, vocab_size):
    c = copy.deepcopy(SD15_TEXT_CONFIG)
    c.update(hidden_size=tcfg.hidden_size, intermediate_size=tcfg.intermediate_size,
             num_hidden_layers=tcfg.num_hidden_layers, num_attention_heads=tcfg.num_attention_heads,
             max_position_embeddings=tcfg.max_position_embeddings, layer_norm_eps=tcfg.layer_norm_eps,
             vocab_size=vocab_size, projection_dim=tcfg.hidden_size)
    return c


class RandomValues:
    """name, shape -> a float32 tensor of seeded noise (full-size fake folders: values do not matter)."""

    def __init__(self, seed=0):
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def __call__(self, component, name, shape):
        if name.endswith("position_ids"):
            return torch.arange(shape[-1]).expand(shape).clone()
        return torch.from_numpy((0.02 * self.rng.standard_normal(shape, dtype=np.float32)))


class ModuleValues:
    """Values from already-built modules, looked up by the official name (a KeyError or a shape mismatch means our
    module's naming differs from the authors' layout)."""

    def __init__(self, models):
        self.sd = {k: m.state_dict() for k, m in models.items()}

    def __call__(self, component, name, shape):
        v = self.sd[component][name]
        assert tuple(v.shape) == tuple(shape), (component, name, tuple(v.shape), shape)
        return v


def _save(root, rel, sd, fp16=False):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if fp16:
        sd = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
    if rel.endswith(".safetensors"):
        write_safetensors(p, sd)
    else:
        torch.save(sd, p)


def _json(root, rel, obj):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)


def make_fake_official(root, cfg, values, vocab, merges, realistic_fp16=False, log=lambda *a: None):
    """Write the folder; `values(component, name, shape)` gives each tensor.  One file at a time is in memory."""
    V = len(vocab)
    for base in (S1, S2):
        os.makedirs(os.path.join(root, base, "tokenizer"), exist_ok=True)
        with open(os.path.join(root, base, "tokenizer", "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False, separators=(",", ":"))
        with open(os.path.join(root, base, "tokenizer", "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2 (tiny)\n" + "\n".join(merges) + "\n")

    def fill(component, keys):
        return {k: values(component, k, s) for k, s in keys.items()}

    # ---- text encoders (the same SD 1.5 CLIP in both stage folders)
    te = fill("text_encoder", ok.clip_keys(cfg.text, V))
    for base in (S1, S2):
        _json(root, base + "text_encoder/config.json", text_config(cfg.text, V))
        _save(root, base + "text_encoder/pytorch_model.bin", te)
    del te
    log("text encoders")

    # ---- image VAE: diffusers >= 0.15 attention names in the SD folder; LDM layout in the Realistic Vision file
    vkeys = ok.vae_keys(cfg.image_vae)
    vae = fill("vae", vkeys)
    _json(root, S2 + "vae/config.json", vae_config(cfg.image_vae))
    renamed = {k.replace(".query.", ".to_q.").replace(".key.", ".to_k.").replace(".value.", ".to_v.")
               .replace(".proj_attn.", ".to_out.0."): v for k, v in vae.items()}
    _save(root, S2 + "vae/diffusion_pytorch_model.safetensors", renamed)
    del renamed
    ldm = {}
    for (lk, ls), (dk, ds) in zip(ok.ldm_vae_keys(cfg.image_vae).items(), vkeys.items()):
        # both lists enumerate the blocks in the same structural order; LDM's attention projections are 1x1 convs
        v = vae[dk]
        ldm[lk] = v.reshape(ls) if ls != ds else v
    c0 = cfg.stage2_unet.block_out_channels[0]
    ldm["model.diffusion_model.input_blocks.0.0.weight"] = torch.zeros(c0, 4, 3, 3)        # its UNet and CLIP:
    ldm["cond_stage_model.transformer.text_model.final_layer_norm.weight"] = torch.ones(cfg.text.hidden_size)  # ignored
    _save(root, RV_SAFETENSORS, ldm)
    del vae, ldm
    log("image VAE")

    # ---- flow VAE (strict in the authors' code)
    _json(root, S1 + "vae/config.json", vae_config(cfg.flow_vae))
    _save(root, S1 + "vae_flow/diffusion_pytorch_model.bin", fill("flow_vae", ok.vae_keys(cfg.flow_vae)))
    log("flow VAE")

    # ---- stage 1: UNet file (with stale controlnet.* copies, which controlnet.bin overrides), ControlNet file
    cn_keys = ok.controlnet_keys(cfg.stage1_unet, cfg.controlnet_cond_hidden)
    u1 = fill("stage1_unet", ok.unet_keys(cfg.stage1_unet))
    for k in list(cn_keys)[:4]:
        u1["controlnet." + k] = torch.full(cn_keys[k], 7.0)
    _json(root, S1 + "unet/config.json", unet_config(cfg.stage1_unet))
    _save(root, S1 + "unet/diffusion_pytorch_model.bin", u1)
    del u1
    _save(root, S1 + "controlnet/controlnet.bin", {"controlnet." + k: v for k, v in fill("controlnet", cn_keys).items()})
    log("stage-1 UNet and ControlNet")

    # ---- stage 2: SD 1.5 UNet (2D: no motion modules; its values are all overridden), motion modules, RV UNet
    u2keys = ok.unet_keys(cfg.stage2_unet)
    spatial = {k: s for k, s in u2keys.items() if ".motion_modules." not in k}
    _json(root, S2 + "unet/config.json", unet_config(cfg.stage2_unet))
    _save(root, S2 + "unet/diffusion_pytorch_model.bin", {k: torch.full(s, 7.0) for k, s in spatial.items()})
    _save(root, "stage2/Motion_Module/motion_block.bin",
          fill("stage2_unet", {k: s for k, s in u2keys.items() if ".motion_modules." in k}))
    _save(root, "stage2/DreamBooth_LoRA/realistic_unet.ckpt", fill("stage2_unet", spatial), fp16=realistic_fp16)
    log("stage-2 UNet")
    return root


def tiny_fake_official(root):
    from tools.export.configs import TINY
    from tools.export.make_tiny import build_models
    models, vocab, merges = build_models()
    return make_fake_official(root, TINY, ModuleValues(models), vocab, merges)


def main(argv=None):
    from tools.export import configs
    ap = argparse.ArgumentParser(prog="python3 -m tools.export.fake_official", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--config", default="full", choices=["full", "tiny"])
    a = ap.parse_args(argv)
    if a.config == "tiny":
        tiny_fake_official(a.out_dir)
        return 0
    # a CLIP-sized vocabulary of distinct tokens (contents are irrelevant to the export)
    vocab = {f"t{i}</w>": i for i in range(configs.FULL.text.vocab_size)}
    make_fake_official(a.out_dir, configs.FULL, RandomValues(), vocab, [], realistic_fp16=True, log=print)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
