"""manifest.json for a model pack (schema documented in README.md)."""
import os
from dataclasses import asdict

import onnx

from tools.export.onnx_export import io_spec, sha256_file

SCHEMA_VERSION = 1
SUFFIX = {"fp32": ".onnx", "fp16": ".fp16.onnx", "q8": ".q8.onnx", "q4": ".q4.onnx", "q4f16": ".q4f16.onnx",
          "q4c8": ".q4c8.onnx", "q4c8f16": ".q4c8f16.onnx"}

COMPONENTS = ["text_encoder", "vae_encoder", "vae_decoder", "flow_vae_encoder", "flow_vae_decoder", "controlnet",
              "stage1_unet"]
# Written only when stage 1's own file differs from stage 2's (the authors' stage 1 encodes the image with the SD
# VAE and the prompt with its own text encoder); a pack without them uses vae_encoder / text_encoder for both.
OPTIONAL_COMPONENTS = ["stage1_text_encoder", "stage1_vae_encoder"]


def file_entry(out_dir, rel):
    p = os.path.join(out_dir, rel)
    files = [rel] + ([rel + ".data"] if os.path.exists(p + ".data") else [])
    return [{"path": f, "bytes": os.path.getsize(os.path.join(out_dir, f)), "sha256": sha256_file(os.path.join(out_dir, f))}
            for f in files]


def _variants(out_dir, base, precisions):
    return {p: file_entry(out_dir, base + SUFFIX[p]) for p in precisions}


def spatial_attention_entry(cfg, unet_cfg):
    """How a UNet's (or its ControlNet's) spatial attentions are sliced (layers.attention_query_rows):
    per latent level (every level has one, the mid block the lowest) its self-attention (keys = the
    level's tokens) and cross-attention (keys = the text tokens), the query rows per chunk and the
    chunk count, for a budget of score_bytes over `images` images (CFG batch 2 x frames)."""
    from tools.export.layers import attention_query_rows
    from tools.export.unet import spatial_slicing
    images, score_bytes = spatial_slicing(unet_cfg) or (2 * unet_cfg.frames, None)
    heads = unet_cfg.attention_heads
    h, w = cfg.height // cfg.latent_factor, cfg.width // cfg.latent_factor
    chunks = []
    for _ in unet_cfg.block_out_channels:
        tokens = h * w
        for keys in (tokens, cfg.text.max_position_embeddings):
            rows = attention_query_rows(tokens, keys, heads, images, score_bytes)
            chunks.append({"queries": tokens, "keys": keys, "rows": rows, "chunks": -(-tokens // rows)})
        h, w = (h + 1) // 2, (w + 1) // 2       # Downsample: 3x3, stride 2, padding 1
    return {"heads": heads, "images": images, "score_bytes": score_bytes, "chunks": chunks}


def build_manifest(out_dir, cfg, precisions, seg_files, plan, tokenizer, extra=()):
    comps = {}
    for c in COMPONENTS + [e for e in OPTIONAL_COMPONENTS if e in extra]:
        model = onnx.load(os.path.join(out_dir, c + ".onnx"), load_external_data=False)
        ins, outs = io_spec(model)
        comps[c] = {"inputs": ins, "outputs": outs, "files": _variants(out_dir, c, precisions)}
        if c in ("stage1_unet", "controlnet"):
            comps[c]["spatial_attention"] = spatial_attention_entry(cfg, cfg.stage1_unet)
    segs = []
    for i, sf in enumerate(seg_files):
        model = onnx.load(os.path.join(out_dir, sf), load_external_data=False)
        ins, outs = io_spec(model)
        segs.append({"index": i, "inputs": ins, "outputs": outs,
                     "files": _variants(out_dir, sf[: -len(".onnx")], precisions)})
    comps["stage2_unet"] = {"inputs": [{"name": "sample", "shape": ["batch", 4, cfg.frames, cfg.height // 8, cfg.width // 8],
                                        "dtype": "float32"},
                                       {"name": "timestep", "shape": ["batch"], "dtype": "float32"},
                                       {"name": "encoder_hidden_states", "shape": ["batch", cfg.text.max_position_embeddings,
                                                                                    cfg.text.hidden_size], "dtype": "float32"},
                                       {"name": "flow", "shape": [cfg.frames, 2, cfg.height, cfg.width], "dtype": "float32",
                                        "note": "pixel flows f(0->i), flow[0] = 0; used only by motion_attention steps"}],
                            "outputs": [{"name": "noise_pred", "shape": ["batch", 4, cfg.frames, cfg.height // 8, cfg.width // 8],
                                         "dtype": "float32"}],
                            "segments": segs, "plan": plan,
                            "spatial_attention": spatial_attention_entry(cfg, cfg.stage2_unet)}
    goldens = []
    gdir = os.path.join(out_dir, "goldens")
    if os.path.isdir(gdir):
        for g in sorted(os.listdir(gdir)):
            goldens += file_entry(out_dir, "goldens/" + g)
    tok_files = []
    for k in ("vocab", "merges"):
        tok_files += file_entry(out_dir, tokenizer[k])
    return {
        "schema": SCHEMA_VERSION,
        "name": cfg.name,
        "precisions": list(precisions),
        "canvas": {"width": cfg.width, "height": cfg.height},
        "latent": {"width": cfg.width // cfg.latent_factor, "height": cfg.height // cfg.latent_factor, "channels": 4,
                   "factor": cfg.latent_factor},
        "frames": cfg.frames,
        "stage1_frames": cfg.frames - 1,
        "strides": list(cfg.strides[: cfg.frames - 1]),
        "vae_scale": cfg.vae_scale,
        "text": {"max_length": cfg.text.max_position_embeddings, "hidden_size": cfg.text.hidden_size},
        "scheduler": dict(asdict(cfg.scheduler), name="DDIM", num_inference_steps=25, guidance_scale=7.0),
        "tokenizer": dict(tokenizer, files=tok_files),
        "components": comps,
        "goldens": goldens,
    }
