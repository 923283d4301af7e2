"""Pure functions on arrays: the building blocks of every model in minitf.

Each op takes and returns arrays of the caller's dtype (float32 by default): no op silently
upcasts to float64 (picoGPT's one `np.tri` upcast made it 5x slower). Shapes are written in
the comments; `...` stands for any leading batch dimensions.

    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    >>> softmax(x).round(3)
    array([[0.09 , 0.245, 0.665]], dtype=float32)

The functions use the array module of their input (NumPy, or CuPy on the GPU), so the same
code runs on both; `minitf.backend` may swap in a fused kernel for the hot ones. Each such op
asks ``kernel(op, *args)`` with the arguments it would pass, and runs its own NumPy code
when the answer is None (no kernel takes them: see `minitf.backend`'s kernel contract).
"""
from __future__ import annotations

import math

import numpy as np

from .backend import get_array_module, kernel

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def linear(x, weight, bias=None, activation: str | None = None):
    """y = act(x @ weight + bias), with `weight` stored [in, out] (GPT-2's Conv1D layout).

    [..., in] @ [in, out] -> [..., out]. `activation` is a config name ("gelu", "relu" ...)
    or None; a backend may apply bias and activation in one pass (numba does, on all cores).
    """
    if x.ndim > 2:  # one [n, in] @ [in, out] BLAS call instead of one per leading index
        y = linear(x.reshape(-1, x.shape[-1]), weight, bias, activation)
        return y.reshape(*x.shape[:-1], weight.shape[-1])
    y = x @ weight  # [n, in] @ [in, out] -> [n, out]
    if activation is not None or bias is not None:
        fused = kernel("bias_activation", y, bias, activation)
        if fused is not None:
            return fused(y, bias, activation)  # in place
    if bias is not None:
        y += bias  # in place: no second [..., out] temporary
    return y if activation is None else activation_fn(activation)(y)


def linear_t(x, weight, bias=None, activation: str | None = None):
    """y = act(x @ weight.T + bias), with `weight` stored [out, in] (torch.nn.Linear's layout).

    [..., in] @ [out, in].T -> [..., out]
    """
    return linear(x, weight.T, bias, activation)


def layer_norm(x, weight, bias, eps: float = 1e-5, residual=None):
    """Normalise the last axis to mean 0 / variance 1, then scale and shift.

    [..., d] -> [..., d]. Variance is the biased one (divide by d), as torch does.
    `residual` (same shape as x): normalise x + residual instead, the closing step of a
    post-norm block (BERT's LayerNorm(dense(h) + input)); a kernel does both in one pass.
    """
    if residual is not None:
        fused = kernel("add_layer_norm", x, residual, weight, bias, eps)
        if fused is not None:
            return fused(x, residual, weight, bias, eps)
        x = x + residual  # [..., d]
    fused = kernel("layer_norm", x, weight, bias, eps)
    if fused is not None:
        return fused(x, weight, bias, eps)
    xp = get_array_module(x)
    mean = x.mean(axis=-1, keepdims=True)  # [..., 1]
    centred = x - mean  # [..., d]
    var = (centred * centred).mean(axis=-1, keepdims=True)  # [..., 1]
    inv = 1.0 / xp.sqrt(var + x.dtype.type(eps))  # [..., 1]
    return centred * inv * weight + bias  # [..., d]


def gelu_new(x):
    """GELU, tanh approximation (GPT-2's `gelu_new`, BERT's `gelu_pytorch_tanh`).

    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))); [...] -> [...]
    """
    fused = kernel("gelu_new", x)
    if fused is not None:
        return fused(x)
    xp = get_array_module(x)
    t = x.dtype.type
    inner = t(SQRT_2_OVER_PI) * (x + t(0.044715) * (x * x * x))
    return t(0.5) * x * (t(1.0) + xp.tanh(inner))


