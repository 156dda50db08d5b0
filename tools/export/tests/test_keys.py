"""Expected parameter names/shapes of the official checkpoints (full-size configs, built on meta)."""
import json
import math
import tempfile
from dataclasses import replace

import pytest

from tools.export import config_check, fake_official
from tools.export import official_keys as ok
from tools.export.checkpoint import S1, S2

from tools.export.clip import CLIPTextModel
from tools.export.configs import FULL, TINY
from tools.export.meta import meta_init, shapes
from tools.export.unet import ControlNetModel, UNet3DConditionModel
from tools.export.vae import AutoencoderKL

MM = "down_blocks.0.motion_modules.0.temporal_transformer."


def _unet(cfg):
    with meta_init():
        return shapes(UNet3DConditionModel(cfg))


def test_stage1_unet_keys():
    s = _unet(FULL.stage1_unet)
    # SD 1.5 UNet (686 tensors) + AnimateDiff v2-shaped motion modules (21 x 28 = 588) + stride MLP (4)
    assert len(s) == 686 + 588 + 4
    assert s["conv_in.weight"] == (320, 8, 3, 3)
    assert s["stride_embedding.linear_1.weight"] == (1280, 320)
    assert s["stride_embedding.linear_2.weight"] == (1280, 1280)
    assert s["time_embedding.linear_1.weight"] == (1280, 320)
    assert s["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"] == (320, 768)
    assert s["down_blocks.0.attentions.0.proj_in.weight"] == (320, 320, 1, 1)
    assert s["up_blocks.3.resnets.2.conv1.weight"] == (320, 640, 3, 3)
    assert s["up_blocks.0.resnets.0.conv_shortcut.weight"] == (1280, 2560, 1, 1)
    assert s["up_blocks.0.upsamplers.0.conv.weight"] == (1280, 1280, 3, 3)
    assert s["down_blocks.2.downsamplers.0.conv.weight"] == (1280, 1280, 3, 3)
    assert s["down_blocks.3.resnets.1.time_emb_proj.weight"] == (1280, 1280)
    assert s[MM + "proj_in.weight"] == (320, 320)
    assert s[MM + "transformer_blocks.0.attention_blocks.1.pos_encoder.pe"] == (1, 32, 320)
    assert s[MM + "transformer_blocks.0.attention_blocks.0.to_out.0.bias"] == (320,)
    assert s[MM + "transformer_blocks.0.ff.net.0.proj.weight"] == (2560, 320)
    assert s[MM + "transformer_blocks.0.ff.net.2.weight"] == (320, 1280)
    assert s[MM + "transformer_blocks.0.norms.1.weight"] == (320,)
    assert s[MM + "transformer_blocks.0.ff_norm.bias"] == (320,)
    assert s["mid_block.motion_modules.0.temporal_transformer.proj_out.weight"] == (1280, 1280)
    assert "down_blocks.3.attentions.0.norm.weight" not in s and "up_blocks.0.attentions.0.norm.weight" not in s
    assert "down_blocks.0.motion_modules.0.temporal_transformer.transformer_blocks.0.attention_blocks.0.to_q.bias" not in s
    assert s["conv_out.weight"] == (4, 320, 3, 3)
    n = sum(math.prod(v) for k, v in s.items() if not k.endswith(".pe"))
    assert 1.25e9 < n < 1.36e9  # "stage-1 UNet 1.31 B"


def test_stage2_unet_keys():
    s = _unet(FULL.stage2_unet)
    assert len(s) == 686 + 588
    assert s["conv_in.weight"] == (320, 4, 3, 3)
    assert not any(k.startswith("stride_embedding") for k in s)
    mm = [k for k in s if ".motion_modules." in k]
    assert len(mm) == 588


def test_controlnet_keys():
    with meta_init():
        s = shapes(ControlNetModel(FULL.stage1_unet))
    assert s["controlnet_cond_embedding.layers.0.weight"] == (512, 5, 1, 3, 3)
    assert s["controlnet_cond_embedding.layers.2.weight"] == (320, 512, 1, 3, 3)
    assert len([k for k in s if k.startswith("controlnet_down_blocks.") and k.endswith("weight")]) == 12
    assert s["controlnet_down_blocks.11.weight"] == (1280, 1280, 1, 1)
    assert s["controlnet_mid_block.weight"] == (1280, 1280, 1, 1)
    assert s["conv_in.weight"] == (320, 8, 3, 3)
    assert not any(k.startswith("up_blocks") for k in s)


