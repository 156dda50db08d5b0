"""Sliced (query-chunked) spatial attention: same numbers as the whole-matrix formula, and an ONNX
graph whose largest score tensor stays within the budget."""
import io
import math

import numpy as np
import onnx
import torch

from tools.export.configs import FULL, TINY
from tools.export.layers import CrossAttention, attention, attention_query_rows


def _reference(q, k, v, heads):
    """Per head and image: softmax(q k^T / sqrt(hd)) v over all query rows at once, in float64."""
    n, lq, d = q.shape
    hd = d // heads
    q, k, v = (t.double().numpy() for t in (q, k, v))
    out = np.zeros((n, lq, d))
    for i in range(n):
        for h in range(heads):
            s = slice(h * hd, (h + 1) * hd)
            w = q[i, :, s] @ k[i, :, s].T / math.sqrt(hd)
            w = np.exp(w - w.max(axis=1, keepdims=True))
            out[i, :, s] = (w / w.sum(axis=1, keepdims=True)) @ v[i, :, s]
    return out


def test_query_rows_keep_one_chunk_within_budget():
    for lq, lk, heads, images, budget in [(24, 24, 2, 6, 8192), (24, 16, 2, 8, 8192), (2560, 2560, 8, 30, 1 << 27),
                                          (2560, 77, 8, 32, 1 << 27), (640, 640, 8, 30, 1 << 27), (7, 5, 1, 1, 4)]:
        rows = attention_query_rows(lq, lk, heads, images, budget)
        assert 1 <= rows <= lq
        assert 4 * images * heads * rows * lk <= max(budget, 4 * images * heads * lk)
        # evened out: no more chunks than the largest fitting chunk needs
        fit = max(1, min(lq, budget // (4 * images * heads * lk)))
        assert math.ceil(lq / rows) == math.ceil(lq / fit)
    assert attention_query_rows(2560, 2560, 8, 30, None) == 2560
    # full size, stage 1 top level: 48 chunks of 54 rows (the last 22), each 132.7 MB <= 128 MiB
    assert attention_query_rows(2560, 2560, 8, 2 * FULL.stage1_unet.frames, FULL.stage1_unet.attention_score_bytes) == 54


def test_sliced_attention_matches_the_whole_matrix():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 24, 8, generator=g) * 2 for _ in range(3))
    want = _reference(q, k, v, 2)
    for rows in (None, 24, 6, 5, 1):
        got = attention(q, k, v, 2, rows).double().numpy()
        assert np.abs(got - want).max() < 1e-5, rows


def _export(module, *args):
    """Static shapes (batch 1), so that ONNX shape inference knows every score tensor's size."""
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, args, buf, opset_version=17, input_names=[f"x{i}" for i in range(len(args))],
                          output_names=["y"])
    return onnx.shape_inference.infer_shapes(onnx.load_from_string(buf.getvalue()))


def _softmax_inputs(model):
    shapes = {vi.name: [d.dim_value or d.dim_param for d in vi.type.tensor_type.shape.dim] for vi in model.graph.value_info}
    return [shapes[n.input[0]] for n in model.graph.node if n.op_type == "Softmax"]


def test_tiny_top_level_exports_several_score_chunks():
    cfg = TINY.stage1_unet
    images, budget = 2 * cfg.frames, cfg.attention_score_bytes
    c = cfg.block_out_channels[0]
    tokens = (TINY.height // 8) * (TINY.width // 8)
    torch.manual_seed(0)
    self_attn = CrossAttention(c, cfg.attention_heads, c // cfg.attention_heads, slicing=(images, budget)).eval()
    cross = CrossAttention(c, cfg.attention_heads, c // cfg.attention_heads, cfg.cross_attention_dim,
                           slicing=(images, budget)).eval()
    x = torch.randn(1, tokens, c)
    ctx = torch.randn(1, TINY.text.max_position_embeddings, cfg.cross_attention_dim)
    for model, want in [(_export(self_attn, x), [[1, 2, 6, 24]] * 4), (_export(cross, x, ctx), [[1, 2, 8, 16]] * 3)]:
        got = _softmax_inputs(model)
        assert got == want
        for shape in got:
            assert 4 * images * math.prod(shape[1:]) <= budget
    # stage 2 (4 frames): 24 rows in 5 chunks, the last one shorter
    s2 = TINY.stage2_unet
    s2_attn = CrossAttention(c, s2.attention_heads, c // s2.attention_heads, slicing=(2 * s2.frames, s2.attention_score_bytes))
    assert [s[2] for s in _softmax_inputs(_export(s2_attn.eval(), x))] == [5, 5, 5, 5, 4]
