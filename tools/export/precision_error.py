"""How far each precision's weights move the tiny pack's full I2V from fp32.

    /usr/bin/python3 -m tools.export.precision_error [--pack public/models/tiny]

Runs the float64 reference I2V (2 DDIM steps, guidance 7, drags + brush; the inputs of goldens/pipeline_i2v.bin)
with the tiny seeded weights replaced by what each precision stores, dequantised the way its graphs dequantise:
q8 (int8 per output channel on Linear/Conv weights of at least quantize.MIN_ELEMENTS), q4 (4-bit blocks of 32
on Linear weights, fp32 scales), fp16 (every weight rounded to fp16), q4f16 (q4 with fp16 scales, the other
weights fp16), q4c8 (q4 plus int8 per output channel on Conv weights of at least MIN_ELEMENTS), q4c8f16 (q4f16
with those int8 Conv weights, dequantised in fp32 then rounded to fp16 as the graph's Cast does).  fp16
*activations* are not emulated (CPU torch has no fp16 convolutions), so the fp16, q4f16 and q4c8f16 rows are lower
bounds of what those graphs add.  fp32 must reproduce the golden (a check of this script).
Prints max and mean |error| of the flows (pixels; the tiny canvas is 48 x 32) and of the video ([0,1]) against the
golden, as a markdown table.  The tiny weights are random, so errors are amplified far more than with trained
weights (flows saturate at the clamp); the table ranks precisions, it does not predict real-weight quality.
"""
import argparse
import copy
import os

import numpy as np
import torch
import torch.nn as nn

from tools.export import golden
from tools.export.configs import TINY
from tools.export.make_tiny import GUIDANCE, STEPS, build_models
from tools.export.pipelines import Models, build_control, i2v
from tools.export.quantize import MIN_ELEMENTS, dequantize_blocks_q4, quantize_blocks_q4

PRECISIONS = ("fp32", "q8", "q4", "fp16", "q4f16", "q4c8", "q4c8f16")


def _q8(w):
    red = tuple(range(1, w.ndim))
    amax = np.abs(w).max(axis=red, keepdims=True)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    return np.clip(np.round(w / scale), -127, 127) * scale


def _q4(w, scale_dtype):
    packed, scales = quantize_blocks_q4(w.T, scale_dtype=scale_dtype)
    return dequantize_blocks_q4(packed, scales.astype(np.float32), w.shape[1], w.shape[0]).T


def stored_weights(module, precision):
    """A float64 copy of `module` whose weights are what `precision` stores, dequantised."""
    m = copy.deepcopy(module).eval()
    for sub in m.modules():
        for name, p in list(sub._parameters.items()):
            if p is None:
                continue
            w = p.detach().numpy().astype(np.float32)
            linear = isinstance(sub, nn.Linear) and name == "weight"
            conv = isinstance(sub, (nn.Conv2d, nn.Conv3d)) and name == "weight"
            if precision == "q8" and (linear or conv) and w.size >= MIN_ELEMENTS:
                w = _q8(w)
            elif precision in ("q4", "q4f16", "q4c8", "q4c8f16") and linear:
                w = _q4(w, np.float16 if precision.endswith("f16") else np.float32)
            elif precision in ("q4c8", "q4c8f16") and conv and w.size >= MIN_ELEMENTS:
                w = _q8(w).astype(np.float32)
                if precision == "q4c8f16":
                    w = w.astype(np.float16).astype(np.float32)
            elif precision in ("fp16", "q4f16", "q4c8f16"):
                w = w.astype(np.float16).astype(np.float32)
            sub._parameters[name] = nn.Parameter(torch.from_numpy(np.ascontiguousarray(w)), requires_grad=False)
    return m.double()


def run(pack, precisions=PRECISIONS):
    g = dict(golden.read(os.path.join(pack, "goldens", "pipeline_i2v.bin"))[0])
    models, _, _ = build_models()
    d = lambda k: torch.from_numpy(np.array(g[k])).double()                       # noqa: E731
    rows = []
    print("| precision | flows max abs (px) | flows mean abs (px) | video max abs | video mean abs |\n|---|---:|---:|---:|---:|")
    for prec in precisions:
        q = {k: stored_weights(v, prec) for k, v in models.items()}
        M = Models(q["text_encoder"], q["vae"], q["flow_vae"], q["stage1_unet"], q["controlnet"], q["vae"],
                   q["stage2_unet"])
        with torch.no_grad():
            ctx = q["text_encoder"](torch.from_numpy(np.array(g["input_ids"])))
            control = build_control(M.flow_vae, d("sparse_flow01"), d("sparse_mask"), d("eps_control"))
            flows, video, _ = i2v(M, TINY, d("image01"), ctx, d("noise_stage1"), d("noise_stage2"), STEPS, GUIDANCE,
                                  control, d("brush"), d("eps_image_stage1"), d("eps_image_stage2"))
        df, dv = (flows - d("flows")).abs(), (video - d("video")).abs()
        rows.append((prec, df.max().item(), df.mean().item(), dv.max().item(), dv.mean().item()))
        print(f"| {prec} | {rows[-1][1]:.3g} | {rows[-1][2]:.3g} | {rows[-1][3]:.3g} | {rows[-1][4]:.3g} |", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", default=os.path.join(os.path.dirname(__file__), "..", "..", "public", "models", "tiny"))
    a = ap.parse_args(argv)
    run(a.pack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