def test_vae_keys():
    with meta_init():
        s = shapes(AutoencoderKL(FULL.image_vae))
        f = shapes(AutoencoderKL(FULL.flow_vae))
    assert len(s) == 248 and len(f) == 248
    assert s["encoder.mid_block.attentions.0.query.weight"] == (512, 512)
    assert s["encoder.mid_block.attentions.0.group_norm.weight"] == (512,)
    assert s["decoder.up_blocks.3.resnets.0.conv_shortcut.weight"] == (128, 256, 1, 1)
    assert s["encoder.down_blocks.0.downsamplers.0.conv.weight"] == (128, 128, 3, 3)
    assert s["quant_conv.weight"] == (8, 8, 1, 1) and s["post_quant_conv.weight"] == (4, 4, 1, 1)
    assert f["encoder.conv_in.weight"] == (128, 2, 3, 3) and f["decoder.conv_out.weight"] == (2, 128, 3, 3)


def test_clip_keys():
    with meta_init():
        s = shapes(CLIPTextModel(FULL.text))
    assert len(s) == 197
    assert s["text_model.embeddings.token_embedding.weight"] == (49408, 768)
    assert s["text_model.embeddings.position_ids"] == (1, 77)
    assert s["text_model.encoder.layers.11.mlp.fc1.weight"] == (3072, 768)
    assert s["text_model.final_layer_norm.bias"] == (768,)


@pytest.mark.parametrize("cfg", [FULL, TINY], ids=["full", "tiny"])
def test_modules_match_the_independent_key_list(cfg):
    """Our modules' state_dict() names and shapes equal official_keys.py (written from the authors' class layouts;
    the fake official folders take their names from it), at full size and at the tiny size the CLI test uses."""
    vocab = cfg.text.vocab_size or 300
    with meta_init():
        pairs = [(UNet3DConditionModel(cfg.stage1_unet), ok.unet_keys(cfg.stage1_unet)),
                 (UNet3DConditionModel(cfg.stage2_unet), ok.unet_keys(cfg.stage2_unet)),
                 (ControlNetModel(cfg.stage1_unet, cfg.controlnet_cond_hidden),
                  ok.controlnet_keys(cfg.stage1_unet, cfg.controlnet_cond_hidden)),
                 (AutoencoderKL(cfg.image_vae), ok.vae_keys(cfg.image_vae)),
                 (AutoencoderKL(cfg.flow_vae), ok.vae_keys(cfg.flow_vae)),
                 (CLIPTextModel(replace(cfg.text, vocab_size=vocab)), ok.clip_keys(cfg.text, vocab))]
    for module, listed in pairs:
        got = shapes(module)
        assert sorted(got) == sorted(listed), (type(module).__name__, sorted(set(got) ^ set(listed))[:5])
        assert {k: got[k] for k in listed} == dict(listed), type(module).__name__


def test_sd15_config_files_pass_the_check():
    """The public SD 1.5 config.json files (and the stage-1 variant with 8 input channels, the flow VAE with 2)
    describe what the full-size reference computes."""
    exp = config_check.config_files(FULL)
    for rel, data in ((S2 + "unet/config.json", fake_official.SD15_UNET_CONFIG),
                      (S1 + "unet/config.json", dict(fake_official.SD15_UNET_CONFIG, in_channels=8)),
                      (S2 + "vae/config.json", fake_official.SD15_VAE_CONFIG),
                      (S1 + "vae/config.json", dict(fake_official.SD15_VAE_CONFIG, in_channels=2, out_channels=2)),
                      (S2 + "text_encoder/config.json", fake_official.SD15_TEXT_CONFIG)):
        _, expected, defaults, ignored = exp[rel]
        unknown = config_check.check_config(_write_json(data), expected, defaults, ignored)
        assert unknown == [], (rel, unknown)
    # a newer diffusers' config with its extra fields: accepted, the unused ones listed
    newer = dict(fake_official.SD15_UNET_CONFIG, mid_block_type="UNetMidBlock2DCrossAttn", upcast_attention=False,
                 use_linear_projection=False, class_embed_type=None, time_cond_proj_dim=None)
    _, expected, defaults, ignored = exp[S2 + "unet/config.json"]
    assert config_check.check_config(_write_json(newer), expected, defaults, ignored) == ["time_cond_proj_dim"]


def _write_json(data):
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(data, f)
    f.close()
    return f.name