def gelu(x):
    """GELU, exact erf form: x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))) (BERT's `gelu`).

    NumPy has no erf, so the reference evaluates math.erf per element (exact, slow);
    the numba backend registers a compiled kernel for it.
    """
    fused = kernel("gelu", x)
    if fused is not None:
        return fused(x)
    xp = get_array_module(x)
    t = x.dtype.type
    if xp is np:
        erf = np.vectorize(math.erf, otypes=[np.float64])(x / t(math.sqrt(2.0))).astype(x.dtype)
    else:  # pragma: no cover - GPU only
        import cupyx.scipy.special as cps

        erf = cps.erf(x / t(math.sqrt(2.0)))
    return t(0.5) * x * (t(1.0) + erf)


def relu(x):
    """max(x, 0); [...] -> [...]"""
    xp = get_array_module(x)
    return xp.maximum(x, x.dtype.type(0))


def sigmoid(x):
    """1 / (1 + exp(-x)), each entry's probability on its own (multi-label scores); [...] -> [...]"""
    xp = get_array_module(x)
    one = x.dtype.type(1.0)
    return one / (one + xp.exp(-x))


def silu(x):
    """x * sigmoid(x) (a.k.a. swish); [...] -> [...]"""
    xp = get_array_module(x)
    return x / (x.dtype.type(1.0) + xp.exp(-x))


def quick_gelu(x):
    """x * sigmoid(1.702 x), CLIP's cheap GELU; [...] -> [...]"""
    xp = get_array_module(x)
    return x / (x.dtype.type(1.0) + xp.exp(x.dtype.type(-1.702) * x))


ACTIVATIONS = {
    "gelu_new": gelu_new, "gelu_pytorch_tanh": gelu_new, "gelu_fast": gelu_new,
    "gelu": gelu, "relu": relu, "silu": silu, "swish": silu, "quick_gelu": quick_gelu,
    "tanh": lambda x: get_array_module(x).tanh(x),
}


def activation(name: str):
    """Look up an activation function by its config name (`activation_function`, `hidden_act`)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation function {name!r}; known: {sorted(ACTIVATIONS)}") from None


activation_fn = activation  # the same lookup, for code whose own argument is named `activation`


def softmax(x, axis: int = -1, inplace: bool = False, mask=None):
    """Numerically stable softmax: subtract the row max so exp never overflows.

    [..., n] -> [..., n]; a row of equal (e.g. all-masked) scores gives uniform weights.
    `mask` (bool, broadcastable to x, True = keep) sends the other entries to finfo.min first,
    as attention masks do. `inplace=True` reuses x's memory (for a temporary such as scores).
    """
    xp = get_array_module(x)
    if mask is not None and axis == -1:
        fused = kernel("masked_softmax", x, mask, inplace)
        if fused is not None:
            return fused(x, mask, inplace)
    if mask is not None:
        x = x if inplace else x.copy()
        # add 0 or min: a score plus finfo.min rounds to finfo.min, never to -inf
        x += xp.where(mask, x.dtype.type(0), x.dtype.type(np.finfo(x.dtype).min))
        inplace = True
    fused = kernel("softmax", x) if axis == -1 else None
    if fused is not None:
        return fused(x)
    e = x if inplace else x.copy()
    e -= x.max(axis=axis, keepdims=True)
    xp.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x, axis: int = -1):
    """log(softmax(x)) computed as x - max - log(sum(exp(x - max))); [..., n] -> [..., n]"""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def embedding(ids, table):
    """Row lookup: table[ids]. [...] int -> [..., d]

    Out-of-range ids raise an IndexError that names the id and the table size.
    """
    xp = get_array_module(table)
    ids = xp.asarray(ids)
    if ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= table.shape[0]:
            bad = lo if lo < 0 else hi
            raise IndexError(f"token/position id {bad} is out of range for an embedding table "
                             f"of {table.shape[0]} rows (valid ids: 0..{table.shape[0] - 1})")
    return table[ids]


def dropout(x, p: float = 0.0, training: bool = False):
    """Dropout is the identity at inference (minitf only runs inference); kept so the
    forward passes read like the papers."""
    if training and p > 0:
        raise ValueError("minitf runs inference only; dropout with training=True is not supported")
    return x
