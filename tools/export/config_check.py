"""Check the checkpoint folder's config.json files against what the reference modules compute.

The reference's architecture is fixed by configs.py; the authors' code builds its modules from these config.json
files (diffusers `from_config`, transformers `from_pretrained`).  A field that changes no tensor shape (head
counts, flip_sin_to_cos, freq_shift, activation, ...) would load without complaint and compute something else,
so every field that matters is compared, and a difference stops the CLI with the file and the field's name.
Absent fields take the authors' class default (diffusers 0.11 / transformers 4.25), as from_config would.
Fields the authors override (block types, motion-module options: they come from their inference.yaml) and
fields that change nothing we compute (sample_size, upcast_attention: only fp16 arithmetic, scaling_factor:
their pipeline hard-codes 0.18215) are listed as ignored.
"""
import json
import os

from tools.export.checkpoint import CheckpointError

# Defaults of the classes the authors instantiate from these files.
_UNET_DEFAULTS = dict(in_channels=4, out_channels=4, center_input_sample=False, flip_sin_to_cos=True, freq_shift=0,
                      mid_block_type="UNetMidBlock3DCrossAttn", only_cross_attention=False,
                      block_out_channels=[320, 640, 1280, 1280], layers_per_block=2, downsample_padding=1,
                      mid_block_scale_factor=1, act_fn="silu", norm_num_groups=32, norm_eps=1e-5,
                      cross_attention_dim=1280, attention_head_dim=8, dual_cross_attention=False,
                      use_linear_projection=False, class_embed_type=None, num_class_embeds=None,
                      resnet_time_scale_shift="default")
_VAE_DEFAULTS = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"],
                     up_block_types=["UpDecoderBlock2D"], block_out_channels=[64], layers_per_block=1, act_fn="silu",
                     latent_channels=4, norm_num_groups=32)
_CLIP_DEFAULTS = dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                      num_attention_heads=8, max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5)

_UNET_OVERRIDDEN = {"down_block_types", "up_block_types", "use_inflated_groupnorm", "unet_use_cross_frame_attention",
                    "unet_use_temporal_attention", "use_motion_module", "motion_module_resolutions",
                    "motion_module_mid_block", "motion_module_decoder_only", "motion_module_type",
                    "motion_module_kwargs"}
_UNET_NO_EFFECT = {"sample_size", "upcast_attention"}
_VAE_NO_EFFECT = {"sample_size", "scaling_factor", "force_upcast"}
_CLIP_NO_EFFECT = {"projection_dim", "dropout", "attention_dropout", "initializer_range", "initializer_factor",
                   "pad_token_id", "bos_token_id", "eos_token_id", "architectures", "torch_dtype", "model_type",
                   "transformers_version", "hidden_dropout_prob", "attention_probs_dropout_prob"}


def unet_expected(ucfg):
    """Field -> the value our UNet (and ControlNet, built from the same config) computes with."""
    return dict(in_channels=ucfg.in_channels, out_channels=ucfg.out_channels, center_input_sample=False,
                flip_sin_to_cos=True, freq_shift=0, only_cross_attention=False,
                block_out_channels=list(ucfg.block_out_channels), layers_per_block=ucfg.layers_per_block,
                downsample_padding=1, mid_block_scale_factor=1, act_fn="silu", norm_num_groups=ucfg.norm_num_groups,
                norm_eps=ucfg.norm_eps, cross_attention_dim=ucfg.cross_attention_dim,
                # diffusers 0.11 names the head COUNT attention_head_dim (SD 1.5: 8 heads of 40..160 channels)
                attention_head_dim=ucfg.attention_heads, dual_cross_attention=False, use_linear_projection=False,
                class_embed_type=None, num_class_embeds=None, resnet_time_scale_shift="default",
                mid_block_type="UNetMidBlock3DCrossAttn")


def vae_expected(vcfg):
    n = len(vcfg.block_out_channels)
    return dict(in_channels=vcfg.in_channels, out_channels=vcfg.out_channels,
                down_block_types=["DownEncoderBlock2D"] * n, up_block_types=["UpDecoderBlock2D"] * n,
                block_out_channels=list(vcfg.block_out_channels), layers_per_block=vcfg.layers_per_block,
                act_fn="silu", latent_channels=vcfg.latent_channels, norm_num_groups=vcfg.norm_num_groups)


