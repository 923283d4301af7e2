"""CUDA kernels for the GPU backend, compiled at run time by CuPy (installed as `minitf.kernels.gpu`).

The kernels are the ``.cu`` files beside this one. Each file is compiled once per process with
NVRTC (`cupy.RawModule`; CuPy also caches the binary on disk) the first time one of its
kernels runs, so importing this module costs nothing and needs no GPU.

Registered for the ``"cuda"`` backend, float32 and float16 (`minitf.backend`'s kernel
contract): `minitf.backend.kernel(op, *args)` hands these out when the arguments are CuPy
arrays the kernel takes, and the NumPy ops in `minitf/ops.py` stay the reference they must match.

    op                   signature                         CUDA kernel
    "attention"          (q, k, v, mask, scale) -> out     flash_attention_*; decode_attention_*
                                                           when there is one query
    "layer_norm"         (x, weight, bias, eps) -> y       layer_norm_*
    "gelu_new", "gelu"   (x) -> y                          gelu_new_*, gelu_*

Inputs the kernels do not take (head_dim > 128, float64, mixed dtypes, a head_dim axis that
is not contiguous) are declined by `kernel` (see `_attention_accepts`), so the op runs the
reference code through CuPy. Called directly, `flash_attention` and `decode_attention` raise
instead, naming the argument. `teaching_matmul_tiled` (kernels/teaching_matmul.cu) is not
registered: it is for reading and testing; the ops keep cuBLAS (`a @ b`).

    >>> import cupy, minitf.kernels.gpu as gpu                               # doctest: +SKIP
    >>> q = k = v = cupy.random.standard_normal((1, 12, 256, 64), cupy.float32)  # doctest: +SKIP
    >>> gpu.flash_attention(q, k, v, causal=True).shape                      # doctest: +SKIP
    (1, 12, 256, 64)

Everything that touches CuPy goes through two functions, `_xp` (the array module) and
`_launch` (run one kernel); tests/test_kernels_cuda.py swaps them for NumPy and a CPU
emulator of the CUDA threads, so the kernels' numbers are checked on machines without a GPU.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from minitf.backend import register

KERNEL_DIR = Path(__file__).resolve().parent
MAX_HEAD_DIM = 128  # DMAX in attention.cu
_DTYPES = ("float32", "float16")
_SUFFIX = {"float32": "f32", "float16": "f16"}
_NULL = np.uint64(0)  # a null device pointer (no mask)
_i32, _i64, _f32 = np.int32, np.int64, np.float32


class UnsupportedInput(TypeError, ValueError):
    """The kernel cannot take these inputs, though the reference can. Raised by direct calls;
    the ops never see it: `backend.kernel` declines such inputs first (`_attention_accepts`)."""


# -- compiling and launching -----------------------------------------------------------------

def _xp():
    """The array module the kernels work on: CuPy."""
    import cupy

    return cupy


@functools.lru_cache(maxsize=None)
def _module(filename: str):
    """kernels/`filename` as a `cupy.RawModule`, compiled on first use."""
    import cupy

    source = (KERNEL_DIR / filename).read_text()
    return cupy.RawModule(code=source, options=("-std=c++17",))


@functools.lru_cache(maxsize=None)
def _kernel(filename: str, name: str):
    return _module(filename).get_function(name)


def _launch(filename: str, name: str, grid: tuple, block: tuple, args: tuple) -> None:
    """Run kernel `name` of kernels/`filename` on a grid of blocks, on CuPy's current stream.

    `args` follow the kernel's C signature: arrays for pointers, np.int32 for int, np.int64
    for long long, np.float32 for float, _NULL for a null pointer.
    """
    _kernel(filename, name)(grid, block, args)


def _blocks(n: int, per_block: int) -> int:
    return -(-n // per_block)  # ceil(n / per_block)


# -- checking inputs ---------------------------------------------------------------------------

def _check_array(name: str, x, xp, dtypes=_DTYPES):
    if not isinstance(x, xp.ndarray):
        raise TypeError(f"{name} must be a CuPy array on the GPU, got {type(x).__module__}."
                        f"{type(x).__name__}; move it with minitf.backend.to_device({name}, 'cuda')")
    if x.dtype.name not in dtypes:
        raise UnsupportedInput(f"{name} has dtype {x.dtype}; this kernel takes {' or '.join(dtypes)}")


def _elements(name: str, x, axes) -> tuple:
    """Strides of `axes` of x in elements (CuPy and NumPy count them in bytes)."""
    if any(s % x.itemsize for s in x.strides):
        raise UnsupportedInput(f"{name} has strides {x.strides} that are not whole elements; "
                               f"pass a contiguous copy")
    return tuple(_i64(x.strides[a] // x.itemsize) for a in axes)


def _check_attention(q, k, v, xp, one_query: bool):
    for name, x in (("q", q), ("k", k), ("v", v)):
        _check_array(name, x, xp)
        if x.ndim != 4:
            raise ValueError(f"{name} must be 4-D [batch, heads, seq, head_dim]; got shape {tuple(x.shape)}")
        if x.dtype != q.dtype:
            raise UnsupportedInput(f"{name} has dtype {x.dtype} but q has {q.dtype}; give all three the same")
        if x.shape[-1] > 1 and x.strides[-1] != x.itemsize:
            raise UnsupportedInput(f"{name}'s last axis (head_dim) must be contiguous, but its strides "
                                   f"are {x.strides} bytes; pass cupy.ascontiguousarray({name})")
    b, h, n_q, d = q.shape
    if k.shape[:2] != (b, h) or k.shape[3] != d:
        raise ValueError(f"k has shape {tuple(k.shape)}; q {tuple(q.shape)} needs [batch={b}, heads={h}, "
                         f"n_k, head_dim={d}]")
    if v.shape != k.shape:
        raise ValueError(f"v has shape {tuple(v.shape)}; it must match k's {tuple(k.shape)}")
    if d > MAX_HEAD_DIM:
        raise UnsupportedInput(f"head_dim {d} of q is larger than the {MAX_HEAD_DIM} the fused kernel handles")
    if k.shape[2] == 0:
        raise ValueError("k and v have no keys (n_k = 0): there is nothing to attend to")
    if one_query and n_q != 1:
        raise ValueError(f"decode_attention takes one query per (batch, head): q has n_q = {n_q}")


def _mask_arg(mask, key_lengths, shape: tuple, xp):
    """(bool array broadcast to `shape` or _NULL, its 4 strides): what the kernels index."""
    b, _, _, n_k = shape
    if key_lengths is not None:  # padding as lengths: key j of row i is real when j < lengths[i]
        lengths = xp.asarray(key_lengths).reshape(-1)
        if lengths.shape[0] != b:
            raise ValueError(f"key_lengths has {lengths.shape[0]} entries for a batch of {b}")
        pad = xp.arange(n_k)[None, None, None, :] < lengths[:, None, None, None]  # [b, 1, 1, n_k]
        mask = pad if mask is None else xp.asarray(mask) & pad
    if mask is None:
        return _NULL, (_i64(0),) * 4
    mask = xp.asarray(mask)
    if mask.dtype != bool:
        if mask.dtype.kind not in "iu":
            raise TypeError(f"mask has dtype {mask.dtype}; it must be boolean (True = may attend), "
                            f"not an additive float mask")
        mask = mask != 0
    if mask.ndim > 4:
        raise ValueError(f"mask has {mask.ndim} dimensions; at most 4: [batch, heads, n_q, n_k]")
    mask = mask.reshape((1,) * (4 - mask.ndim) + tuple(mask.shape))
    try:
        mask = xp.broadcast_to(mask, shape)  # broadcast axes get stride 0: nothing is copied
    except ValueError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not broadcast to "
                         f"[batch, heads, n_q, n_k] = {list(shape)}") from None
    return mask, tuple(_i64(s) for s in mask.strides)  # bool: one byte per element


def _new_out(b, h, n_q, d, dtype, xp):
    """[b, h, n_q, d], laid out as [b, n_q, h, d]: merge_heads' transpose+reshape is then free."""
    return xp.empty((b, n_q, h, d), dtype).transpose(0, 2, 1, 3)


