"""`set_seed(n)`: make everything random in minitf repeatable, as `transformers.set_seed`.

Sampling draws from one module-level NumPy generator unless a call gives its own `seed=`;
`set_seed` reseeds it, together with Python's `random` and NumPy's global generator (and
CuPy's, when CuPy is loaded).

    >>> set_seed(0)
    >>> a = sampling_rng().random()
    >>> set_seed(0)
    >>> a == sampling_rng().random()
    True
"""
from __future__ import annotations

import random
import sys

import numpy as np

_rng = np.random.default_rng()


def set_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator, CuPy's (if loaded) and the generator
    minitf's sampling uses."""
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"set_seed takes an int (got {type(seed).__name__} {seed!r})")
    if seed < 0:
        raise ValueError(f"set_seed takes a non-negative int (got {seed})")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # the legacy global generator only takes 32-bit seeds
    _rng = np.random.default_rng(seed)
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        cupy.random.seed(seed % 2**32)


def sampling_rng(seed: int | None = None) -> np.random.Generator:
    """A fresh generator for `seed`, or (seed None) the shared one `set_seed` seeds."""
    return np.random.default_rng(seed) if seed is not None else _rng
