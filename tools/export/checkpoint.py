"""Read the official Motion-I2V checkpoint folder into the reference modules the way the authors' demo does.

The folder is the authors' `models/` directory (`git clone https://huggingface.co/wangfuyun/Motion-I2V`); which
file feeds which module, in which order and how strictly, follows their demo (scripts/app.py of G-U-N/Motion-I2V):

  component            files (later files win)                                              authors' strictness
  stage1_text_encoder  stage1/StableDiffusion-FlowGen/text_encoder/ (+ tokenizer/)          from_pretrained
  stage1_vae_encoder   stage2/StableDiffusion/vae/ (their `vae_img`: SD VAE)                 from_pretrained
  flow_vae             stage1/StableDiffusion-FlowGen/vae_flow/diffusion_pytorch_model.bin  strict=True
  stage1_unet + controlnet  stage1/.../unet/diffusion_pytorch_model.bin, then
                       stage1/.../controlnet/controlnet.bin, both into the UNet that owns the
                       ControlNet as `controlnet.*`                                          strict=False
  text_encoder         stage2/StableDiffusion/text_encoder/ (+ tokenizer/)                  from_pretrained
  vae                  stage2/DreamBooth_LoRA/realisticVisionV51_v20Novae.safetensors,
                       `first_stage_model.*` converted from the LDM layout                  strict=True
  stage2_unet          stage2/StableDiffusion/unet/diffusion_pytorch_model.bin,
                       stage2/Motion_Module/motion_block.bin,
                       stage2/DreamBooth_LoRA/realistic_unet.ckpt                           strict=False

Where the authors load with strict=False (or from_pretrained, which also only warns), a key that belongs to no
module is ignored and reported; everywhere a weight the module needs that no file provides, or a tensor of the
wrong shape, stops the CLI with a CheckpointError naming the file (the authors' code would keep a random
initial value, or fail on the shape).  Where they load strictly, an unexpected key fails too.

Modules are filled without copying: built on the meta device, each parameter is replaced by the file's tensor,
so loading a component needs about its own size in memory (plus the file being read).
"""
import hashlib
import json
import mmap
import os
import re
import struct
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn


class CheckpointError(Exception):
    """Bad input folder; the message names the file and what was expected."""


# ------------------------------------------------------------------------------------------- files

