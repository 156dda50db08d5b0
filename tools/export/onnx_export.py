"""ONNX export (opset 17): whole components and the segmented stage-2 UNet."""
import hashlib
import io
import os
import tempfile

import onnx
import torch
import torch.nn as nn

from tools.export.unet import run_steps

OPSET = 17
EXTERNAL_DATA_THRESHOLD = 2_000_000_000


class StepsModule(nn.Module):
    """Runs a slice of a program; inputs/outputs are SSA tensor names."""

    def __init__(self, owner, steps, inputs, outputs):
        super().__init__()
        self.owner = owner
        self.steps = steps
        self.in_names = list(inputs)
        self.out_names = list(outputs)
        # tensors no later step reads, by step index: the forward drops them so a trace holds only live
        # activations (a full-size stage-1 UNet at batch 1 writes 4.7 GB of SSA tensors in all)
        last = {}
        for i, s in enumerate(steps):
            for k in s.reads:
                last[k] = i
        self.dead_after = {}
        for k, i in last.items():
            if k not in self.out_names:
                self.dead_after.setdefault(i, []).append(k)

    def forward(self, *args):
        env = dict(zip(self.in_names, args))
        del args
        for i, s in enumerate(self.steps):
            run_steps([s], env)
            for k in self.dead_after.get(i, ()):
                env.pop(k, None)
        return tuple(env[k] for k in self.out_names)


def split_program(steps, global_inputs, final_outputs):
    """Cut at motion_attention steps.  Returns a list of plan items:
    ('onnx', steps, inputs, outputs) and ('motion_attention', step)."""
    groups, cur = [], []
    for s in steps:
        if s.kind == "motion_attention":
            groups.append(("onnx", cur))
            groups.append(("motion_attention", s))
            cur = []
        else:
            cur.append(s)
    groups.append(("onnx", cur))
    # liveness: names read by each later item
    reads_after = []
    acc = set(final_outputs)
    for kind, g in reversed(groups):
        reads_after.append(set(acc))
        if kind == "onnx":
            for s in g:
                acc |= set(s.reads)
        else:
            acc |= set(g.reads)
    reads_after.reverse()
    plan = []
    for (kind, g), later in zip(groups, reads_after):
        if kind == "motion_attention":
            plan.append(("motion_attention", g))
            continue
        produced, inputs = [], []
        for s in g:
            for r in s.reads:
                if r not in produced and r not in inputs:
                    inputs.append(r)
            for w in s.writes:
                if w not in produced:
                    produced.append(w)
        outputs = [p for p in produced if p in later]
        plan.append(("onnx", g, inputs, outputs))
    return plan


def _finalise(model: onnx.ModelProto, doc=""):
    model.producer_name = "motion-i2v-web tools/export"
    model.producer_version = "1"
    model.doc_string = doc
    model.graph.doc_string = ""
    for n in model.graph.node:
        n.doc_string = ""
    return model


def export(module, args, input_names, output_names, path, dynamic_axes=None, doc=""):
    """Export to `path` deterministically; large models get one external data file."""
    module.eval()
    kw = dict(opset_version=OPSET, input_names=list(input_names), output_names=list(output_names),
              dynamic_axes=dynamic_axes or {}, do_constant_folding=True)
    weight_bytes = sum(p.numel() * p.element_size() for p in module.parameters())
    if weight_bytes > EXTERNAL_DATA_THRESHOLD:
        # protobuf cannot hold > 2 GB in memory: torch writes external data next to a file, onnx reads it back
        with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(path))) as d:
            with torch.no_grad():
                torch.onnx.export(module, tuple(args), os.path.join(d, "model.onnx"), **kw)
            model = onnx.load(os.path.join(d, "model.onnx"), load_external_data=True)
    else:
        buf = io.BytesIO()
        with torch.no_grad():
            torch.onnx.export(module, tuple(args), buf, **kw)
        model = onnx.load_from_string(buf.getvalue())
    model = _finalise(model, doc)
    save(model, path)
    return model


def save(model, path):
    big = sum(len(t.raw_data) for t in model.graph.initializer) > EXTERNAL_DATA_THRESHOLD
    if big:
        loc = os.path.basename(path) + ".data"
        if os.path.exists(os.path.join(os.path.dirname(path), loc)):
            os.remove(os.path.join(os.path.dirname(path), loc))
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=loc,
                        size_threshold=1024)
    else:
        with open(path, "wb") as f:
            f.write(model.SerializeToString())


def files_of(path):
    """The .onnx file plus its external data file if any."""
    out = [path]
    if os.path.exists(path + ".data"):
        out.append(path + ".data")
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def io_spec(model: onnx.ModelProto):
    """[{name, dtype, shape}] for inputs and outputs from an ONNX graph (symbolic dims as strings)."""
    dt = {1: "float32", 6: "int32", 7: "int64", 10: "float16"}

    def one(vi):
        tt = vi.type.tensor_type
        shape = [d.dim_param if d.dim_param else d.dim_value for d in tt.shape.dim]
        return {"name": vi.name, "dtype": dt.get(tt.elem_type, str(tt.elem_type)), "shape": shape}
    return [one(v) for v in model.graph.input], [one(v) for v in model.graph.output]


def dyn_axes(tensors, B, F):
    """batch dims: leading B -> 'batch', leading B*F -> 'batch_frames'."""
    out = {}
    for name, t in tensors.items():
        if t.dim() == 0:
            continue
        if t.shape[0] == B:
            out[name] = {0: "batch"}
        elif t.shape[0] == B * F:
            out[name] = {0: "batch_frames"}
    return out
