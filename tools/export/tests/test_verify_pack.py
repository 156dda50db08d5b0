"""verify_pack (the check run on a full-size export) accepts the committed tiny pack and finds hand-made breakages:
a segment's files swapped with another segment's, a plan step naming a tensor no segment writes, a file cut short."""
import json
import os
import shutil

from tools.export.verify_pack import verify

TINY = os.path.join(os.path.dirname(__file__), "..", "..", "..", "public", "models", "tiny")


def _copy(tmp_path):
    d = tmp_path / "pack"
    shutil.copytree(TINY, d)
    return d


def _edit(d, fn):
    p = d / "manifest.json"
    man = json.loads(p.read_text())
    fn(man)
    p.write_text(json.dumps(man))


def test_tiny_pack_verifies_and_reports_every_component():
    problems, sizes = verify(TINY, sha=True, log=lambda *a: None)
    assert problems == []
    man = json.load(open(os.path.join(TINY, "manifest.json")))
    assert set(sizes) == set(man["components"])
    for row in sizes.values():
        assert set(row) == set(man["precisions"]) and all(v > 0 for v in row.values())


def test_swapped_segment_files_are_found(tmp_path):
    d = _copy(tmp_path)

    def swap(man):
        segs = man["components"]["stage2_unet"]["segments"]
        segs[1]["files"]["q4"], segs[2]["files"]["q4"] = segs[2]["files"]["q4"], segs[1]["files"]["q4"]
    _edit(d, swap)
    problems, _ = verify(str(d), checker=False, log=lambda *a: None)
    assert any("seg02.q4.onnx (stage2_unet segment 1, q4): graph inputs/outputs differ" in p for p in problems)
    assert any("seg01.q4.onnx (stage2_unet segment 2, q4)" in p for p in problems)


def test_plan_reading_an_unwritten_tensor_is_found(tmp_path):
    d = _copy(tmp_path)

    def rename(man):
        step = next(s for s in man["components"]["stage2_unet"]["plan"] if s["kind"] == "motion_attention")
        step["qkv"] = "qkv_999"
    _edit(d, rename)
    problems, _ = verify(str(d), checker=False, log=lambda *a: None)
    assert any("motion attention reads ['qkv_999'], which no earlier step writes" in p for p in problems)


def test_a_file_cut_short_is_found(tmp_path):
    d = _copy(tmp_path)
    p = d / "stage1_unet.q4.onnx"
    p.write_bytes(p.read_bytes()[:1000])
    problems, _ = verify(str(d), log=lambda *a: None)
    assert any(s.startswith("stage1_unet.q4.onnx:") and "bytes, the manifest says" in s for s in problems)
    assert any("stage1_unet.q4.onnx (stage1_unet, q4): onnx.checker" in s for s in problems)
