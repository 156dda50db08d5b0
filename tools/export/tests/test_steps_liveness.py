"""StepsModule (what every graph is traced through) drops each SSA tensor after its last reader, so a full-size trace
holds only live activations; before, the env kept every tensor of the forward (4.7 GB for the stage-1 UNet at batch 1)
and the full-size stage-1 UNet export was killed for memory on a 24 GB machine."""
import weakref

import torch

from tools.export.onnx_export import StepsModule
from tools.export.unet import Step


def test_a_tensor_is_freed_after_its_last_reader_and_outputs_are_kept():
    made = {}

    def keep(name, t):
        made[name] = weakref.ref(t)
        return t

    alive_at_last_step = {}

    def last(c):
        alive_at_last_step.update({k: r() is not None for k, r in made.items()})
        return keep("d", c * 3)

    steps = [Step("a", lambda x: keep("a", x + 1), ["x"], ["a"], "torch", {}),
             Step("b", lambda a: keep("b", a * 2), ["a"], ["b"], "torch", {}),
             Step("c", lambda a, b: keep("c", a + b), ["a", "b"], ["c"], "torch", {}),
             Step("d", last, ["c"], ["d"], "torch", {})]
    m = StepsModule(torch.nn.Module(), steps, ["x"], ["b", "d"])
    b, d = m(torch.ones(3))
    assert alive_at_last_step == {"a": False, "b": True, "c": True}   # b is an output; c is being read
    assert torch.equal(d, torch.full((3,), 18.0)) and torch.equal(b, torch.full((3,), 4.0))