_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path, keep=None):
    """safetensors without the package: u64 LE header length, JSON header, raw little-endian data.
    The file is memory-mapped and only tensors whose name passes `keep` are copied out."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < 8:
            raise CheckpointError(f"{path}: too short for a .safetensors file")
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        (n,) = struct.unpack("<Q", data[:8])
        if 8 + n > size:
            raise CheckpointError(f"{path}: header length {n} runs past the end of the file (truncated download?)")
        try:
            header = json.loads(data[8:8 + n])
        except ValueError as e:
            raise CheckpointError(f"{path}: the .safetensors header is not JSON ({e})")
        base = 8 + n
        out = {}
        for name, e in header.items():
            if name == "__metadata__" or (keep is not None and not keep(name)):
                continue
            dt = e["dtype"]
            b, end = e["data_offsets"]
            if base + end > size:
                raise CheckpointError(f"{path}: tensor {name} runs past the end of the file (truncated download?)")
            if dt == "BF16":
                raw = np.frombuffer(data, dtype="<u2", count=(end - b) // 2, offset=base + b).astype(np.uint32) << 16
                arr = raw.view(np.float32)
            elif dt in _ST_DTYPES:
                npdt = np.dtype(_ST_DTYPES[dt]).newbyteorder("<")
                arr = np.frombuffer(data, dtype=npdt, count=(end - b) // npdt.itemsize, offset=base + b).copy()
            else:
                raise CheckpointError(f"{path}: tensor {name} has unsupported dtype {dt}")
            out[name] = torch.from_numpy(arr.reshape(e["shape"]))
        return out
    finally:
        data.close()


def write_safetensors(path, tensors):
    """The inverse of read_safetensors (float32/float16/int64 tensors), used by tests to build fake folders."""
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}
    header, off = {}, 0
    arrays = []
    for k, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy())
        header[k] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        arrays.append(a)
        off += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for a in arrays:
            f.write(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())


def read_state_dict(path, keep=None):
    """name -> tensor from .safetensors or a torch pickle (.bin/.pth/.pt/.ckpt), as the authors' torch.load gives it
    to load_state_dict: a file that wraps its weights ({"state_dict": ...}) is refused, because their loader
    (strict=False) would silently ignore every weight in it."""
    if path.endswith(".safetensors"):
        return read_safetensors(path, keep)
    try:
        sd = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file
        raise CheckpointError(f"{path}: cannot be read as a PyTorch checkpoint ({type(e).__name__}: {e})")
    if isinstance(sd, dict):
        wrapped = [k for k, v in sd.items() if isinstance(v, dict) and v and all(torch.is_tensor(x) for x in v.values())]
        if wrapped:
            raise CheckpointError(f"{path}: the weights are wrapped in {{{wrapped[0]!r}: ...}}; the authors load this "
                                  f"file with load_state_dict(torch.load(...), strict=False), which would ignore "
                                  f"every weight in it. Expected a flat state dict (name -> tensor).")
    if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors (a state dict), got {type(sd).__name__}")
    if keep is not None:
        sd = {k: v for k, v in sd.items() if keep(k)}
    return sd


# ------------------------------------------------------------------------------------------ layout

S1 = "stage1/StableDiffusion-FlowGen/"
S2 = "stage2/StableDiffusion/"
RV_SAFETENSORS = "stage2/DreamBooth_LoRA/realisticVisionV51_v20Novae.safetensors"


@dataclass
class Source:
    """One weight file: candidate names (first existing wins), what it holds, the authors' strictness, and how
    its keys map onto the component's module (prefix kept/stripped, renames, an LDM conversion)."""
    candidates: list
    what: str
    strict: bool = False
    prefix: str = ""                      # the component's keys are `prefix + name` in this file
    rename: dict = field(default_factory=dict)
    convert: object = None                # sd -> (converted sd, [ignored keys]) for another layout

    def find(self, root):
        for c in self.candidates:
            if os.path.isfile(os.path.join(root, c)):
                return c
        return None


# diffusers >= 0.15 renamed the VAE attention; map the new names to the 0.11 ones our module uses.
_VAE_RENAME = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}


