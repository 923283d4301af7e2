"""Record what every module of a minitf model outputs, by checkpoint-style name.

    >>> import numpy as np
    >>> from minitf import AutoModelForCausalLM
    >>> model = AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")
    >>> with trace(model) as outputs:
    ...     _ = model(input_ids=np.array([[15, 99, 7]]))
    >>> outputs["transformer.h.0.attn"].shape                 # [batch, seq, n_embd]
    (1, 3, 32)
    >>> list(outputs)[:4]                                     # in the order they ran
    ['transformer.wte', 'transformer.wpe', 'transformer.h.0.ln_1', 'transformer.h.0.attn.c_attn']

Because minitf's module names are the checkpoint names, they are also the names of the
`transformers` modules, which is what `compare` uses to line the two models up.
"""
from __future__ import annotations

import contextlib

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
    """Within the block, every call of the model ("") or a sub-module stores its (first) output
    in the yielded dict.

    `include`: optional predicate on the module name, to record only some modules.
    Calls are recorded per instance, so a module called twice keeps its last output. It works
    with forward hooks (`Module.register_forward_hook`), which are removed when the block ends;
    a layer that fuses its activation (``Linear(x, activation=...)``) reports its own output,
    before the activation, as the transformers module of that name does.

        >>> from minitf.modeling import LayerNorm
        >>> import numpy as np
        >>> ln = LayerNorm(2)
        >>> with trace(ln) as outputs:
        ...     _ = ln(np.array([[1.0, 3.0]], np.float32))
        >>> outputs[""].round(3).tolist()
        [[-1.0, 1.0]]
    """
    outputs: dict = {}

    def record(name):
        def hook(module, args, output):
            arr = first_array(output)
            if arr is not None and hasattr(arr, "shape"):
                outputs[name] = to_numpy(arr)
        return hook

    handles = [module.register_forward_hook(record(name)) for name, module in model.named_modules()
               if include is None or include(name)]
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()
