"""Find the first module where minitf's numbers leave the reference's.

With torch and transformers installed (the reference extras, `make setup-reference`)::

    report = compare_with_transformers(model, hf_model, input_ids=ids)
    print(report)
    module                        shape          max|diff|  max|ref|
    transformer.wte               (1, 5, 768)    0.00e+00   1.2e+00
    transformer.h.0.ln_1          (1, 5, 768)    4.77e-07   9.8e+00
    ...
    all 52 modules within atol 1e-04 + rtol 1e-05 * max|ref|

Both models are run on the same inputs with every module's output recorded (minitf through
`trace`, transformers through forward hooks); modules are matched by name, which is the
checkpoint name on both sides, and compared in forward order. The comparison itself is
`compare_outputs`, on any two dicts of recorded outputs:

    >>> ours = {"wte": np.ones((1, 2)), "h.0": np.array([[1.0, 2.5]])}
    >>> theirs = {"wte": np.ones((1, 2)), "h.0": np.array([[1.0, 2.0]])}
    >>> print(compare_outputs(ours, theirs, ["wte", "h.0"], atol=1e-4, rtol=1e-5))
    module                                   shape              max|diff|  max|ref|
    wte                                      (1, 2)             0.00e+00   1.00e+00
    h.0                                      (1, 2)             5.00e-01   2.00e+00   <-- first divergence
    first divergence: h.0 (max|diff| 5.00e-01 over atol 1e-04 + rtol 1e-05 * max|ref|)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .trace import first_array, trace


@dataclass
class Divergence:
    rows: list = field(default_factory=list)  # (name, shape, max|diff|, max|ref|), forward order
    atol: float = 1e-4
    rtol: float = 1e-5  # float32 rounding grows with the size of the numbers compared

    def ok(self, row) -> bool:
        return row[2] <= self.atol + self.rtol * row[3]  # False for NaN too

    @property
    def first(self):
        """(name, shape, diff, scale) of the first module over atol + rtol * max|ref|, or None."""
        for row in self.rows:
            if not self.ok(row):
                return row
        return None

    @property
    def max_diff(self) -> float:
        return max((r[2] for r in self.rows), default=0.0)

    def __str__(self):
        lines = [f"{'module':40s} {'shape':18s} max|diff|  max|ref|"]
        first = self.first
        for name, shape, diff, scale in self.rows:
            flag = "   <-- first divergence" if first and name == first[0] else ""
            lines.append(f"{name:40s} {str(shape):18s} {diff:.2e}   {scale:.2e}{flag}")
        tol = f"atol {self.atol:.0e} + rtol {self.rtol:.0e} * max|ref|"
        lines.append(f"first divergence: {first[0]} (max|diff| {first[2]:.2e} over {tol})"
                     if first else f"all {len(self.rows)} modules within {tol}")
        return "\n".join(lines)


def compare_outputs(ours: dict, theirs: dict, order, atol: float = 1e-4,
                    rtol: float = 1e-5) -> Divergence:
    """Compare two name -> array dicts over the names in `order` present in both."""
    report = Divergence(atol=atol, rtol=rtol)
    for name in order:
        if name in ours and name in theirs:
            a, b = np.asarray(ours[name], np.float64), np.asarray(theirs[name], np.float64)
            if a.shape != b.shape:
                report.rows.append((name, a.shape, float("inf"), 0.0))
                continue
            diff = float(np.max(np.abs(a - b))) if a.size else 0.0
            scale = float(np.max(np.abs(b))) if b.size else 0.0
            report.rows.append((name, a.shape, diff, scale))
    return report


def compare_with_transformers(model, hf_model, atol: float = 1e-4, rtol: float = 1e-5,
                              **inputs) -> Divergence:
    """Run both models on `inputs` (NumPy arrays, transformers keyword names) and report, module
    by module in forward order, the largest absolute difference and the first module whose
    difference exceeds atol + rtol * max|reference|."""
    import torch

    theirs, order = {}, []
    hooks = []
    for name, module in hf_model.named_modules():
        if not name:
            continue

        def hook(mod, args, output, __name=name):
            arr = first_array(output)
            if isinstance(arr, torch.Tensor):
                if __name not in theirs:
                    order.append(__name)
                theirs[__name] = arr.detach().float().numpy()

        hooks.append(module.register_forward_hook(hook))
    import inspect

    # decoders get use_cache=False (plain forward); encoders' forward has no such argument
    extra = {"use_cache": False} if "use_cache" in inspect.signature(hf_model.forward).parameters else {}
    try:
        with torch.no_grad():
            hf_model(**{k: torch.from_numpy(np.asarray(v)) for k, v in inputs.items()}, **extra)
    finally:
        for h in hooks:
            h.remove()
    with trace(model) as ours:
        model(**inputs, **extra)
    return compare_outputs(ours, theirs, order, atol, rtol)