def ldm_vae_to_diffusers(sd, n_blocks=4, prefix="first_stage_model."):
    """An SD checkpoint's VAE (original LDM names, `first_stage_model.*`) in diffusers 0.11 AutoencoderKL names.
    Returns (converted, ignored): keys outside `prefix` (the UNet and CLIP of the same file) and LDM keys with
    no diffusers counterpart are ignored, as the authors' conversion ignores them."""
    out, ignored = {}, []
    for k, v in sd.items():
        if not k.startswith(prefix):
            ignored.append(k)
            continue
        name = k[len(prefix):]
        m = re.fullmatch(r"(encoder|decoder)\.(.+)", name)
        if m is None:
            if re.fullmatch(r"(post_)?quant_conv\.(weight|bias)", name):
                out[name] = v
            else:
                ignored.append(k)
            continue
        part, rest = m.groups()
        r = re.fullmatch(r"down\.(\d+)\.block\.(\d+)\.(.+)", rest)
        if r:
            rest = f"down_blocks.{r[1]}.resnets.{r[2]}.{r[3]}"
        elif re.fullmatch(r"down\.(\d+)\.downsample\.conv\.(.+)", rest):
            r = re.fullmatch(r"down\.(\d+)\.downsample\.conv\.(.+)", rest)
            rest = f"down_blocks.{r[1]}.downsamplers.0.conv.{r[2]}"
        elif re.fullmatch(r"up\.(\d+)\.block\.(\d+)\.(.+)", rest):
            r = re.fullmatch(r"up\.(\d+)\.block\.(\d+)\.(.+)", rest)      # LDM counts up blocks from the output side
            rest = f"up_blocks.{n_blocks - 1 - int(r[1])}.resnets.{r[2]}.{r[3]}"
        elif re.fullmatch(r"up\.(\d+)\.upsample\.conv\.(.+)", rest):
            r = re.fullmatch(r"up\.(\d+)\.upsample\.conv\.(.+)", rest)
            rest = f"up_blocks.{n_blocks - 1 - int(r[1])}.upsamplers.0.conv.{r[2]}"
        elif re.fullmatch(r"mid\.block_([12])\.(.+)", rest):
            r = re.fullmatch(r"mid\.block_([12])\.(.+)", rest)
            rest = f"mid_block.resnets.{int(r[1]) - 1}.{r[2]}"
        elif re.fullmatch(r"mid\.attn_1\.(norm|q|k|v|proj_out)\.(weight|bias)", rest):
            r = re.fullmatch(r"mid\.attn_1\.(norm|q|k|v|proj_out)\.(weight|bias)", rest)
            new = {"norm": "group_norm", "q": "query", "k": "key", "v": "value", "proj_out": "proj_attn"}[r[1]]
            rest = f"mid_block.attentions.0.{new}.{r[2]}"
            if r[1] != "norm" and r[2] == "weight" and v.dim() == 4:
                v = v[:, :, 0, 0]                                          # 1x1 conv -> Linear
        elif re.fullmatch(r"(norm_out)\.(weight|bias)", rest):
            rest = "conv_norm_out." + rest.split(".")[1]
        elif not re.fullmatch(r"conv_(in|out)\.(weight|bias)", rest):
            ignored.append(k)
            continue
        rest = rest.replace(".nin_shortcut.", ".conv_shortcut.")
        out[f"{part}.{rest}"] = v
    return out, ignored


def _te(stage, base):
    return Source([base + "text_encoder/model.safetensors", base + "text_encoder/pytorch_model.bin"],
                  f"the stage-{stage} CLIP text encoder (transformers CLIPTextModel weights)")


_S1_UNET = Source([S1 + "unet/diffusion_pytorch_model.bin", S1 + "unet/diffusion_pytorch_model.safetensors"],
                  "the stage-1 flow UNet (8 input channels, stride embedding, motion modules)")
_S1_CN = Source([S1 + "controlnet/controlnet.bin", S1 + "controlnet/controlnet.safetensors"],
                "the trajectory ControlNet (keys controlnet.*, loaded into the stage-1 UNet)")

LAYOUT = {
    "stage1_text_encoder": [_te(1, S1)],
    "stage1_vae_encoder": [Source([S2 + "vae/diffusion_pytorch_model.safetensors", S2 + "vae/diffusion_pytorch_model.bin"],
                                  "the SD image VAE (diffusers AutoencoderKL weights; stage 1 encodes the image with it)",
                                  rename=_VAE_RENAME)],
    "flow_vae": [Source([S1 + "vae_flow/diffusion_pytorch_model.bin", S1 + "vae_flow/diffusion_pytorch_model.safetensors"],
                        "the 2-channel flow VAE (AutoencoderKL weights)", strict=True, rename=_VAE_RENAME)],
    "stage1_unet": [_S1_UNET, _S1_CN],
    "controlnet": [Source(_S1_UNET.candidates, _S1_UNET.what, prefix="controlnet."),
                   Source(_S1_CN.candidates, _S1_CN.what, prefix="controlnet.")],
    "text_encoder": [_te(2, S2)],
    "vae": [Source([RV_SAFETENSORS], "the Realistic Vision 5.1 checkpoint (its first_stage_model.* VAE, LDM layout)",
                   strict=True, convert=ldm_vae_to_diffusers)],
    "stage2_unet": [
        Source([S2 + "unet/diffusion_pytorch_model.bin", S2 + "unet/diffusion_pytorch_model.safetensors"],
               "the SD 1.5 UNet (spatial layers of the stage-2 UNet)"),
        Source(["stage2/Motion_Module/motion_block.bin", "stage2/Motion_Module/motion_block.safetensors"],
               "the stage-2 motion modules (AnimateDiff layout)"),
        Source(["stage2/DreamBooth_LoRA/realistic_unet.ckpt", "stage2/DreamBooth_LoRA/realistic_unet.safetensors"],
               "the Realistic Vision 5.1 UNet weights (diffusers names)"),
    ],
}
# stage1_unet and controlnet read the same two files: the authors' UNet owns the ControlNet as `controlnet.*`,
# so a key of one is not unexpected for the other.
SIBLINGS = {"stage1_unet": ("controlnet", "controlnet."), "controlnet": ("stage1_unet", "")}
TOKENIZER_FILES = [S2 + "tokenizer/vocab.json", S2 + "tokenizer/merges.txt"]
STAGE1_TOKENIZER_FILES = [S1 + "tokenizer/vocab.json", S1 + "tokenizer/merges.txt"]

