"""Pack size per component and precision for the full-size configs, computed from parameter shapes.

    /usr/bin/python3 -m tools.export.sizes

fp32: 4 B/param.  fp16: 2 B/param.  q8: int8 + fp32 scale per output channel for Linear/Conv weights,
fp32 for the rest.  q4f16: Linear weights 4-bit in blocks of 32 with one fp16 scale per block
(MatMulNBits), everything else fp16.  q4: the same 4-bit Linear weights with fp32 scales, everything else fp32.
q4c8f16: q4f16 with Conv weights int8 + fp32 scale per output channel; q4c8: q4 with those int8 Conv weights.
Graph overhead is not counted."""
import math

import torch.nn as nn

from tools.export.clip import CLIPTextModel
from tools.export.configs import FULL
from tools.export.meta import meta_init
from tools.export.unet import ControlNetModel, UNet3DConditionModel
from tools.export.vae import AutoencoderKL


def component_sizes(module):
    lin = conv = other = lin_rows = conv_rows = 0
    for mod in module.modules():
        for name, p in mod.named_parameters(recurse=False):
            n = math.prod(p.shape)
            if isinstance(mod, nn.Linear) and name == "weight":
                lin += n
                lin_rows += p.shape[0]
            elif isinstance(mod, (nn.Conv2d, nn.Conv3d)) and name == "weight" and n >= 256:
                conv += n
                conv_rows += p.shape[0]
            else:
                other += n
    total = lin + conv + other
    return {
        "params": total,
        "fp32": 4 * total,
        "fp16": 2 * total,
        "q8": lin + conv + 4 * (lin_rows + conv_rows) + 4 * other,
        "q4f16": lin // 2 + 2 * math.ceil(lin / 32) + 2 * (conv + other),
        "q4": lin // 2 + 4 * math.ceil(lin / 32) + 4 * (conv + other),
        "q4c8": lin // 2 + 4 * math.ceil(lin / 32) + conv + 4 * conv_rows + 4 * other,
        "q4c8f16": lin // 2 + 2 * math.ceil(lin / 32) + conv + 4 * conv_rows + 2 * other,
    }


COLUMNS = ("fp32", "fp16", "q8", "q4", "q4f16", "q4c8", "q4c8f16")


def full_size_table():
    with meta_init():
        comps = {
            "text_encoder (CLIP ViT-L/14 text)": CLIPTextModel(FULL.text),
            "vae (SD, encoder+decoder)": AutoencoderKL(FULL.image_vae),
            "flow_vae (encoder+decoder)": AutoencoderKL(FULL.flow_vae),
            "stage1_unet": UNet3DConditionModel(FULL.stage1_unet),
            "controlnet": ControlNetModel(FULL.stage1_unet),
            "stage2_unet (all segments)": UNet3DConditionModel(FULL.stage2_unet),
        }
        return {k: component_sizes(v) for k, v in comps.items()}


def markdown():
    t = full_size_table()
    mb = lambda b: f"{b / 1e6:,.0f} MB"
    rows = ["| component | params | " + " | ".join(COLUMNS) + " |", "|---|---:|" + "---:|" * len(COLUMNS)]
    tot = {k: 0 for k in ("params",) + COLUMNS}
    for name, s in t.items():
        rows.append(f"| {name} | {s['params'] / 1e6:,.0f} M | " + " | ".join(mb(s[c]) for c in COLUMNS) + " |")
        for k in tot:
            tot[k] += s[k]
    rows.append(f"| **total** | {tot['params'] / 1e6:,.0f} M | " + " | ".join(f"**{mb(tot[c])}**" for c in COLUMNS) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown())
