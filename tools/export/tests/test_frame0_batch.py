"""frame0_batch "reference_quirk" (the authors' frame-0 batch mixing under guidance): the index mapping, the tiny
pack's quirk goldens, and the exporter option that writes it into a pack's plan."""
import json
import os

import numpy as np
import pytest
import torch

from tools.export import golden
from tools.export.pack import motion_attention_plan_step
from tools.export.softsplat import frame0_source, motion_tokens, warp_frame0

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PACK = os.path.join(ROOT, "public", "models", "tiny")
GOLD = os.path.join(PACK, "goldens")


def _rel(a, b):
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max() / np.abs(b).max())


@pytest.mark.parametrize("B,F", [(2, 4), (2, 16), (3, 5), (1, 16)])
def test_frame0_source_is_the_authors_repeat(B, F):
    """motion_tokens indexes the authors' way (arange(B*(F-1)) % B over the repeated rows); warp_frame0 goes through
    frame0_source: both must pick the same frame 0 for every (entry, flow)."""
    torch.manual_seed(0)
    h, w, C = 3, 4, 2
    tok = torch.randn(B * F, h, w, C, dtype=torch.float64)
    flow = torch.randn(F, 2, 6, 8, dtype=torch.float64) * 2
    flow[0] = 0
    kv = motion_tokens(tok, flow, F, "reference_quirk")[:, 1::2]                 # (B, F-1, h, w, C) warped
    got = warp_frame0(tok.reshape(B, F, h, w, C)[:, 0], flow, F, "reference_quirk")
    assert torch.equal(kv, got)
    want = (torch.arange(B * (F - 1)) % B).reshape(B, F - 1)
    assert [[frame0_source(b, j, B, F, "reference_quirk") for j in range(F - 1)] for b in range(B)] == want.tolist()
    assert all(frame0_source(b, j, B, F, "same") == b for b in range(B) for j in range(F - 1))


def test_quirk_warp_is_the_same_warp_reordered_between_entries():
    """What the browser relies on: warped_quirk(b, j) = warped_same(src(b, j), j), on the golden's own kv0 / warped."""
    g, _ = golden.read(os.path.join(GOLD, "stage2_unet.bin"))
    q, meta = golden.read(os.path.join(GOLD, "stage2_unet.quirk.bin"))
    F = g["sample"].shape[2]
    B = g["sample"].shape[0]
    flow = torch.from_numpy(g["flow"].astype(np.float64))
    src = meta["frame0_source"]
    assert src == [[0, 1, 0], [1, 0, 1]]
    cuts = sorted(int(k.split("_")[1]) for k in q if k.startswith("warped_"))
    assert len(cuts) == 14
    for k in cuts:
        same = warp_frame0(torch.from_numpy(q[f"kv0_{k}"].astype(np.float64)), flow, F, "same").numpy()
        want = np.stack([np.stack([same[src[b][j], j] for j in range(F - 1)]) for b in range(B)])
        assert _rel(q[f"warped_{k}"], want) < 1e-5, k


def test_quirk_goldens_differ_from_the_same_goldens_from_the_first_cut_on():
    g, _ = golden.read(os.path.join(GOLD, "stage2_unet.bin"))
    q, _ = golden.read(os.path.join(GOLD, "stage2_unet.quirk.bin"))
    # before the first cut both modes compute the same
    assert np.array_equal(g["kv0_0"], q["kv0_0"]) and np.array_equal(g["qkv_0"], q["qkv_0"])
    assert _rel(g["warped_0"], q["warped_0"]) > 0.1
    assert _rel(g["noise_pred"], q["noise_pred"]) > 1e-2
    p, _ = golden.read(os.path.join(GOLD, "pipeline_stage2.bin"))
    pq, pmeta = golden.read(os.path.join(GOLD, "pipeline_stage2.quirk.bin"))
    assert pmeta["frame0_batch"] == "reference_quirk"
    for k in ("image01", "noise_stage2", "eps_image_stage2", "flows", "brush"):
        assert np.array_equal(p[k], pq[k]), k
    assert _rel(p["stage2_latents"], pq["stage2_latents"]) > 1e-2


def test_plan_step_writes_the_mode_and_refuses_others():
    class S:
        reads, writes, meta = ["qkv_0", "kv0_0", "pe_0"], ["warped_0", "attn_0"], {"module": "m", "heads": 2}
    assert motion_attention_plan_step(S, (8, 4, 6, 48), 4)["frame0_batch"] == "same"
    assert motion_attention_plan_step(S, (8, 4, 6, 48), 4, "reference_quirk")["frame0_batch"] == "reference_quirk"
    with pytest.raises(ValueError, match="frame0_batch"):
        motion_attention_plan_step(S, (8, 4, 6, 48), 4, "mixed")


def test_cli_option_changes_only_the_plan_field(tmp_path):
    """--frame0-batch reference_quirk: the same graphs as the tiny pack, the plan's motion attentions say
    reference_quirk; an unknown value is refused before anything is loaded."""
    from tools.export.__main__ import main
    from tools.export.fake_official import tiny_fake_official
    fake = tiny_fake_official(str(tmp_path / "official" / "models"))
    with pytest.raises(SystemExit) as e:
        main([fake, str(tmp_path / "bad"), "--config", "tiny", "--frame0-batch", "mixed", "--quiet"])
    assert e.value.code == 2 and not (tmp_path / "bad").exists()
    out = tmp_path / "quirk"
    assert main([fake, str(out), "--config", "tiny", "--precision", "fp32", "--frame0-batch", "reference_quirk",
                 "--quiet"]) == 0
    man = json.load(open(out / "manifest.json"))
    ref = json.load(open(os.path.join(PACK, "manifest.json")))
    got, want = man["components"]["stage2_unet"], ref["components"]["stage2_unet"]
    steps = [s for s in got["plan"] if s["kind"] == "motion_attention"]
    assert len(steps) == 14 and all(s["frame0_batch"] == "reference_quirk" for s in steps)
    for s in want["plan"]:
        if s["kind"] == "motion_attention":
            s["frame0_batch"] = "reference_quirk"
    assert got["plan"] == want["plan"]
    assert [s["files"]["fp32"] for s in got["segments"]] == [s["files"]["fp32"] for s in want["segments"]]
