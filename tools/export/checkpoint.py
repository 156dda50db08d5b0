"""Read the official Motion-I2V checkpoint folder into the reference modules, strictly.

The folder is the authors' `models/` directory (`git clone https://huggingface.co/wangfuyun/Motion-I2V`); which
file feeds which module is taken from their demo (scripts/app.py of G-U-N/Motion-I2V):

  stage1/StableDiffusion-FlowGen/unet/diffusion_pytorch_model.bin      stage-1 UNet (keys `controlnet.*` ignored)
  stage1/StableDiffusion-FlowGen/controlnet/controlnet.bin             ControlNet (`controlnet.` prefix stripped)
  stage1/StableDiffusion-FlowGen/vae_flow/diffusion_pytorch_model.bin  flow VAE
  stage2/StableDiffusion/vae/diffusion_pytorch_model.{safetensors,bin} image VAE (both stages)
  stage2/StableDiffusion/text_encoder/{model.safetensors,pytorch_model.bin}  CLIP text encoder (both stages)
  stage2/StableDiffusion/tokenizer/{vocab.json,merges.txt}
  stage2/StableDiffusion/unet/diffusion_pytorch_model.{safetensors,bin}   \\
  stage2/Motion_Module/motion_block.bin                                    > stage-2 UNet, later files win
  stage2/DreamBooth_LoRA/realistic_unet.ckpt                              /

Every module is loaded with load_state_dict(strict=True) after our own checks, which name the file and what
was expected: a missing file (with the names we accept), a key no file provided, an unexpected key, or a
tensor whose shape differs from the module's.  Nothing is exported before every component has loaded.
"""
import json
import os
import struct
from dataclasses import dataclass, field

import numpy as np
import torch


class CheckpointError(Exception):
    """Bad input folder; the message names the file and what was expected."""


# ------------------------------------------------------------------------------------------- files

