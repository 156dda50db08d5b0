"""Export a model pack from the official Motion-I2V checkpoint folder.

    /usr/bin/python3 -m tools.export <checkpoint-dir> <out-dir> [--precision fp32,q8,fp16,q4,q4f16] [--overwrite]

<checkpoint-dir> is the authors' models/ folder (stage1/, stage2/; layout in checkpoint.py and README.md).
Every file is checked and every module loaded (strict) before anything is exported; the pack is written into a
temporary folder beside <out-dir> and renamed into place at the end, so a failure leaves no half-written pack
and an existing <out-dir> untouched.  Exit status: 0 done, 2 bad input (message names the file), 1 other error.
"""
import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import replace

from tools.export import configs
from tools.export.checkpoint import TOKENIZER_FILES, CheckpointError, check_files, load_component
from tools.export.clip import CLIPTextModel
from tools.export.pack import PRECISIONS, export_pack
from tools.export.unet import ControlNetModel, UNet3DConditionModel
from tools.export.vae import AutoencoderKL


def build_empty(cfg, vocab_size):
    return {
        "text_encoder": CLIPTextModel(replace(cfg.text, vocab_size=vocab_size)),
        "vae": AutoencoderKL(cfg.image_vae),
        "flow_vae": AutoencoderKL(cfg.flow_vae),
        "stage1_unet": UNet3DConditionModel(cfg.stage1_unet),
        "controlnet": ControlNetModel(cfg.stage1_unet, cfg.controlnet_cond_hidden),
        "stage2_unet": UNet3DConditionModel(cfg.stage2_unet),
    }


def load_models(root, cfg, log=print):
    check_files(root)
    import json
    vocab_path = os.path.join(root, TOKENIZER_FILES[0])
    try:
        with open(vocab_path, encoding="utf-8") as f:
            vocab = json.load(f)
    except ValueError as e:
        raise CheckpointError(f"{vocab_path}: expected the CLIP vocabulary as JSON ({e})")
    if cfg.text.vocab_size and len(vocab) != cfg.text.vocab_size:
        raise CheckpointError(f"{vocab_path}: {len(vocab)} tokens, expected {cfg.text.vocab_size} (CLIP ViT-L/14)")
    models = build_empty(cfg, len(vocab))
    for name, module in models.items():
        load_component(root, name, module, log)
        module.eval()
        log(f"loaded {name}")
    return models


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m tools.export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--precision", default="fp32,q8",
                    help=f"comma-separated subset of {','.join(PRECISIONS)} (default fp32,q8)")
    ap.add_argument("--config", default="full", choices=["full", "tiny"],
                    help="architecture sizes: full (the official checkpoints) or tiny (tests)")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing out_dir (only after success)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    log = (lambda *x: None) if a.quiet else (lambda *x: print(*x, flush=True))
    precisions = [p.strip() for p in a.precision.split(",") if p.strip()]
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad or not precisions:
        print(f"error: unknown precision {','.join(bad) or '(none)'}; choose from {','.join(PRECISIONS)}", file=sys.stderr)
        return 2
    out = os.path.abspath(a.out_dir)
    if os.path.exists(out) and not a.overwrite:
        print(f"error: {out} exists; pass --overwrite to replace it", file=sys.stderr)
        return 2
    cfg = configs.FULL if a.config == "full" else configs.TINY
    try:
        models = load_models(a.checkpoint_dir, cfg, log)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".partial-", dir=parent)
    try:
        export_pack(models, cfg, tmp, precisions,
                    tokenizer_files=[os.path.join(a.checkpoint_dir, t) for t in TOKENIZER_FILES], log=log)
        if os.path.exists(out):
            old = tempfile.mkdtemp(prefix="." + os.path.basename(out) + ".old-", dir=parent)
            os.rename(out, os.path.join(old, "pack"))
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