# -- attention -------------------------------------------------------------------------------------

def flash_attention(q, k, v, mask=None, *, causal: bool = False, scale: float | None = None,
                    key_lengths=None):
    """softmax(q k^T * scale, masked) v, fused (kernels/attention.cu).

    q: [batch, heads, n_q, head_dim]; k, v: [batch, heads, n_k, head_dim]; float32 or float16,
    head_dim <= 128, last axis contiguous (other axes may be strided views). mask: bool,
    broadcastable to [batch, heads, n_q, n_k], True = may attend. causal: query i sees keys
    <= i + n_k - n_q (the last n_q positions). key_lengths: [batch] ints, keys >= length are
    padding. scale: default 1/sqrt(head_dim). A query with nothing to attend to gets the mean
    of v (uniform weights), as in transformers. With one query it runs `decode_attention`.

    Returns out [batch, heads, n_q, head_dim] in q's dtype (a transposed view of a
    [batch, n_q, heads, head_dim] array).
    """
    xp = _xp()
    _check_attention(q, k, v, xp, one_query=False)
    b, h, n_q, d = q.shape
    n_k = k.shape[2]
    if n_q == 1:  # also causal: the one query is the last position and sees every key
        return decode_attention(q, k, v, mask, scale=scale, key_lengths=key_lengths)
    scale = 1.0 / math.sqrt(d) if scale is None else float(scale)
    m, m_strides = _mask_arg(mask, key_lengths, (b, h, n_q, n_k), xp)
    out = _new_out(b, h, n_q, d, q.dtype, xp)
    if out.size == 0:
        return out
    args = (q, k, v, out, m, _i32(n_q), _i32(n_k), _i32(d),
            *_elements("q", q, (0, 1, 2)), *_elements("k", k, (0, 1, 2)),
            *_elements("v", v, (0, 1, 2)), *_elements("out", out, (0, 1, 2)),
            *m_strides, _i32(bool(causal)), _f32(scale))
    _launch("attention.cu", f"flash_attention_{_SUFFIX[q.dtype.name]}",
            (_blocks(n_q, 32), h, b), (128, 1, 1), args)
    return out


