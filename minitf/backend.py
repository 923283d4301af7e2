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
    >>> minitf.backend.get_backend() in ("numba", "numpy")   # "numba" unless MINITF_BACKEND=numpy
    True
    >>> with minitf.backend.use_backend("numpy"):  # the reference, e.g. to step through an op
    ...     pass

The default on the CPU is the fastest installed one (numba when it imports), unless the
environment variable ``MINITF_BACKEND`` says otherwise.

The kernel contract
-------------------
A kernel module registers each kernel with what it takes, once:

    @register("numba", "layer_norm", dtypes=("float32", "float64"),
              accepts=lambda x, weight, bias, eps: weight.shape == (x.shape[-1],), examples=...)
    def layer_norm(x, weight, bias, eps): ...

- the backend names the device: ``"numba"`` kernels take NumPy arrays, ``"cuda"`` ones CuPy
  arrays; every array argument must live there.
- `dtypes`: the dtypes of the first argument it computes in. Every other floating-point array
  argument must have that same dtype (a kernel never mixes precisions: the reference would
  upcast). A dtype is declared only when the kernel is exact in it: the float64 kernels are
  exact to float64 rounding (libm's erf/tanh/exp), so a float64 run is a parity run.
- `accepts(*args, **kw) -> bool`: the rest (number of axes, shapes, layouts, sizes, options).
- `examples(dtype)`: a few small argument tuples in the layouts the models pass; `warm_up`
  runs them so compilation happens at model load.

An op asks `kernel(op, *args, **kw)` with the exact arguments it would pass. That is the one
place where acceptance is checked: it returns the kernel only if all of the above hold, and
None otherwise, and then the op runs its NumPy reference. A kernel that was handed out
computes: it never returns a "not handled" sentinel.

    >>> import numpy as np
    >>> from minitf import backend
    >>> x = np.ones((2, 3, 8), np.float32)
    >>> with backend.use_backend("numba"):
    ...     kernels = [backend.kernel("gelu", x),                # float32, any shape: taken
    ...                backend.kernel("gelu", x.astype(np.float16)),  # a dtype not declared
    ...                backend.kernel("attention", x, x, x, None, 1.0)]  # 3-D: not [b, h, n, d]
    >>> [k is not None for k in kernels]
    [True, False, False]
    >>> with backend.use_backend("numpy"):                       # the reference, always
    ...     backend.kernel("gelu", x) is None
    True
    >>> backend.registered("numba")["attention"].dtypes            # the fused attention: float32 only
    ('float32',)
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

_BACKENDS = ("numpy", "numba", "cuda")
_DEVICE_OF_BACKEND = {"numba": "cpu", "cuda": "cuda"}  # the backends that register kernels
_state = {"name": None}
_registry: dict[str, dict[str, "Kernel"]] = {"numba": {}, "cuda": {}}
_loaded: set[str] = set()
_warm: dict[tuple[str, str], float] = {}  # (backend, dtype name) -> seconds its warm-up took


@dataclass(frozen=True)
class Kernel:
    """One registered kernel: `fn` computes `op` on the `device` of `backend` in `dtypes`, for
    the arguments `accepts` takes (see the module docstring)."""

    backend: str
    op: str
    fn: Callable
    dtypes: tuple[str, ...]
    accepts: Callable[..., bool] | None = None
    examples: Callable[[np.dtype], list] | None = None

    @property
    def device(self) -> str:
        return _DEVICE_OF_BACKEND[self.backend]

    def takes(self, *args, **kw) -> bool:
        """True when `fn(*args, **kw)` computes the op: dtype, device, then `accepts`."""
        dtype = getattr(args[0], "dtype", None) if args else None
        if dtype is None or dtype.name not in self.dtypes:
            return False
        for a in (*args, *kw.values()):
            device = _device_of(a)
            if device is False:
                continue  # not an array: scalars, None, names are for `accepts`
            if device != self.device or (a.dtype.kind == "f" and a.dtype != dtype):
                return False
        return self.accepts is None or bool(self.accepts(*args, **kw))


def _device_of(a):
    """'cpu' for a NumPy array, 'cuda' for a CuPy one, None for another array type (an ndarray
    subclass: a kernel may not handle it), False for something that is not an array."""
    if type(a) is np.ndarray:
        return "cpu"
    if type(a).__module__.startswith("cupy") and hasattr(a, "dtype"):
        return "cuda"
    return None if isinstance(a, np.ndarray) else False


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


def register(backend: str, op: str, *, dtypes, accepts=None, examples=None):
    """Decorator used by kernel modules: ``@register("numba", "gelu", dtypes=("float32",))``.

    Records a `Kernel` (see the module docstring for what each argument declares) and returns
    the function unchanged, so the module can still call it directly.
    """
    if backend not in _registry:
        raise ValueError(f"kernels register for backend 'numba' or 'cuda' (got {backend!r}); "
                         f"'numpy' is the reference and has none")
    names = tuple(np.dtype(d).name for d in dtypes)
    if not names or any(np.dtype(d).kind != "f" for d in names):
        raise ValueError(f"kernel {backend}/{op}: dtypes must name floating-point dtypes (got {dtypes!r})")

    def wrap(fn):
        _registry[backend][op] = Kernel(backend, op, fn, names, accepts, examples)
        return fn
    return wrap


def registered(backend: str) -> dict[str, Kernel]:
    """The kernels registered for `backend` ('numba' or 'cuda'), by op (imports them first)."""
    if backend not in _registry:
        raise ValueError(f"backend must be 'numba' or 'cuda' (got {backend!r})")
    _load(backend)
    return dict(_registry[backend])


def kernel(op: str, *args, **kw) -> Callable | None:
    """The kernel registered for `op` if it takes these arguments, else None: then the caller
    runs the NumPy reference. `args`, `kw`: exactly what the kernel would be called with.

    A NumPy first argument asks the active CPU backend (none under "numpy"); a CuPy one asks
    the "cuda" kernels (see `minitf.kernels.gpu`), also none under "numpy".
    """
    if not args:
        raise TypeError(f"kernel({op!r}) needs the arguments the kernel would be called with")
    device = _device_of(args[0])
    if device not in ("cpu", "cuda"):
        return None
    name = get_backend()
    if name == "numpy":
        return None
    if device == "cuda":
        name = "cuda"
        if not _load(name):
            return None
    k = _registry[name].get(op)
    return k.fn if k is not None and k.takes(*args, **kw) else None


def warm_up(dtype, device: str = "cpu") -> float:
    """Compile (or load from Numba's / CuPy's disk cache) every kernel that models of `dtype`
    on `device` use, by running each on its small examples; the seconds it took.

    Done once per (backend, dtype): later calls return 0.0, as does the "numpy" backend (no
    kernels). Models call it when they are loaded (`PreTrainedModel.to`), so that the first
    forward pass, and a generation's time to first token, measure the model and not this.
    """
    start = time.perf_counter()
    dt = np.dtype(dtype)
    if device not in _DEVICE_OF_BACKEND.values():
        raise ValueError(f"device must be 'cpu' or 'cuda' (got {device!r})")
    if get_backend() == "numpy":
        return 0.0
    name = "cuda" if device == "cuda" else get_backend()
    if (name, dt.name) in _warm or not _load(name):
        return 0.0
    for k in _registry[name].values():
        if dt.name not in k.dtypes or k.examples is None:
            continue
        for args in k.examples(dt):
            k.fn(*(to_device(a, device) if isinstance(a, np.ndarray) else a for a in args))
    seconds = time.perf_counter() - start
    _warm[(name, dt.name)] = seconds
    return seconds


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
