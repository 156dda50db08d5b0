"""Post-export precision variants of an fp32 ONNX model.

q8:    weight-only int8, symmetric, per output channel: W -> DequantizeLinear(Wq int8, scale f32[N], zp int8[N], axis)
       for the weights of MatMul (axis 1), Gemm transB=1 (axis 0) and Conv (axis 0).  Activations stay fp32.
fp16:  fp16 weights and activations; graph inputs/outputs stay fp32 (Cast at the boundary, so every precision has
       the same I/O and the WGSL motion-attention step stays fp32).  Normalisations and Softmax compute in fp32
       (Cast around them), and so does everything not downstream of a weight (timestep/stride sinusoidal
       embeddings: sin(t*f) for t up to 1000 is meaningless in fp16).
q4:    4-bit MatMulNBits (com.microsoft, block 32, symmetric, no zero points => implicit zero point 8) for the
       Linear layers (MatMul with a constant [K, N] weight, Gemm with transB=1); fp32 scales and activations,
       so it runs without shader-f16.  Convs stay fp32.
q4f16: fp16 (above), then the same MatMulNBits rewrite with fp16 scales, quantised from the fp32 weights.
q4c8:  q4 (Linear layers as MatMulNBits, fp32 scales), and every Conv weight of at least MIN_ELEMENTS as int8 per
       output channel (DequantizeLinear, axis 0, as q8); fp32 activations, so it runs without shader-f16.
q4c8f16: q4f16, and the Conv weights int8 as in q4c8, quantised from the fp32 weights: DequantizeLinear to fp32,
       then Cast to fp16 before the Conv (opset 17's DequantizeLinear has no fp16 scale or output).  The
       browser precision whose full-size pack stays under 3 GB (tools/export/README.md, "Full-size sizes").
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


def quantize_per_channel_q8(w: np.ndarray, axis=0):
    """Symmetric int8 per channel along `axis`: (codes int8, scales float32); value = code * scale, error at most
    scale / 2 with scale = max|w_channel| / 127."""
    red = tuple(d for d in range(w.ndim) if d != axis)
    amax = np.abs(w).max(axis=red)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shp = [1] * w.ndim
    shp[axis] = -1
    return np.clip(np.round(w / scale.reshape(shp)), -127, 127).astype(np.int8), scale


def _q8_dequant(base: str, w: np.ndarray, axis: int, out: str):
    """The initializers (codes, scales, zero points) and the DequantizeLinear node that rebuild `w` as `out`."""
    q, scale = quantize_per_channel_q8(w, axis)
    inits = [numpy_helper.from_array(q, base + "_q8"), numpy_helper.from_array(scale, base + "_scale"),
             numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), base + "_zp")]
    node = helper.make_node("DequantizeLinear", [base + "_q8", base + "_scale", base + "_zp"], [out],
                            name=base + "_dequant", axis=axis)
    return inits, node


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
        inits, node = _q8_dequant(init.name, w, axes.pop(), init.name)
        new_inits += inits
        dq_nodes.append(node)
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


# ----------------------------------------------------------------------------------------------- fp16

# Ops that compute in fp32 even in an fp16 model (inputs cast up, outputs stay fp32).
KEEP_FP32 = {"LayerNormalization", "InstanceNormalization", "GroupNormalization", "Softmax", "LogSoftmax",
             "ReduceMean", "Cast"}
# Inputs that the ONNX spec types as float32 whatever the data type (they are never converted).
FIXED_FLOAT_INPUTS = {("Resize", 1), ("Resize", 2), ("Upsample", 1)}
# Ops with a weight initializer (input index): everything downstream of them is "activation" and runs in fp16.
WEIGHT_OPS = {"Conv": 1, "MatMul": 1, "Gemm": 1, "ConvTranspose": 1, "MatMulNBits": 1, "Gather": 0}


def _skeleton(model, limit=1 << 16):
    """The model with the data of every initializer above `limit` bytes left out (name, type and dims kept): shape
    inference reads only those (weights are never shape inputs), and a model above 2 GB (the full-size ControlNet
    and stage-1 UNet) cannot be serialised for onnx.shape_inference at all."""
    sk = onnx.ModelProto()
    sk.ir_version = model.ir_version
    sk.opset_import.extend(model.opset_import)
    g, src = sk.graph, model.graph
    g.node.extend(src.node)
    g.input.extend(src.input)
    g.output.extend(src.output)
    g.value_info.extend(src.value_info)
    for t in src.initializer:
        if t.ByteSize() > limit:
            g.initializer.append(onnx.TensorProto(name=t.name, data_type=t.data_type, dims=t.dims))
        else:
            g.initializer.append(t)
    return sk


def _float_tensors(model, limit=1 << 16):
    """Names of all float32 tensors (graph inputs, initializers, Constant outputs, inferred intermediates)."""
    inferred = onnx.shape_inference.infer_shapes(_skeleton(model, limit))
    g = inferred.graph
    out = set()
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            out.add(vi.name)
    for i in g.initializer:
        if i.data_type == TensorProto.FLOAT:
            out.add(i.name)
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                    out.add(n.output[0])
    return out


def convert_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """fp16 variant (see module doc).  Keeps graph I/O fp32 and tensor names of graph outputs."""
    src = onnx.ModelProto()
    src.CopyFrom(model)
    floats = _float_tensors(src)
    g = src.graph
    inits = {i.name: i for i in g.initializer}
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}

    # taint: tensors downstream of a weight-bearing op
    tainted = set()
    for n in g.node:
        if n.op_type in WEIGHT_OPS and n.input[WEIGHT_OPS[n.op_type]] in inits or any(i in tainted for i in n.input):
            tainted.update(n.output)

    def runs_fp16(n):
        return n.op_type not in KEEP_FP32 and n.op_type != "Constant" and any(o in tainted for o in n.output)

    nodes = list(g.node)                          # protobuf wrappers: keep one object per node
    fp16_nodes = {k for k, n in enumerate(nodes) if runs_fp16(n)}
    new_nodes, new_inits = [], []
    made = {}                                     # (tensor, dtype) -> name available in that dtype
    graph_outputs = {o.name for o in g.output}

    def half_name(name):
        return name + "__fp16"

    def want(name, dtype, before):
        """Name of `name` as `dtype` (FLOAT16 or FLOAT), creating a converted initializer / Cast if needed."""
        key = (name, dtype)
        if key in made:
            return made[key]
        native = TensorProto.FLOAT16 if produced_fp16.get(name) else TensorProto.FLOAT
        if dtype == native:
            made[key] = name
            return name
        if name in inits and dtype == TensorProto.FLOAT16:
            arr = numpy_helper.to_array(inits[name]).astype(np.float16)
            nn = half_name(name)
            new_inits.append(numpy_helper.from_array(arr, nn))
        elif name in consts and dtype == TensorProto.FLOAT16:
            arr = numpy_helper.to_array(next(a.t for a in consts[name].attribute if a.name == "value")).astype(np.float16)
            nn = half_name(name)
            new_inits.append(numpy_helper.from_array(arr, nn))
        else:
            nn = name + ("__fp16" if dtype == TensorProto.FLOAT16 else "__fp32")
            before.append(helper.make_node("Cast", [name], [nn], name=nn + "_cast", to=dtype))
        made[key] = nn
        return nn

    produced_fp16 = {}
    for idx, n in enumerate(nodes):
        pre, post = [], []
        if idx in fp16_nodes:
            for k, i in enumerate(n.input):
                if i and i in floats and (n.op_type, k) not in FIXED_FLOAT_INPUTS:
                    n.input[k] = want(i, TensorProto.FLOAT16, pre)
            for a in n.attribute:                     # ops whose float output comes from an attribute
                if n.op_type == "ConstantOfShape" and a.name == "value" and a.t.data_type == TensorProto.FLOAT:
                    a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
            for k, o in enumerate(n.output):
                if o not in floats:
                    continue
                if o in graph_outputs:                # the graph output keeps its fp32 name and type
                    n.output[k] = half_name(o)
                    post.append(helper.make_node("Cast", [half_name(o)], [o], name=o + "_to_fp32", to=TensorProto.FLOAT))
                    made[(o, TensorProto.FLOAT16)] = half_name(o)   # fp16 readers inside the graph (a segment's skip, stage-2 qkv) take it as is
                    o = half_name(o)
                produced_fp16[o] = True
        elif n.op_type != "Cast":                     # Cast accepts any input type
            for k, i in enumerate(n.input):
                if i and i in floats:
                    n.input[k] = want(i, TensorProto.FLOAT, pre)
        new_nodes += pre + [n] + post
    # drop Constants whose every reader now reads a converted copy
    while True:
        used = {i for n in new_nodes for i in n.input} | graph_outputs
        alive = [n for n in new_nodes if n.op_type != "Constant" or n.output[0] in used]
        if len(alive) == len(new_nodes):
            break
        new_nodes = alive
    used = {i for n in new_nodes for i in n.input}
    del g.node[:]
    g.node.extend(new_nodes)
    keep = [i for i in g.initializer if i.name in used] + [i for i in new_inits if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    del g.value_info[:]
    return src


# ------------------------------------------------------------------------------------------ 4-bit

Q4_BLOCK = 32
MS_DOMAIN = "com.microsoft"


def quantize_blocks_q4(w_kn: np.ndarray, block=Q4_BLOCK, scale_dtype=np.float32):
    """Symmetric 4-bit block quantisation of a [K, N] weight along K, in MatMulNBits layout.

    Returns (packed uint8 [N, k_blocks, block/2], scales [N * k_blocks]).  Per the contrib-op spec the code of
    element k of output column n sits in blob byte (k % block) // 2 of block k // block, low nibble first;
    without zero points ORT dequantises (code - 8) * scale.  scale = max|w_block| / 7, codes 1..15, so the
    error is at most scale / 2 (plus the scale's own rounding when fp16).  K is zero-padded to whole blocks.
    """
    K, N = w_kn.shape
    kb = (K + block - 1) // block
    w = np.zeros((N, kb * block), dtype=np.float32)
    w[:, :K] = w_kn.T
    w = w.reshape(N, kb, block)
    amax = np.abs(w).max(axis=2)
    scale = np.where(amax > 0, amax / 7.0, 1.0).astype(np.float32)
    # Codes from the fp32 scale, whatever dtype stores it: q4f16 then holds exactly q4's codes, and differs
    # from q4 only by the scales' fp16 rounding (rounding against the fp16 scale flips a few codes by one
    # step, which no golden of q4 would then describe).
    q = np.clip(np.round(w / scale[:, :, None]), -7, 7).astype(np.int32) + 8   # 1..15
    packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)          # low nibble = even k
    return packed, scale.astype(scale_dtype).reshape(-1)


def dequantize_blocks_q4(packed, scales, K, N, block=Q4_BLOCK, zero_points=None):
    """Reference dequantisation straight from the spec (test helper): -> [K, N] float32."""
    kb = packed.shape[1]
    lo, hi = packed & 0x0F, packed >> 4
    q = np.empty((N, kb, block), dtype=np.int32)
    q[:, :, 0::2], q[:, :, 1::2] = lo, hi
    zp = 8 if zero_points is None else zero_points
    w = (q - zp) * scales.astype(np.float32).reshape(N, kb, 1)
    return w.reshape(N, kb * block)[:, :K].T


def _attr(node, name, default):
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


def quantize_q4(model: onnx.ModelProto, scale_dtype=np.float32, source_weights=None, block=Q4_BLOCK) -> onnx.ModelProto:
    """Rewrite Linear layers as MatMulNBits (see module doc).  `source_weights` (name -> fp32 array) gives the
    original weights when `model` is already fp16 (q4f16: quantise from fp32, not from the fp16 copy)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    cons = _consumers(g)
    act_type = TensorProto.FLOAT16 if scale_dtype == np.float16 else TensorProto.FLOAT
    new_nodes, new_inits, dropped = [], [], set()

    def weight_kn(name, transpose):
        src = (source_weights or {}).get(name.replace("__fp16", ""))
        w = src if src is not None else numpy_helper.to_array(inits[name]).astype(np.float32)
        return w.T if transpose else w

    def linear_kind(n, idx):
        """'matmul' / 'gemm' when input idx of n is the weight of a Linear we can rewrite, else None."""
        if idx != 1 or n.input[1] not in inits or len(inits[n.input[1]].dims) != 2:
            return None
        if n.op_type == "MatMul":
            return "matmul"
        if (n.op_type == "Gemm" and _attr(n, "transB", 0) == 1 and _attr(n, "transA", 0) == 0
                and _attr(n, "alpha", 1.0) == 1.0 and _attr(n, "beta", 1.0) == 1.0):
            return "gemm"
        return None

    done = {}                                     # weight name -> (K, N, blob name, scale name); shared weights
    for n in g.node:                              # (e.g. the time MLP run for t and for frame 0's t = 1) once
        kind = linear_kind(n, 1) if len(n.input) > 1 else None
        w_name = n.input[1] if kind else None
        # rewrite only if every reader of the weight is rewritten the same way (else the fp32 copy must stay)
        if w_name is None or {linear_kind(c, i) for c, i in cons.get(w_name, [])} != {kind}:
            new_nodes.append(n)
            continue
        transpose = kind == "gemm"
        bias = n.input[2] if transpose and len(n.input) > 2 and n.input[2] else None
        base = w_name.replace("__fp16", "")
        if w_name not in done:
            w = weight_kn(w_name, transpose)
            packed, scales = quantize_blocks_q4(w, block, scale_dtype)
            new_inits += [numpy_helper.from_array(packed, base + "_q4"), numpy_helper.from_array(scales, base + "_q4scale")]
            done[w_name] = w.shape
        K, N = done[w_name]
        out = n.output[0]
        mm_out = out + "_nobias" if bias else out
        new_nodes.append(helper.make_node("MatMulNBits", [n.input[0], base + "_q4", base + "_q4scale"], [mm_out],
                                          name=(n.name or out) + "_q4", domain=MS_DOMAIN, K=K, N=N, bits=4,
                                          block_size=block, accuracy_level=0))
        if bias:
            new_nodes.append(helper.make_node("Add", [mm_out, bias], [out], name=(n.name or out) + "_bias"))
        dropped.add(w_name)
    used = {i for n in new_nodes for i in n.input}
    keep = [i for i in g.initializer if i.name not in dropped and i.name in used] + new_inits
    del g.initializer[:]
    g.initializer.extend(keep)
    del g.node[:]
    g.node.extend(new_nodes)
    if not any(o.domain == MS_DOMAIN for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    del g.value_info[:]
    assert act_type in (TensorProto.FLOAT, TensorProto.FLOAT16)
    return m


def quantize_q4f16(model: onnx.ModelProto) -> onnx.ModelProto:
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if i.data_type == TensorProto.FLOAT}
    return quantize_q4(convert_fp16(model), scale_dtype=np.float16, source_weights=weights)


# ------------------------------------------------------------------------ int8 convolutions (q4c8, q4c8f16)



def quantize_conv_weights_q8(model: onnx.ModelProto, source_weights=None) -> onnx.ModelProto:
    """Store every Conv weight of at least MIN_ELEMENTS as int8 per output channel.  A float32 weight becomes
    DequantizeLinear(q, scale, zp, axis 0); a float16 one (fp16 graph) DequantizeLinear to float32, then Cast to
    float16 under the weight's name, so the Conv and everything after it keep their fp16 types.  `source_weights`
    (name -> fp32 array) quantises from the fp32 originals of an fp16 graph's weights."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    cons = _consumers(g)
    new_inits, dq_nodes = [], []
    for init in g.initializer:
        uses = cons.get(init.name, [])
        if (init.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16) or len(init.dims) < 3 or not uses
                or any(n.op_type != "Conv" or i != 1 for n, i in uses)):
            new_inits.append(init)
            continue
        base = init.name.replace("__fp16", "")
        src = (source_weights or {}).get(base)
        w = src if src is not None else numpy_helper.to_array(init).astype(np.float32)
        if w.size < MIN_ELEMENTS:
            new_inits.append(init)
            continue
        half = init.data_type == TensorProto.FLOAT16
        dq_out = base + "__dq32" if half else init.name
        inits, node = _q8_dequant(base, w, 0, dq_out)
        new_inits += inits
        dq_nodes.append(node)
        if half:
            dq_nodes.append(helper.make_node("Cast", [dq_out], [init.name], name=base + "_dequant_fp16",
                                             to=TensorProto.FLOAT16))
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(dq_nodes + nodes)
    return m


def quantize_q4c8(model: onnx.ModelProto) -> onnx.ModelProto:
    return quantize_conv_weights_q8(quantize_q4(model))


def quantize_q4c8f16(model: onnx.ModelProto) -> onnx.ModelProto:
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if i.data_type == TensorProto.FLOAT}
    return quantize_conv_weights_q8(quantize_q4(convert_fp16(model), scale_dtype=np.float16, source_weights=weights),
                                    source_weights=weights)


def variant(model: onnx.ModelProto, precision: str) -> onnx.ModelProto:
    """The `precision` variant of an fp32 model."""
    if precision == "fp32":
        return model
    return {"q8": quantize_q8, "fp16": convert_fp16, "q4": quantize_q4, "q4f16": quantize_q4f16,
            "q4c8": quantize_q4c8, "q4c8f16": quantize_q4c8f16}[precision](model)
