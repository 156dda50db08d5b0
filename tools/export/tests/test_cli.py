"""`python3 -m tools.export <checkpoint-dir> <out>` on a FAKE official folder built from the tiny seeded weights,
saved in the official layout and formats (.bin pickles, a .safetensors VAE with newer diffusers key names, a
ControlNet with the `controlnet.` prefix, the stage-2 UNet split over three files where later files win).

The good run must reproduce the committed tiny pack's ONNX files byte-for-byte (the tiny pack is proven in the
browser by e2e/gpu/pack-parity.spec.ts), so the CLI's loading + export is checked against an independent path
(make_tiny builds the modules directly).  Each bad input must exit 2 with a message naming the file and what was
expected, and leave no output (or an existing output untouched)."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from tools.export.__main__ import main
from tools.export.checkpoint import write_safetensors
from tools.export.make_tiny import build_models

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PACK = os.path.join(ROOT, "public", "models", "tiny")
S1 = "stage1/StableDiffusion-FlowGen/"
S2 = "stage2/StableDiffusion/"


def _sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def _put(root, rel, sd):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if rel.endswith(".safetensors"):
        write_safetensors(p, sd)
    else:
        torch.save(sd, p)


def make_fake_official(root):
    models, vocab, merges = build_models()
    os.makedirs(os.path.join(root, S2, "tokenizer"))
    with open(os.path.join(root, S2, "tokenizer", "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(root, S2, "tokenizer", "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2 (tiny)\n" + "\n".join(merges) + "\n")
    _put(root, S2 + "text_encoder/pytorch_model.bin", models["text_encoder"].state_dict())
    vae = {k.replace(".query.", ".to_q.").replace(".key.", ".to_k.").replace(".value.", ".to_v.")
           .replace(".proj_attn.", ".to_out.0."): v for k, v in models["vae"].state_dict().items()}
    _put(root, S2 + "vae/diffusion_pytorch_model.safetensors", vae)
    _put(root, S1 + "vae_flow/diffusion_pytorch_model.bin", models["flow_vae"].state_dict())
    cn = models["controlnet"].state_dict()
    u1 = dict(models["stage1_unet"].state_dict())
    u1["controlnet.conv_in.weight"] = cn["conv_in.weight"]           # the upstream UNet owns its ControlNet
    _put(root, S1 + "unet/diffusion_pytorch_model.bin", u1)
    _put(root, S1 + "controlnet/controlnet.bin", {"controlnet." + k: v for k, v in cn.items()})
    u2 = models["stage2_unet"].state_dict()
    motion = {k: v for k, v in u2.items() if ".motion_modules." in k}
    spatial = {k: v for k, v in u2.items() if k not in motion}
    realistic = {k: v for k, v in spatial.items() if ".attentions." in k or ".resnets." in k}
    sd15 = {k: (torch.full_like(v, 7.0) if k in realistic else v) for k, v in spatial.items()}  # overridden later
    _put(root, S2 + "unet/diffusion_pytorch_model.bin", sd15)
    _put(root, "stage2/Motion_Module/motion_block.bin", motion)
    _put(root, "stage2/DreamBooth_LoRA/realistic_unet.ckpt", {"state_dict": realistic})
    return root


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    return make_fake_official(str(tmp_path_factory.mktemp("official") / "models"))


@pytest.fixture(scope="module")
def exported(fake, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("packs") / "tiny-from-cli")
    assert main([fake, out, "--config", "tiny", "--precision", "fp32,q8,q4", "--quiet"]) == 0
    return out


def test_cli_reproduces_the_tiny_pack(exported):
    man = json.load(open(os.path.join(exported, "manifest.json")))
    ref = json.load(open(os.path.join(PACK, "manifest.json")))
    assert man["precisions"] == ["fp32", "q8", "q4"]
    assert man["components"] == ref["components"]        # every file's bytes/sha256, I/O specs and the plan
    for c in man["components"].values():
        entries = [e for v in c.get("files", {}).values() for e in v]
        entries += [e for s in c.get("segments", []) for v in s["files"].values() for e in v]
        for e in entries:
            assert _sha(os.path.join(exported, e["path"])) == e["sha256"], e["path"]
    assert man["tokenizer"] == ref["tokenizer"]
    assert not [d for d in os.listdir(os.path.dirname(exported)) if d.startswith(".")]   # no temp dirs left


def _run_bad(fake, tmp_path, mutate, capsys, existing=False):
    bad = str(tmp_path / "models")
    shutil.copytree(fake, bad)
    mutate(bad)
    out = tmp_path / "pack"
    if existing:
        out.mkdir()
        (out / "keep.txt").write_text("old pack")
    code = main([bad, str(out), "--config", "tiny", "--quiet"] + (["--overwrite"] if existing else []))
    err = capsys.readouterr().err
    assert code == 2, err
    if existing:
        assert sorted(os.listdir(out)) == ["keep.txt"] and (out / "keep.txt").read_text() == "old pack"
    else:
        assert not out.exists()
    assert not [d for d in os.listdir(tmp_path) if d.startswith(".")]
    return err


def test_missing_file(fake, tmp_path, capsys):
    err = _run_bad(fake, tmp_path, lambda r: os.remove(os.path.join(r, "stage2/Motion_Module/motion_block.bin")), capsys)
    assert "stage2/Motion_Module/motion_block.bin" in err and "motion modules" in err and "missing" in err


def test_renamed_file(fake, tmp_path, capsys):
    def mv(r):
        d = os.path.join(r, S1, "controlnet")
        os.rename(os.path.join(d, "controlnet.bin"), os.path.join(d, "controlnet_v1.bin"))
    err = _run_bad(fake, tmp_path, mv, capsys, existing=True)
    assert S1 + "controlnet/controlnet.bin" in err and "ControlNet" in err


def test_wrong_shape(fake, tmp_path, capsys):
    def shape(r):
        p = os.path.join(r, S1, "unet/diffusion_pytorch_model.bin")
        sd = torch.load(p)
        sd["conv_in.weight"] = torch.zeros(16, 4, 3, 3)          # a stage-2 (4-channel) conv_in in the stage-1 file
        torch.save(sd, p)
    err = _run_bad(fake, tmp_path, shape, capsys)
    assert S1 + "unet/diffusion_pytorch_model.bin" in err
    assert "conv_in.weight has shape (16, 4, 3, 3), expected (16, 8, 3, 3)" in err


def test_missing_key(fake, tmp_path, capsys):
    key = "decoder.conv_out.weight"

    def drop(r):
        p = os.path.join(r, S1, "vae_flow/diffusion_pytorch_model.bin")
        sd = torch.load(p)
        del sd[key]
        torch.save(sd, p)
    err = _run_bad(fake, tmp_path, drop, capsys, existing=True)
    assert S1 + "vae_flow/diffusion_pytorch_model.bin" in err and key in err and "(2, 8, 3, 3)" in err


def test_wrong_safetensors_shape_and_unexpected_key(fake, tmp_path, capsys):
    def extra(r):
        p = os.path.join(r, S2, "text_encoder/pytorch_model.bin")
        sd = torch.load(p)
        sd["text_model.pooler.weight"] = torch.zeros(3)
        torch.save(sd, p)
    err = _run_bad(fake, tmp_path, extra, capsys)
    assert S2 + "text_encoder/pytorch_model.bin" in err and "text_model.pooler.weight" in err and "unexpected" in err


def test_partial_folder(fake, tmp_path, capsys):
    err = _run_bad(fake, tmp_path, lambda r: shutil.rmtree(os.path.join(r, "stage2")), capsys)
    # every missing file is listed at once, with what it should contain
    for rel in ("stage2/Motion_Module/motion_block.bin", "stage2/DreamBooth_LoRA/realistic_unet.ckpt",
                S2 + "vae/diffusion_pytorch_model.safetensors", S2 + "tokenizer/vocab.json"):
        assert rel in err, rel
    assert "7 expected file(s) missing" in err      # text encoder, VAE, 3 stage-2 UNet files, 2 tokenizer files


def test_module_entry_point_exit_status(tmp_path):
    """The real command line: a folder that is not a checkpoint folder exits 2 with a one-line reason."""
    r = subprocess.run([sys.executable, "-m", "tools.export", str(tmp_path / "nope"), str(tmp_path / "out")],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "not a folder" in r.stderr and not (tmp_path / "out").exists()
