"""The one global choice in minitf: which array module and which kernels run the ops.

Backends:
- ``"numpy"``: the readable reference. Every op is plain NumPy in `minitf/ops.py`.
- ``"numba"``: the same ops, with compiled Numba kernels (`minitf.kernels.cpu`) swapped in
  for the hot element-wise ones (layer norm, GELU, softmax). Same numbers up to float rounding.
- ``"cuda"``: arrays live on the GPU as CuPy arrays; chosen per model with ``device="cuda"``.
  Ops on CuPy arrays run the same NumPy code through CuPy, except where `minitf.kernels.gpu`
  registers a CUDA kernel (fused attention, layer norm, GELU); it is imported on first use.
  Under the ``"numpy"`` backend those kernels are left out too, so the readable code runs.

    >>> import minitf
    >>> minitf.backend.get_backend()              # doctest: +SKIP
    'numba'
    >>> with minitf.backend.use_backend("numpy"):  # the reference, e.g. to step through an op
    ...     pass

The default on the CPU is the fastest installed one (numba when it imports), unless the
environment variable ``MINITF_BACKEND`` says otherwise.
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable

import numpy as np

_BACKENDS = ("numpy", "numba", "cuda")
_state = {"name": None}
_registry: dict[str, dict[str, Callable]] = {"numpy": {}, "numba": {}, "cuda": {}}
_loaded: set[str] = set()


def get_array_module(x):
    """numpy for NumPy arrays (and scalars), cupy for CuPy arrays."""
    mod = type(x).__module__
    if mod.startswith("cupy"):
        import cupy

        return cupy
    return np


def _load(name: str) -> bool:
    """Import the kernels of backend `name` once; False when they are unavailable."""
    if name in _loaded:
        return True
    if name == "numpy":
        _loaded.add(name)
        return True
    try:
        if name == "numba":
            from .kernels import cpu  # noqa: F401  (registers its kernels on import)
        elif name == "cuda":
            import cupy  # noqa: F401

            from .kernels import gpu  # noqa: F401  (registers its kernels on import)
    except ImportError:
        return False
    _loaded.add(name)
    return True


def _default() -> str:
    wanted = os.environ.get("MINITF_BACKEND")
    if wanted:
        if wanted not in ("numpy", "numba"):
            raise ValueError(f"MINITF_BACKEND={wanted!r}: the CPU backend must be 'numpy' or 'numba'")
        if not _load(wanted):
            raise ImportError(f"MINITF_BACKEND={wanted!r} but {wanted} is not installed")
        return wanted
    return "numba" if _load("numba") else "numpy"


def get_backend() -> str:
    """The name of the active CPU backend ('numpy' or 'numba')."""
    if _state["name"] is None:
        _state["name"] = _default()
    return _state["name"]


def set_backend(name: str) -> None:
    """Choose the CPU backend for this process: 'numpy' (reference) or 'numba' (fused kernels)."""
    if name not in ("numpy", "numba"):
        raise ValueError(f"backend must be 'numpy' or 'numba' (got {name!r}); the GPU is chosen "
                         f"per model with device='cuda'")
    if not _load(name):
        raise ImportError(f"backend {name!r} is not available: its package is not installed")
    _state["name"] = name


@contextlib.contextmanager
def use_backend(name: str):
    """Run a block under another CPU backend, then restore the previous one."""
    previous = get_backend()
    set_backend(name)
    try:
        yield
    finally:
        _state["name"] = previous


def register(backend: str, op: str):
    """Decorator used by kernel modules: ``@register("numba", "gelu_new")``."""
    def wrap(fn):
        _registry[backend][op] = fn
        return fn
    return wrap


def kernel(op: str, x) -> Callable | None:
    """The kernel registered for `op` under the active backend, or None to use the NumPy code.

    CPU kernels are only used for float32/float64 NumPy arrays. For a CuPy array it is the
    "cuda" kernel of `op`, if one is registered for x's dtype (see `minitf.kernels.gpu`).
    """
    if type(x).__module__.startswith("cupy"):
        return _cuda_kernel(op, x)
    if type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64):
        return None
    name = get_backend()
    if name == "numpy":
        return None
    return _registry[name].get(op)


def _cuda_kernel(op: str, x) -> Callable | None:
    """The CUDA kernel for `op` on CuPy array x, or None: then the NumPy code runs through CuPy
    (ops without a kernel, dtypes the kernel does not take, or the "numpy" backend)."""
    if get_backend() == "numpy" or not _load("cuda"):
        return None
    fn = _registry["cuda"].get(op)
    if fn is None or x.dtype.name not in getattr(fn, "dtypes", ()):
        return None
    return fn


def to_device(array, device: str):
    """Move an array to 'cpu' (NumPy) or 'cuda' (CuPy)."""
    if device == "cpu":
        if type(array).__module__.startswith("cupy"):
            return array.get()
        return np.asarray(array)
    if device == "cuda":
        try:
            import cupy
        except ImportError:
            raise ImportError("device='cuda' needs CuPy: pip install 'minitf[gpu]'") from None
        return cupy.asarray(array)
    raise ValueError(f"device must be 'cpu' or 'cuda' (got {device!r})")


def to_numpy(array):
    """A NumPy array from a NumPy or CuPy array (for printing, comparing, tokenizers)."""
    return to_device(array, "cpu")