def decode_attention(q, k, v, mask=None, *, scale: float | None = None, key_lengths=None):
    """One generation step: q [batch, heads, 1, head_dim] against the whole KV cache
    k, v [batch, heads, n_k, head_dim] (kernels/attention.cu, decode_attention_*).

    Same arguments and result as `flash_attention`, for one query.
    """
    xp = _xp()
    _check_attention(q, k, v, xp, one_query=True)
    b, h, _, d = q.shape
    n_k = k.shape[2]
    scale = 1.0 / math.sqrt(d) if scale is None else float(scale)
    m, (m_sb, m_sh, _, m_sk) = _mask_arg(mask, key_lengths, (b, h, 1, n_k), xp)
    out = _new_out(b, h, 1, d, q.dtype, xp)
    if out.size == 0:
        return out
    args = (q, k, v, out, m, _i32(n_k), _i32(d),
            *_elements("q", q, (0, 1)), *_elements("k", k, (0, 1, 2)),
            *_elements("v", v, (0, 1, 2)), *_elements("out", out, (0, 1)),
            m_sb, m_sh, m_sk, _f32(scale))
    _launch("attention.cu", f"decode_attention_{_SUFFIX[q.dtype.name]}", (h, b, 1), (256, 1, 1), args)
    return out


def _attention_accepts(q, k, v, mask=None, scale=None):
    """What the fused kernels take (4-D, head_dim <= 128 and contiguous, keys to attend to);
    anything else runs the reference. The same checks as `_check_attention`, without raising."""
    for x in (q, k, v):
        if x.ndim != 4 or (x.shape[-1] > 1 and x.strides[-1] != x.itemsize):
            return False
        if any(st % x.itemsize for st in x.strides):
            return False
    return (k.shape[:2] == q.shape[:2] and k.shape[3] == q.shape[3] and v.shape == k.shape
            and q.shape[3] <= MAX_HEAD_DIM and k.shape[2] > 0)


def _attention_examples(dtype):
    """A prefill (two queries) and a decode step (one): both kernels of attention.cu."""
    x = np.zeros((1, 1, 2, 64), dtype)
    return [(x, x, x, None, None), (x[:, :, :1], x, x, None, None)]


@register("cuda", "attention", dtypes=_DTYPES, accepts=_attention_accepts,
          examples=_attention_examples)
def attention(q, k, v, mask=None, scale=None):
    """The "attention" op: out [b, h, n_q, d] (`flash_attention`, or `decode_attention` for one
    query)."""
    return flash_attention(q, k, v, mask, scale=scale)


# -- layer norm, GELU ----------------------------------------------------------------------------

def _elementwise_examples(dtype):
    return [(np.zeros((2, 8), dtype),)]


@register("cuda", "layer_norm", dtypes=_DTYPES,
          accepts=lambda x, weight, bias, eps=1e-5: x.ndim >= 1,
          examples=lambda dtype: [(np.zeros((2, 8), dtype), np.ones(8, dtype), np.zeros(8, dtype), 1e-5)])
