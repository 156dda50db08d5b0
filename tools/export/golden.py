"""Golden tensor files ("MI2G" format, documented in README.md).

Layout (all little-endian):
  bytes 0..3   magic b"MI2G"
  bytes 4..7   u32 version = 1
  bytes 8..11  u32 J = byte length of the JSON header (padded with spaces to a multiple of 4)
  bytes 12..   JSON (utf-8): {"tensors": [{"name", "dtype": "float32"|"int32", "shape": [...],
               "offset": byte offset from the start of the data section, "nbytes"}], "meta": {...}}
  12+J..       data section: each tensor's raw little-endian values, C order, 4-byte aligned.
"""
import json
import struct

import numpy as np

MAGIC = b"MI2G"


def write(path, tensors, meta=None):
    """tensors: list of (name, array) (order kept).  Floats are stored as float32, ints as int32."""
    entries, blobs, off = [], [], 0
    for name, a in tensors:
        a = np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a)
        if a.dtype.kind == "f":
            a = a.astype("<f4")
            dt = "float32"
        elif a.dtype.kind in "iub":
            a = a.astype("<i4")
            dt = "int32"
        else:
            raise TypeError(f"{name}: unsupported dtype {a.dtype}")
        b = np.ascontiguousarray(a).tobytes()
        entries.append({"name": name, "dtype": dt, "shape": list(a.shape), "offset": off, "nbytes": len(b)})
        blobs.append(b)
        off += len(b)
    header = json.dumps({"tensors": entries, "meta": meta or {}}, sort_keys=True, separators=(",", ":")).encode()
    header += b" " * ((-len(header)) % 4)
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<II", 1, len(header)) + header)
        for b in blobs:
            f.write(b)


def read(path):
    """-> (dict name -> np.ndarray, meta)"""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == MAGIC, f"{path}: not a MI2G file"
    ver, jl = struct.unpack("<II", data[4:12])
    assert ver == 1
    head = json.loads(data[12:12 + jl])
    base = 12 + jl
    out = {}
    for e in head["tensors"]:
        dt = "<f4" if e["dtype"] == "float32" else "<i4"
        out[e["name"]] = np.frombuffer(data, dtype=dt, count=int(np.prod(e["shape"], dtype=np.int64)),
                                       offset=base + e["offset"]).reshape(e["shape"])
    return out, head["meta"]
