"""Segmented stage-2 UNet == unsplit module; exported pack passes onnx.checker; manifest/goldens consistent;
q8 reconstructs the weights; the tiny pack regenerates byte-for-byte."""
import hashlib
import json
import os
import tempfile

import numpy as np
import onnx
import pytest
import torch

from tools.export import golden
from tools.export.configs import TINY
from tools.export.make_tiny import build_models, make
from tools.export.onnx_export import StepsModule, split_program
from tools.export.quantize import dequantize_q8_initializer
from tools.export.unet import run_steps

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PACK = os.path.join(ROOT, "public", "models", "tiny")


def _sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def test_segments_chain_to_unsplit_result():
    models, _, _ = build_models()
    u = models["stage2_unet"].double()
    B, Fr, h, w = 2, TINY.frames, TINY.height // 8, TINY.width // 8
    g = torch.Generator().manual_seed(3)
    x = torch.randn(B, 4, Fr, h, w, generator=g, dtype=torch.float64)
    t = torch.tensor([700.0, 700.0], dtype=torch.float64)
    ctx = torch.randn(B, TINY.text.max_position_embeddings, 32, generator=g, dtype=torch.float64)
    flow = torch.randn(Fr, 2, TINY.height, TINY.width, generator=g, dtype=torch.float64) * 5
    flow[0] = 0
    with torch.no_grad():
        whole = u(x, t, ctx, flow=flow)
        plan = split_program(u.program(), u.input_names(), ["noise_pred"])
        env = {"sample": x, "timestep": t, "encoder_hidden_states": ctx}
        n_cuts = 0
        for item in plan:
            if item[0] == "onnx":
                _, steps, ins, outs = item
                res = StepsModule(u, steps, ins, outs)(*[env[k] for k in ins])
                env = {k: v for k, v in env.items() if k in ("sample", "timestep", "encoder_hidden_states") or
                       any(k in p[2] for p in plan if p[0] == "onnx")}  # keep only named tensors
                env.update(zip(outs, res))
            else:
                s = item[1]
                env.update(zip(s.writes, s.fn(*[env[k] for k in s.reads], flow)))
                n_cuts += 1
    # 7 temporal modules x 2 attentions in the tiny config
    assert n_cuts == 14
    assert torch.equal(env["noise_pred"], whole)


def test_pack_checker_and_manifest():
    man = json.load(open(os.path.join(PACK, "manifest.json")))
    files = []
    for c in man["components"].values():
        if "files" in c:
            for v in c["files"].values():
                files += v
        for s in c.get("segments", []):
            for v in s["files"].values():
                files += v
    files += man["goldens"] + man["tokenizer"]["files"]
    total = 0
    for f in files:
        p = os.path.join(PACK, f["path"])
        assert os.path.getsize(p) == f["bytes"], f["path"]
        assert _sha(p) == f["sha256"], f["path"]
        total += f["bytes"]
        if p.endswith(".onnx"):
            m = onnx.load(p)
            onnx.checker.check_model(m)
            assert m.opset_import[0].version == 17
    assert total < 30e6
    plan = man["components"]["stage2_unet"]["plan"]
    kinds = [p["kind"] for p in plan]
    assert kinds.count("motion_attention") == 14 and kinds.count("onnx") == 15
    assert all(kinds[i] != kinds[i + 1] for i in range(len(kinds) - 1))
    # every onnx step's inputs are produced before it (or are UNet inputs)
    avail = {"sample", "timestep", "encoder_hidden_states"}
    for p in plan:
        ins = p["inputs"] if p["kind"] == "onnx" else [p["qkv"], p["frame0_kv"], p["pe"]]
        assert set(ins) <= avail, p
        avail |= set(p["outputs"] if p["kind"] == "onnx" else [p["warped"], p["output"]])
    assert "noise_pred" in avail


def test_goldens_readable_and_consistent():
    t, meta = golden.read(os.path.join(PACK, "goldens", "stage2_unet.bin"))
    man = json.load(open(os.path.join(PACK, "manifest.json")))
    for p in man["components"]["stage2_unet"]["plan"]:
        if p["kind"] == "motion_attention":
            F, hh, ww, C = p["frames"], p["height"], p["width"], p["channels"]
            for k in ("qkv", "frame0_kv", "pe", "warped", "output", "resized_flow"):
                assert p[k] in t, (p, k)
            assert t[p["qkv"]].shape == (2 * F, hh, ww, 3 * C)
            assert t[p["frame0_kv"]].shape == (2, hh, ww, 2 * C)
            assert t[p["pe"]].shape == (2 * F - 1, 3 * C)
            assert t[p["warped"]].shape == (2, F - 1, hh, ww, 2 * C)
            assert t[p["output"]].shape == (2 * F, hh, ww, C)
        else:
            for k in p["inputs"] + p["outputs"]:
                assert k in t, k
    v, _ = golden.read(os.path.join(PACK, "goldens", "pipeline_i2v.bin"))
    assert v["video"].shape == (TINY.frames, 3, TINY.height, TINY.width)
    assert np.isfinite(v["video"]).all() and np.abs(v["flows"][0]).max() == 0


def test_q8_reconstructs_weights():
    m32 = onnx.load(os.path.join(PACK, "stage1_unet.onnx"))
    m8 = onnx.load(os.path.join(PACK, "stage1_unet.q8.onnx"))
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in m32.graph.initializer}
    dq = [n.output[0] for n in m8.graph.node if n.op_type == "DequantizeLinear"]
    assert len(dq) > 20
    for name in dq:
        w = inits[name]
        r = dequantize_q8_initializer(m8, name)
        amax = np.abs(w).max()
        assert np.abs(r - w).max() <= amax / 127 * 0.51 + 1e-7
    assert os.path.getsize(os.path.join(PACK, "stage1_unet.q8.onnx")) < 0.6 * os.path.getsize(os.path.join(PACK, "stage1_unet.onnx"))


def test_tiny_pack_regenerates_byte_for_byte():
    with tempfile.TemporaryDirectory() as d:
        make(d, verbose=False)
        got = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
        want = sorted(os.path.relpath(os.path.join(r, f), PACK) for r, _, fs in os.walk(PACK) for f in fs)
        assert got == want
        for f in got:
            assert _sha(os.path.join(d, f)) == _sha(os.path.join(PACK, f)), f