def layer_norm(x, weight, bias, eps: float = 1e-5):
    """[..., d] -> [..., d] in one pass per row (kernels/elementwise.cu)."""
    xp = _xp()
    _check_array("x", x, xp)
    if x.ndim == 0:
        raise ValueError("x must have at least one axis (the one normalised)")
    d = x.shape[-1]
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        p = xp.asarray(p)
        if p.shape != (d,):
            raise ValueError(f"{name} has shape {tuple(p.shape)}; x's last axis needs ({d},)")
        params.append(xp.ascontiguousarray(p.astype(x.dtype, copy=False)))
    rows = xp.ascontiguousarray(x)
    y = xp.empty_like(rows)
    n_rows = rows.size // d if d else 0
    if n_rows:
        _launch("elementwise.cu", f"layer_norm_{_SUFFIX[x.dtype.name]}", (_blocks(n_rows, 4), 1, 1),
                (128, 1, 1), (rows, params[0], params[1], y, _i64(n_rows), _i32(d), _f32(eps)))
    return y.reshape(x.shape)


def _elementwise(kernel: str, x):
    xp = _xp()
    _check_array("x", x, xp)
    flat = xp.ascontiguousarray(x).reshape(-1)
    y = xp.empty_like(flat)
    if flat.size:
        grid = min(_blocks(flat.size, 256), 65535)  # a grid-stride loop covers the rest
        _launch("elementwise.cu", f"{kernel}_{_SUFFIX[x.dtype.name]}", (grid, 1, 1), (256, 1, 1),
                (flat, y, _i64(flat.size)))
    return y.reshape(x.shape)


@register("cuda", "gelu_new", dtypes=_DTYPES, examples=_elementwise_examples)
def gelu_new(x):
    """tanh-GELU (GPT-2's), [...] -> [...]"""
    return _elementwise("gelu_new", x)


@register("cuda", "gelu", dtypes=_DTYPES, examples=_elementwise_examples)
def gelu(x):
    """erf-GELU (BERT's), [...] -> [...]"""
    return _elementwise("gelu", x)


# -- the teaching matmul (not registered: no op calls it) -------------------------------------------

def _as_batch(name: str, x, batch: tuple, xp):
    """x [..., r, c] broadcast to batch + (r, c), as [n, r, c] with a contiguous last axis."""
    x = xp.broadcast_to(x, batch + tuple(x.shape[-2:]))
    if x.shape[-1] > 1 and x.strides[-1] != x.itemsize:
        x = xp.ascontiguousarray(x)
    x = x.reshape((-1,) + tuple(x.shape[-2:]))
    return x, _elements(name, x, (0, 1))


def teaching_matmul_tiled(a, b):
    """a [..., M, K] @ b [..., K, N] -> [..., M, N] with the tiled shared-memory kernel of
    kernels/teaching_matmul.cu (float32; leading axes broadcast as in numpy.matmul).

    For reading and measuring only: minitf's matmuls are cuBLAS (`a @ b` on CuPy arrays)."""
    xp = _xp()
    _check_array("a", a, xp, dtypes=("float32",))
    _check_array("b", b, xp, dtypes=("float32",))
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul takes matrices (at least 2-D); got a {tuple(a.shape)}, b {tuple(b.shape)}")
    (m, k), (k2, n) = a.shape[-2:], b.shape[-2:]
    if k != k2:
        raise ValueError(f"a has shape {tuple(a.shape)} and b {tuple(b.shape)}: a's last axis ({k}) "
                         f"must equal b's second-to-last ({k2})")
    try:
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    except ValueError:
        raise ValueError(f"the leading axes of a {tuple(a.shape)} and b {tuple(b.shape)} do not "
                         f"broadcast") from None
    c = xp.empty(batch + (m, n), np.float32)
    if c.size == 0:
        return c
    if k == 0:
        c[...] = 0
        return c
    a3, (a_sb, lda) = _as_batch("a", a, batch, xp)
    b3, (b_sb, ldb) = _as_batch("b", b, batch, xp)
    n_batch = a3.shape[0]
    if n_batch > 65535:
        raise ValueError(f"{n_batch} matrices in the batch; the grid takes at most 65535")
    c3 = c.reshape(n_batch, m, n)
    _launch("teaching_matmul.cu", "matmul_tiled_f32", (_blocks(n, 32), _blocks(m, 32), n_batch), (32, 8, 1),
            (a3, b3, c3, _i32(m), _i32(n), _i32(k), lda, ldb, _i64(n), a_sb, b_sb, _i64(m * n)))
    return c
