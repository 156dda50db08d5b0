"""fp16, q4 and q4f16 variants: onnx.checker, consistent types (strict shape inference for fp16), fp32 graph I/O,
norms/softmax/embeddings kept in fp32, and the 4-bit weights reconstructed in numpy from the MatMulNBits blobs
(unpacked straight from the contrib-op spec, independently of the packer) within half a quantisation step."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

from tools.export.quantize import (KEEP_FP32, Q4_BLOCK, convert_fp16, quantize_blocks_q4, quantize_q4,
                                   quantize_q4f16)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PACK = os.path.join(ROOT, "public", "models", "tiny")
# seg00 outputs tensors (skips) that later nodes of the same graph also read
FILES = ["text_encoder.onnx", "vae_decoder.onnx", "stage1_unet.onnx", "stage2_unet.seg00.onnx", "stage2_unet.seg01.onnx"]


def _load(f):
    return onnx.load(os.path.join(PACK, f))


def _spec_dequant(packed, scales, K, N, block):
    """MatMulNBits dequantisation written from the spec with explicit loops over bytes (slow, obvious)."""
    kb = packed.shape[1]
    w = np.zeros((K, N), dtype=np.float64)
    s = scales.astype(np.float64).reshape(N, kb)
    for n in range(N):
        for b in range(kb):
            for j in range(block // 2):
                byte = int(packed[n, b, j])
                for nib, code in ((0, byte & 0xF), (1, byte >> 4)):
                    k = b * block + 2 * j + nib
                    if k < K:
                        w[k, n] = (code - 8) * s[n, b]
    return w


def test_q4_packing_matches_spec_loops():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((70, 5)).astype(np.float32)         # K not a multiple of the block: padded last block
    w[:32, 2] = 0                                                # an all-zero block
    packed, scales = quantize_blocks_q4(w)
    assert packed.shape == (5, 3, Q4_BLOCK // 2) and packed.dtype == np.uint8 and scales.shape == (15,)
    r = _spec_dequant(packed, scales, 70, 5, Q4_BLOCK)
    step = np.repeat(scales.reshape(5, 3), Q4_BLOCK, axis=1)[:, :70].T
    assert np.all(np.abs(r - w) <= step / 2 + 1e-7)
    assert np.all(r[:32, 2] == 0)


@pytest.mark.parametrize("fname", FILES)
def test_q4_reconstructs_linear_weights(fname):
    m32 = _load(fname)
    inits = {i.name: numpy_helper.to_array(i) for i in m32.graph.initializer}
    gemm_weights = {n.input[1] for n in m32.graph.node if n.op_type == "Gemm"}
    codes = {}
    for variant, scale_dt in ((quantize_q4(m32), np.float32), (quantize_q4f16(m32), np.float16)):
        onnx.checker.check_model(variant)
        assert any(o.domain == "com.microsoft" and o.version == 1 for o in variant.opset_import)
        vinits = {i.name: numpy_helper.to_array(i) for i in variant.graph.initializer}
        nodes = [n for n in variant.graph.node if n.op_type == "MatMulNBits"]
        assert nodes, fname
        for n in nodes:
            a = {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
            assert a["bits"] == 4 and a["block_size"] == 32 and n.domain == "com.microsoft" and len(n.input) == 3
            packed, scales = vinits[n.input[1]], vinits[n.input[2]]
            assert packed.dtype == np.uint8 and scales.dtype == scale_dt
            K, N = a["K"], a["N"]
            assert packed.shape == (N, (K + 31) // 32, 16) and scales.shape == (N * ((K + 31) // 32),)
            base = n.input[1][: -len("_q4")]
            w = inits[base]
            w = w.T if base in gemm_weights else w                 # Gemm weights are [N, K] (transB = 1)
            assert w.shape == (K, N)
            r = _spec_dequant(packed, scales, K, N, 32)
            step = np.repeat(scales.astype(np.float64).reshape(N, -1), 32, axis=1)[:, :K].T
            # fp16 scales: the scale itself is rounded (rel 2^-11), which moves the largest code by <= 7 * that
            slack = 1e-7 if scale_dt == np.float32 else 7 * np.abs(step) * 2.0 ** -11 + 1e-6
            assert np.all(np.abs(r - w) <= step / 2 + slack), (fname, base)
            # q4f16 holds q4's codes (its goldens are q4's): only the scales' dtype differs
            if scale_dt == np.float32:
                codes[base] = packed
            else:
                assert np.array_equal(packed, codes[base]), (fname, base)


@pytest.mark.parametrize("fname", FILES)
def test_fp16_types_and_fp32_islands(fname):
    m32 = _load(fname)
    m16 = convert_fp16(m32)
    onnx.checker.check_model(m16)
    inf = onnx.shape_inference.infer_shapes(m16, strict_mode=True)     # raises on any dtype mismatch
    # same graph I/O as fp32 (names and float32), so the runtime treats every precision alike
    io = lambda m: [(v.name, v.type.tensor_type.elem_type) for v in list(m.graph.input) + list(m.graph.output)]
    assert io(m16) == io(m32)
    types = {v.name: v.type.tensor_type.elem_type
             for v in list(inf.graph.value_info) + list(inf.graph.input) + list(inf.graph.output)}
    types.update({i.name: i.data_type for i in m16.graph.initializer})
    read_by_heavy = {n.input[0 if n.op_type == "Gather" else 1] for n in m16.graph.node
                     if n.op_type in ("Conv", "MatMul", "Gemm", "Gather")}
    weights = [i for i in m16.graph.initializer if i.name in read_by_heavy and len(i.dims) >= 2]
    assert weights and all(i.data_type == TensorProto.FLOAT16 for i in weights)   # incl. the token embedding
    heavy = [n for n in m16.graph.node if n.op_type in ("Conv", "MatMul", "Gemm")]
    assert heavy and all(types.get(n.input[0]) == TensorProto.FLOAT16 for n in heavy)
    for n in m16.graph.node:
        if n.op_type in KEEP_FP32 - {"Cast"}:
            assert types.get(n.input[0]) == TensorProto.FLOAT, (n.op_type, n.name)
        if n.op_type in ("Sin", "Cos"):                       # sinusoidal embeddings of t up to 1000
            assert types.get(n.input[0]) == TensorProto.FLOAT, n.name
    w32 = sum(i.ByteSize() for i in m32.graph.initializer)
    w16 = sum(i.ByteSize() for i in m16.graph.initializer)
    assert w16 < (0.75 if "seg" in fname else 0.6) * w32   # small segments: fp32 norms + position table weigh more
    # weights are the fp32 ones rounded to fp16
    i32 = {i.name: numpy_helper.to_array(i) for i in m32.graph.initializer}
    for i in weights:
        src = i32[i.name.replace("__fp16", "")]
        assert np.array_equal(numpy_helper.to_array(i), src.astype(np.float16))


def test_precision_error_script_reproduces_the_i2v_golden_at_fp32():
    """precision_error.py's I2V replays goldens/pipeline_i2v.bin: with unchanged weights it must land on the golden
    (so its q8/q4/fp16/q4f16 rows measure the weights' storage, not a different pipeline)."""
    from tools.export import precision_error
    (_, flow_max, _, video_max, _), = precision_error.run(PACK, ["fp32"])
    assert flow_max < 1e-4 and video_max < 1e-6


def test_float_tensors_from_the_weightless_skeleton_equal_full_shape_inference():
    """Above 2 GB a model cannot be serialised for shape inference; the skeleton without weight data must infer the
    same float tensors as the whole model (limit 0: every initializer's data left out)."""
    from tools.export.quantize import _float_tensors
    m = onnx.load(os.path.join(PACK, "stage1_unet.onnx"))
    g = onnx.shape_inference.infer_shapes(m).graph
    full = {v.name for v in list(g.input) + list(g.output) + list(g.value_info)
            if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}
    full |= {i.name for i in g.initializer if i.data_type == onnx.TensorProto.FLOAT}
    full |= {n.output[0] for n in g.node if n.op_type == "Constant"
             and any(a.name == "value" and a.t.data_type == onnx.TensorProto.FLOAT for a in n.attribute)}
    assert _float_tensors(m, limit=0) == full and len(full) > 100


@pytest.mark.parametrize("fname", FILES)
def test_q4c8_int8_convs_and_4bit_linears(fname):
    """q4c8 / q4c8f16: every Conv weight of at least MIN_ELEMENTS is int8 per output channel (DequantizeLinear axis 0
    with fp32 scales; q4c8f16: then a Cast to fp16, so the Conv's inputs stay fp16), reconstructed within half a step
    of the fp32 weight; the Linear layers are the q4 / q4f16 MatMulNBits; strict type inference; fp32 graph I/O."""
    from tools.export.quantize import MIN_ELEMENTS, quantize_q4c8, quantize_q4c8f16
    m32 = _load(fname)
    i32 = {i.name: numpy_helper.to_array(i) for i in m32.graph.initializer}
    conv_w = {n.input[1] for n in m32.graph.node if n.op_type == "Conv"}
    big = {w for w in conv_w if i32[w].size >= MIN_ELEMENTS}
    io = lambda m: [(v.name, v.type.tensor_type.elem_type) for v in list(m.graph.input) + list(m.graph.output)]
    for variant, half in ((quantize_q4c8(m32), False), (quantize_q4c8f16(m32), True)):
        onnx.checker.check_model(variant)
        act = TensorProto.FLOAT16 if half else TensorProto.FLOAT
        # onnx does not know the contrib MatMulNBits: declare its output type (that of its scales, as ORT does) so
        # strict inference types everything downstream of it too
        typed = onnx.ModelProto()
        typed.CopyFrom(variant)
        typed.graph.value_info.extend(onnx.helper.make_tensor_value_info(n.output[0], act, None)
                                      for n in variant.graph.node if n.op_type == "MatMulNBits")
        inf = onnx.shape_inference.infer_shapes(typed, strict_mode=True)
        assert io(variant) == io(m32)
        types = {v.name: v.type.tensor_type.elem_type
                 for v in list(inf.graph.value_info) + list(inf.graph.input) + list(inf.graph.output)}
        vinits = {i.name: numpy_helper.to_array(i) for i in variant.graph.initializer}
        types.update({i.name: i.data_type for i in variant.graph.initializer})
        producer = {o: n for n in variant.graph.node for o in n.output}
        convs = [n for n in variant.graph.node if n.op_type == "Conv"]
        assert len(convs) == sum(1 for n in m32.graph.node if n.op_type == "Conv")
        quantised = set()
        for n in convs:
            assert types.get(n.input[0]) == act and types.get(n.input[1]) == act, n.name
            p = producer.get(n.input[1])
            if p is None:                                         # a small conv weight stays a float initializer
                assert n.input[1].replace("__fp16", "") in conv_w - big, n.input[1]
                continue
            if half:
                assert p.op_type == "Cast" and _attr_i(p, "to") == TensorProto.FLOAT16
                p = producer[p.input[0]]
            assert p.op_type == "DequantizeLinear" and _attr_i(p, "axis") == 0
            q, s, zp = (vinits[x] for x in p.input)
            assert q.dtype == np.int8 and s.dtype == np.float32 and zp.dtype == np.int8 and not zp.any()
            base = p.input[0][: -len("_q8")]
            w = i32[base]
            assert q.shape == w.shape and s.shape == (w.shape[0],)
            axis = _attr_i(p, "axis")
            shp = [1] * q.ndim
            shp[axis] = -1
            r = q.astype(np.float64) * s.astype(np.float64).reshape(shp)       # DequantizeLinear, from the spec
            step = np.broadcast_to(s.reshape(shp), w.shape).astype(np.float64)
            if half:                                               # the Cast rounds the dequantised weight to fp16
                r = r.astype(np.float32).astype(np.float16).astype(np.float64)
                step = step + 2 * np.abs(w) * 2.0 ** -11
            assert np.all(np.abs(r - w) <= step / 2 + 1e-7), (fname, base)
            quantised.add(base)
        assert quantised == big
        mnb = [n for n in variant.graph.node if n.op_type == "MatMulNBits"]
        assert mnb and all(vinits[n.input[2]].dtype == (np.float16 if half else np.float32) for n in mnb)
        for n in variant.graph.node:
            if n.op_type in KEEP_FP32 - {"Cast"}:
                assert types.get(n.input[0]) == TensorProto.FLOAT, (n.op_type, n.name)
    if big:
        size = lambda m: sum(i.ByteSize() for i in m.graph.initializer)
        assert size(quantize_q4c8f16(m32)) < size(quantize_q4f16(m32))
        # int8 convs against q4's fp32 ones; the 4-bit Linear layers (seg00 also holds the first cut's q/k/v
        # projection) are the same in both, so the ratio depends on the graph's share of conv weights
        assert size(quantize_q4c8(m32)) < 0.7 * size(quantize_q4(m32))


def _attr_i(node, name):
    return next(onnx.helper.get_attribute_value(a) for a in node.attribute if a.name == name)