# Keys a file may lack: buffers that newer library versions no longer save (our module's value is used).
OPTIONAL_KEYS = {"text_encoder": {"text_model.embeddings.position_ids"},
                 "stage1_text_encoder": {"text_model.embeddings.position_ids"}}


def check_files(root, config_paths=()):
    """All files present?  Raises one CheckpointError listing every missing file (partial folders)."""
    if not os.path.isdir(root):
        raise CheckpointError(f"{root}: not a folder (expected the official checkpoint folder with stage1/ and stage2/)")
    missing, seen = [], set()
    for comp, sources in LAYOUT.items():
        for s in sources:
            if s.find(root) is None and s.candidates[0] not in seen:
                seen.add(s.candidates[0])
                missing.append(f"  {' or '.join(s.candidates)}  ({s.what}, for {comp})")
    for t in STAGE1_TOKENIZER_FILES + TOKENIZER_FILES:
        if not os.path.isfile(os.path.join(root, t)):
            missing.append(f"  {t}  (CLIP BPE tokenizer file)")
    for c in config_paths:
        if not os.path.isfile(os.path.join(root, c)):
            missing.append(f"  {c}  (the architecture the authors' code builds from)")
    if missing:
        raise CheckpointError(f"{root}: {len(missing)} expected file(s) missing (renamed, or a partial download?):\n"
                              + "\n".join(missing))


def _map_keys(sd, src, sibling_prefix):
    """File keys -> (ours: module name -> tensor, sibling: keys of the other module in the same namespace,
    ignored: keys that belong to nothing)."""
    ours, sibling, ignored = {}, [], []
    if src.convert is not None:
        sd, ignored = src.convert(sd)
    for k, v in sd.items():
        for a, b in src.rename.items():
            k = k.replace(a, b)
        if src.prefix:
            if k.startswith(src.prefix):
                ours[k[len(src.prefix):]] = v
            else:
                sibling.append(k)
        elif sibling_prefix and k.startswith(sibling_prefix):
            sibling.append(k)
        else:
            ours[k] = v
    return ours, sibling, ignored


def _slots(module):
    """name -> (owning submodule, attribute, is_parameter) for every state-dict entry."""
    out = {}
    for mname, m in module.named_modules():
        pre = mname + "." if mname else ""
        for n, p in m._parameters.items():
            if p is not None:
                out[pre + n] = (m, n, True)
        for n, b in m._buffers.items():
            if b is not None and n not in m._non_persistent_buffers_set:
                out[pre + n] = (m, n, False)
    return out


@dataclass
class LoadReport:
    origin: dict                 # module key -> relative file it came from
    ignored: list                # (relative file, [keys]) ignored as the authors' strict=False loader ignores them
    overridden: list             # (relative file, count) keys that replaced an earlier file's value


