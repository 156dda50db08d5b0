"""Post-export precision variants of an fp32 ONNX model.

q8:    weight-only int8, symmetric, per output channel: W -> DequantizeLinear(Wq int8, scale f32[N], zp int8[N], axis)
       for the weights of MatMul (axis 1), Gemm transB=1 (axis 0) and Conv (axis 0).  Activations stay fp32.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

MIN_ELEMENTS = 256


def _consumers(graph):
    out = {}
    for n in graph.node:
        for i, name in enumerate(n.input):
            out.setdefault(name, []).append((n, i))
    return out


def _weight_axis(node, idx):
    if idx != 1:
        return None
    if node.op_type == "MatMul":
        return 1
    if node.op_type == "Conv":
        return 0
    if node.op_type == "Gemm":
        tb = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return 0 if tb else 1
    return None


def quantize_q8(model: onnx.ModelProto) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    cons = _consumers(g)
    new_inits, dq_nodes = [], []
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT or len(init.dims) < 2:
            new_inits.append(init)
            continue
        uses = cons.get(init.name, [])
        axes = {_weight_axis(n, i) for n, i in uses}
        w = numpy_helper.to_array(init)
        if len(uses) == 0 or None in axes or len(axes) != 1 or w.size < MIN_ELEMENTS:
            new_inits.append(init)
            continue
        axis = axes.pop()
        red = tuple(d for d in range(w.ndim) if d != axis)
        amax = np.abs(w).max(axis=red)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shp = [1] * w.ndim
        shp[axis] = -1
        q = np.clip(np.round(w / scale.reshape(shp)), -127, 127).astype(np.int8)
        base = init.name
        new_inits += [numpy_helper.from_array(q, base + "_q8"), numpy_helper.from_array(scale, base + "_scale"),
                      numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), base + "_zp")]
        dq_nodes.append(helper.make_node("DequantizeLinear", [base + "_q8", base + "_scale", base + "_zp"], [base],
                                         name=base + "_dequant", axis=axis))
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(dq_nodes + nodes)
    return m


def dequantize_q8_initializer(model, name):
    """Test helper: reconstruct the float weight `name` from a q8 model."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    node = next(n for n in model.graph.node if n.op_type == "DequantizeLinear" and n.output[0] == name)
    axis = next(a.i for a in node.attribute if a.name == "axis")
    q, s = inits[node.input[0]].astype(np.float32), inits[node.input[1]]
    shp = [1] * q.ndim
    shp[axis] = -1
    return q * s.reshape(shp)
