"""Build modules without allocating weights (torch 1.13 has no `with torch.device('meta')`)."""
import contextlib

import torch


@contextlib.contextmanager
def meta_init():
    orig = torch.empty

    def empty(*size, **kw):
        kw["device"] = "meta"
        return orig(*size, **kw)
    torch.empty = empty
    try:
        yield
    finally:
        torch.empty = orig


def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@contextlib.contextmanager
def meta_factories():
    """Tensors the modules create inside forward (sinusoid frequencies, masks, index grids) land on the meta
    device too, so a meta module run on meta inputs computes every shape and no value."""
    names = ("arange", "zeros", "ones", "full", "empty", "tensor")
    orig = {n: getattr(torch, n) for n in names}

    def on_meta(f):
        def g(*a, **kw):
            kw.setdefault("device", "meta")
            return f(*a, **kw)
        return g
    for n in names:
        setattr(torch, n, on_meta(orig[n]))
    try:
        yield
    finally:
        for n, f in orig.items():
            setattr(torch, n, f)


def buffers_to_meta(module):
    """meta_init builds parameters on meta; buffers made by other factories (position tables) follow here."""
    for m in module.modules():
        for n, b in list(m._buffers.items()):
            if b is not None:
                m._buffers[n] = b.to("meta")
    return module