def load_component(root, comp, module, log=lambda *a: None, sibling_keys=()):
    """Fill `module` (built normally or on the meta device) from the component's files; raise CheckpointError
    naming the file on a missing key, a wrong shape, or (strict files) an unexpected key.
    sibling_keys: the other module's names in a shared namespace (stage1_unet/controlnet), not reported."""
    slots = _slots(module)
    expected = {k: (tuple(getattr(m, n).shape), getattr(m, n).dtype) for k, (m, n, _) in slots.items()}
    sib_prefix = SIBLINGS.get(comp, (None, ""))[1]
    sibling_keys = set(sibling_keys)
    origin, report = {}, LoadReport(origin={}, ignored=[], overridden=[])
    for src in LAYOUT[comp]:
        rel = src.find(root)
        if rel is None:
            raise CheckpointError(f"{os.path.join(root, src.candidates[0])}: missing ({src.what})")
        path = os.path.join(root, rel)
        log(f"reading {rel} for {comp}")
        keep = None
        if src.prefix:
            keep = lambda k, p=src.prefix: k.startswith(p)                       # noqa: E731
        ours, sibling, ignored = _map_keys(read_state_dict(path, keep), src, sib_prefix)
        # `ignored` so far: keys a conversion leaves out (the authors' conversion drops them too, even before a
        # strict load); unexpected: keys that reach the module's load_state_dict and match no weight.
        unexpected = sorted(k for k in ours if k not in expected)
        unexpected += sorted(k for k in sibling if k not in sibling_keys and sibling_keys)
        if unexpected and src.strict:
            raise CheckpointError(f"{path}: {len(unexpected)} unexpected weight(s) for {comp}, e.g. "
                                  f"{', '.join(unexpected[:3])} (expected {src.what}; the authors load it with "
                                  f"strict=True; is this the right file?)")
        ignored = sorted(ignored + unexpected)
        if ignored:
            report.ignored.append((rel, ignored))
            log(f"  {rel}: ignoring {len(ignored)} key(s) that belong to no {comp} weight, as the authors' loader does, "
                f"e.g. {', '.join(ignored[:3])}")
        n_over = 0
        for k, v in ours.items():
            if k not in expected:
                continue
            shape, dtype = expected[k]
            if tuple(v.shape) != shape:
                raise CheckpointError(f"{path}: {k} has shape {tuple(v.shape)}, expected {shape} ({src.what})")
            if not v.is_floating_point() and dtype.is_floating_point:
                raise CheckpointError(f"{path}: {k} has dtype {v.dtype}, expected a float tensor")
            m, n, is_param = slots[k]
            v = v.to(dtype).contiguous()
            if is_param:
                m._parameters[n] = nn.Parameter(v, requires_grad=False)
            else:
                m._buffers[n] = v
            n_over += k in origin
            origin[k] = rel
        if n_over:
            report.overridden.append((rel, n_over))
            log(f"  {rel}: replaces {n_over} weight(s) of an earlier file (later files win, as in the authors' demo)")
        del ours, sibling
    missing = sorted(k for k in expected if k not in origin and k not in OPTIONAL_KEYS.get(comp, ()))
    missing += sorted(k for k in expected if k not in origin and k not in missing and getattr(*slots[k][:2]).is_meta)
    if missing:
        files = ", ".join(os.path.join(root, s.find(root)) for s in LAYOUT[comp])
        raise CheckpointError(f"{files}: {len(missing)} weight(s) of {comp} missing, e.g. "
                              + ", ".join(f"{k} {expected[k][0]}" for k in missing[:3]))
    report.origin = origin
    return report


def digest(module, prefixes=None):
    """sha256 over the state dict (names, dtypes, shapes, bytes), optionally only keys with one of `prefixes`."""
    h = hashlib.sha256()
    for k, v in module.state_dict().items():
        if prefixes is not None and not k.startswith(tuple(prefixes)):
            continue
        a = v.detach().contiguous().numpy()
        h.update(f"{k}|{a.dtype}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()