def clip_expected(tcfg):
    return dict(hidden_size=tcfg.hidden_size, intermediate_size=tcfg.intermediate_size,
                num_hidden_layers=tcfg.num_hidden_layers, num_attention_heads=tcfg.num_attention_heads,
                max_position_embeddings=tcfg.max_position_embeddings, hidden_act="quick_gelu",
                layer_norm_eps=tcfg.layer_norm_eps, **({"vocab_size": tcfg.vocab_size} if tcfg.vocab_size else {}))


def _same(field, got, want):
    if field == "attention_head_dim" and isinstance(got, list):
        return all(_same(field, g, want) for g in got)
    if field == "mid_block_type":        # the 2D name in an SD config is built as its 3D counterpart
        return got in ("UNetMidBlock3DCrossAttn", "UNetMidBlock2DCrossAttn")
    if isinstance(want, float) or isinstance(got, float):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - want) <= 1e-12 * max(1, abs(want))
    if isinstance(want, list):
        return isinstance(got, (list, tuple)) and list(got) == want
    return type(got) is type(want) and got == want if want is not None else got is None


def check_config(path, expected, defaults, ignored=()):
    """Raise CheckpointError naming the first differing field; return the list of fields ignored."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot be read as JSON ({e})")
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    bad = []
    for field, want in expected.items():
        got = data.get(field, defaults.get(field, want))
        if not _same(field, got, want):
            src = "" if field in data else " (absent: the class default)"
            bad.append(f"{field} is {json.dumps(got)}{src}, the exporter's reference computes with {json.dumps(want)}")
    if bad:
        raise CheckpointError(f"{path}: {len(bad)} field(s) differ from what the exporter supports: " + "; ".join(bad))
    return sorted(k for k in data if k not in expected and not k.startswith("_") and k not in ignored)


S1 = "stage1/StableDiffusion-FlowGen/"
S2 = "stage2/StableDiffusion/"


def config_files(cfg):
    """Every config.json the authors' demo reads: relative path -> (what, expected, defaults, ignored)."""
    u_ign = _UNET_OVERRIDDEN | _UNET_NO_EFFECT
    t_ign = _CLIP_NO_EFFECT | ({"vocab_size"} if not cfg.text.vocab_size else set())   # tiny: the vocab file decides
    return {
        S1 + "unet/config.json": ("stage-1 UNet (and its ControlNet)", unet_expected(cfg.stage1_unet), _UNET_DEFAULTS, u_ign),
        S1 + "vae/config.json": ("flow VAE", vae_expected(cfg.flow_vae), _VAE_DEFAULTS, _VAE_NO_EFFECT),
        S1 + "text_encoder/config.json": ("stage-1 text encoder", clip_expected(cfg.text), _CLIP_DEFAULTS, t_ign),
        S2 + "unet/config.json": ("stage-2 UNet", unet_expected(cfg.stage2_unet), _UNET_DEFAULTS, u_ign),
        S2 + "vae/config.json": ("image VAE (both stages)", vae_expected(cfg.image_vae), _VAE_DEFAULTS, _VAE_NO_EFFECT),
        S2 + "text_encoder/config.json": ("stage-2 text encoder", clip_expected(cfg.text), _CLIP_DEFAULTS, t_ign),
    }


def check_configs(root, cfg, log=lambda *a: None):
    """Check every config.json the demo reads (missing ones are reported by checkpoint.check_files); list every
    other config.json in the folder as not read.  Returns notes (one line each) for the CLI's report."""
    known = config_files(cfg)
    notes = []
    for rel, (what, expected, defaults, ignored) in known.items():
        unknown = check_config(os.path.join(root, rel), expected, defaults, ignored)
        log(f"checked {rel} ({what})")
        if unknown:
            notes.append(f"{rel}: fields not used by the reference: {', '.join(unknown)}")
    for d, _, files in os.walk(root):
        for fn in files:
            rel = os.path.relpath(os.path.join(d, fn), root).replace(os.sep, "/")
            if fn == "config.json" and rel not in known:
                notes.append(f"{rel}: not read (the authors' demo does not use it)")
    return notes
