"""Record what every module of a minitf model outputs, by checkpoint-style name.

    >>> with trace(model) as outputs:                        # doctest: +SKIP
    ...     model(input_ids=ids)
    >>> outputs["transformer.h.0.attn"].shape                 # doctest: +SKIP
    (1, 5, 768)

Because minitf's module names are the checkpoint names, they are also the names of the
`transformers` modules, which is what `compare` uses to line the two models up.
"""
from __future__ import annotations

import contextlib

from .. import ops
from ..backend import to_numpy
from ..modeling import Module


def first_array(value):
    """A module's main output: the array itself, or the first array of a tuple/output dict."""
    if isinstance(value, dict):
        value = next(iter(value.values()), None)
    while isinstance(value, (tuple, list)) and value:
        value = value[0]
    return value


@contextlib.contextmanager
def trace(model: Module, include=None):
    """Within the block, every call of a sub-module stores its (first) output in the yielded dict.

    `include`: optional predicate on the module name, to record only some modules.
    Calls are recorded per instance, so a module called twice keeps its last output.
    """
    modules = list(model.named_modules())
    names = {id(m): name for name, m in modules if name}
    outputs: dict = {}
    patched = {}
    for cls in {type(m) for _, m in modules}:
        original = cls.__call__

        def wrapper(self, *args, __original=original, **kwargs):
            # A Linear called with activation= fuses bias and activation; record the layer's own
            # output (what the transformers module of that name returns), then apply it.
            act = kwargs.pop("activation", None)
            result = __original(self, *args, **kwargs)
            name = names.get(id(self))
            if name is not None and (include is None or include(name)):
                arr = first_array(result)
                if arr is not None and hasattr(arr, "shape"):
                    outputs[name] = to_numpy(arr)
            return result if act is None else ops.activation(act)(result)

        patched[cls] = original
        cls.__call__ = wrapper
    try:
        yield outputs
    finally:
        for cls, original in patched.items():
            cls.__call__ = original