_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    """safetensors without the package: u64 LE header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise CheckpointError(f"{path}: too short for a .safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise CheckpointError(f"{path}: header length {n} runs past the end of the file (truncated download?)")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise CheckpointError(f"{path}: the .safetensors header is not JSON ({e})")
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dt = e["dtype"]
        b, end = e["data_offsets"]
        if base + end > len(data):
            raise CheckpointError(f"{path}: tensor {name} runs past the end of the file (truncated download?)")
        if dt == "BF16":
            raw = np.frombuffer(data, dtype="<u2", count=(end - b) // 2, offset=base + b).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        elif dt in _ST_DTYPES:
            npdt = np.dtype(_ST_DTYPES[dt]).newbyteorder("<")
            arr = np.frombuffer(data, dtype=npdt, count=(end - b) // npdt.itemsize, offset=base + b)
        else:
            raise CheckpointError(f"{path}: tensor {name} has unsupported dtype {dt}")
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    """The inverse of read_safetensors (float32/float16/int64 tensors), used by tests to build fake folders."""
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy())
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_state_dict(path):
    """name -> tensor from .safetensors or a torch pickle (.bin/.pth/.pt/.ckpt; {"state_dict": ...} unwrapped)."""
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    try:
        sd = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file
        raise CheckpointError(f"{path}: cannot be read as a PyTorch checkpoint ({type(e).__name__}: {e})")
    for wrapper in ("state_dict", "module", "model"):
        if isinstance(sd, dict) and wrapper in sd and isinstance(sd[wrapper], dict):
            sd = sd[wrapper]
    if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors (a state dict), got {type(sd).__name__}")
    return sd


# ------------------------------------------------------------------------------------------ layout

@dataclass
class Source:
    """One weight file: candidate names (first existing wins), a key filter/renamer, and whether its keys
    must all be used (False for a file that holds several modules)."""
    candidates: list
    what: str
    prefix: str = ""                      # keep only keys with this prefix, stripped ("" = all keys)
    drop_prefixes: tuple = ()             # keys to ignore (belong to another module)
    rename: dict = field(default_factory=dict)

    def find(self, root):
        for c in self.candidates:
            if os.path.isfile(os.path.join(root, c)):
                return c
        return None


S1 = "stage1/StableDiffusion-FlowGen/"
S2 = "stage2/StableDiffusion/"

# diffusers >= 0.15 renamed the VAE attention; map the new names to the 0.11 ones our module uses.
_VAE_RENAME = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}

LAYOUT = {
    "text_encoder": [Source([S2 + "text_encoder/model.safetensors", S2 + "text_encoder/pytorch_model.bin"],
                            "the SD 1.5 CLIP text encoder (transformers CLIPTextModel weights)")],
    "vae": [Source([S2 + "vae/diffusion_pytorch_model.safetensors", S2 + "vae/diffusion_pytorch_model.bin"],
                   "the SD image VAE (diffusers AutoencoderKL weights)", rename=_VAE_RENAME)],
    "flow_vae": [Source([S1 + "vae_flow/diffusion_pytorch_model.bin", S1 + "vae_flow/diffusion_pytorch_model.safetensors"],
                        "the 2-channel flow VAE (AutoencoderKL weights)", rename=_VAE_RENAME)],
    "stage1_unet": [Source([S1 + "unet/diffusion_pytorch_model.bin", S1 + "unet/diffusion_pytorch_model.safetensors"],
                           "the stage-1 flow UNet (8 input channels, stride embedding, motion modules)",
                           drop_prefixes=("controlnet.",))],
    "controlnet": [Source([S1 + "controlnet/controlnet.bin", S1 + "controlnet/controlnet.safetensors"],
                          "the trajectory ControlNet", prefix="controlnet.")],
    "stage2_unet": [
        Source([S2 + "unet/diffusion_pytorch_model.safetensors", S2 + "unet/diffusion_pytorch_model.bin"],
               "the SD 1.5 UNet (spatial layers of the stage-2 UNet)"),
        Source(["stage2/Motion_Module/motion_block.bin", "stage2/Motion_Module/motion_block.safetensors"],
               "the stage-2 motion modules (AnimateDiff layout)"),
        Source(["stage2/DreamBooth_LoRA/realistic_unet.ckpt", "stage2/DreamBooth_LoRA/realistic_unet.safetensors"],
               "the Realistic Vision 5.1 UNet weights (diffusers names)"),
    ],
}
TOKENIZER_FILES = [S2 + "tokenizer/vocab.json", S2 + "tokenizer/merges.txt"]

# Keys a file may lack: buffers that newer library versions no longer save (our module's value is used).
OPTIONAL_KEYS = {"text_encoder": {"text_model.embeddings.position_ids"}}


def check_files(root):
    """All files present?  Raises one CheckpointError listing every missing file (partial folders)."""
    if not os.path.isdir(root):
        raise CheckpointError(f"{root}: not a folder (expected the official checkpoint folder with stage1/ and stage2/)")
    missing = []
    for comp, sources in LAYOUT.items():
        for s in sources:
            if s.find(root) is None:
                missing.append(f"  {' or '.join(s.candidates)}  ({s.what}, for {comp})")
    for t in TOKENIZER_FILES:
        if not os.path.isfile(os.path.join(root, t)):
            missing.append(f"  {t}  (CLIP BPE tokenizer file)")
    if missing:
        raise CheckpointError(f"{root}: {len(missing)} expected file(s) missing (renamed, or a partial download?):\n"
                              + "\n".join(missing))


def _filtered(sd, src, rel):
    out = {}
    has_prefix = src.prefix and any(k.startswith(src.prefix) for k in sd)
    for k, v in sd.items():
        if src.prefix and has_prefix:
            if not k.startswith(src.prefix):
                continue                  # another module's weights in the same file
            k = k[len(src.prefix):]
        if any(k.startswith(p) for p in src.drop_prefixes):
            continue
        for a, b in src.rename.items():
            k = k.replace(a, b)
        out[k] = v
    return out


def load_component(root, comp, module, log=lambda *a: None):
    """Fill `module` from the component's files; raise CheckpointError naming the file on any mismatch."""
    expected = module.state_dict()
    merged, origin = {}, {}
    for src in LAYOUT[comp]:
        rel = src.find(root)
        if rel is None:
            raise CheckpointError(f"{os.path.join(root, src.candidates[0])}: missing ({src.what})")
        path = os.path.join(root, rel)
        log(f"reading {rel}")
        sd = _filtered(read_state_dict(path), src, rel)
        unexpected = sorted(k for k in sd if k not in expected)
        if unexpected:
            raise CheckpointError(f"{path}: {len(unexpected)} unexpected weight(s) for {comp}, e.g. "
                                  f"{', '.join(unexpected[:3])} (expected {src.what}; is this the right file?)")
        for k, v in sd.items():
            if tuple(v.shape) != tuple(expected[k].shape):
                raise CheckpointError(f"{path}: {k} has shape {tuple(v.shape)}, expected {tuple(expected[k].shape)} "
                                      f"({src.what})")
            if not v.is_floating_point() and expected[k].is_floating_point():
                raise CheckpointError(f"{path}: {k} has dtype {v.dtype}, expected a float tensor")
            merged[k] = v
            origin[k] = rel
    missing = sorted(k for k in expected if k not in merged and k not in OPTIONAL_KEYS.get(comp, ()))
    if missing:
        files = ", ".join(os.path.join(root, s.find(root)) for s in LAYOUT[comp])
        raise CheckpointError(f"{files}: {len(missing)} weight(s) of {comp} missing, e.g. "
                              + ", ".join(f"{k} {tuple(expected[k].shape)}" for k in missing[:3]))
    for k in expected:
        if k not in merged:
            merged[k] = expected[k]
        else:
            merged[k] = merged[k].to(expected[k].dtype)
    module.load_state_dict(merged, strict=True)
    return origin
