"""The stage-2 VAE converted from the Realistic Vision checkpoint's LDM layout (`first_stage_model.*`), as the
authors' demo does, on fake .safetensors files in that layout (names from official_keys.ldm_vae_keys)."""
import os

import numpy as np
import torch

from tools.export import official_keys as ok
from tools.export.checkpoint import RV_SAFETENSORS, CheckpointError, ldm_vae_to_diffusers, load_component, write_safetensors
from tools.export.configs import FULL, TINY
from tools.export.meta import meta_init, shapes
from tools.export.vae import AutoencoderKL

OTHERS = {"model.diffusion_model.out.2.weight": (4, 320, 3, 3), "cond_stage_model.transformer.text_model.x": (3,),
          "first_stage_model.loss.logvar": ()}


def test_full_size_ldm_layout_converts_to_every_weight_of_our_vae():
    """Every LDM key of the full-size SD VAE maps onto exactly our AutoencoderKL's names and shapes (meta tensors:
    no memory); the checkpoint's UNet/CLIP keys and LDM-only keys (the training loss) are left out."""
    ldm = {k: torch.empty(s, device="meta") for k, s in ok.ldm_vae_keys(FULL.image_vae).items()}
    ldm.update({k: torch.empty(s, device="meta") for k, s in OTHERS.items()})
    conv, ignored = ldm_vae_to_diffusers(ldm)
    with meta_init():
        want = shapes(AutoencoderKL(FULL.image_vae))
    assert {k: tuple(v.shape) for k, v in conv.items()} == want
    assert sorted(ignored) == sorted(OTHERS)


def _tiny_ldm_file(root, rng):
    sd = {k: torch.from_numpy(rng.standard_normal(s).astype(np.float32)) for k, s in ok.ldm_vae_keys(TINY.image_vae).items()}
    sd.update({k: torch.zeros(s) for k, s in OTHERS.items()})
    path = os.path.join(root, RV_SAFETENSORS)
    os.makedirs(os.path.dirname(path))
    write_safetensors(path, sd)
    return sd


def test_tiny_safetensors_file_loads_with_values_where_the_ldm_names_say(tmp_path):
    sd = _tiny_ldm_file(str(tmp_path), np.random.Generator(np.random.PCG64(3)))
    vae = AutoencoderKL(TINY.image_vae)
    report = load_component(str(tmp_path), "vae", vae)
    got = vae.state_dict()
    f = "first_stage_model."
    pairs = {  # written by hand from the two layouts: LDM up.0 is the last decoder block applied (diffusers up_blocks.3)
        f + "decoder.up.0.block.1.conv2.weight": "decoder.up_blocks.3.resnets.1.conv2.weight",
        f + "decoder.up.3.upsample.conv.bias": "decoder.up_blocks.0.upsamplers.0.conv.bias",
        f + "decoder.up.0.block.0.nin_shortcut.weight": "decoder.up_blocks.3.resnets.0.conv_shortcut.weight",
        f + "decoder.up.1.block.1.norm2.bias": "decoder.up_blocks.2.resnets.1.norm2.bias",
        f + "encoder.down.1.block.0.nin_shortcut.bias": "encoder.down_blocks.1.resnets.0.conv_shortcut.bias",
        f + "encoder.down.2.downsample.conv.weight": "encoder.down_blocks.2.downsamplers.0.conv.weight",
        f + "encoder.mid.block_2.norm1.weight": "encoder.mid_block.resnets.1.norm1.weight",
        f + "decoder.mid.attn_1.norm.bias": "decoder.mid_block.attentions.0.group_norm.bias",
        f + "encoder.mid.attn_1.v.bias": "encoder.mid_block.attentions.0.value.bias",
        f + "encoder.norm_out.weight": "encoder.conv_norm_out.weight",
        f + "post_quant_conv.weight": "post_quant_conv.weight",
    }
    for ldm_name, ours in pairs.items():
        assert torch.equal(got[ours], sd[ldm_name]), ours
    for q, ours in (("q", "query"), ("k", "key"), ("proj_out", "proj_attn")):   # 1x1 convs become Linear weights
        w = sd[f + f"decoder.mid.attn_1.{q}.weight"]
        assert w.shape[2:] == (1, 1) and torch.equal(got[f"decoder.mid_block.attentions.0.{ours}.weight"], w[:, :, 0, 0])
    assert report.ignored == [(RV_SAFETENSORS, sorted(OTHERS))]


def test_missing_ldm_key_fails_naming_the_diffusers_weight(tmp_path):
    root = str(tmp_path)
    sd = _tiny_ldm_file(root, np.random.Generator(np.random.PCG64(4)))
    del sd["first_stage_model.decoder.up.2.block.1.conv1.weight"]
    write_safetensors(os.path.join(root, RV_SAFETENSORS), sd)
    try:
        load_component(root, "vae", AutoencoderKL(TINY.image_vae))
    except CheckpointError as e:
        assert RV_SAFETENSORS in str(e) and "decoder.up_blocks.1.resnets.1.conv1.weight" in str(e)
    else:
        raise AssertionError("a missing VAE weight must fail (the authors load the converted VAE strictly)")
