"""Full (dense) scaled dot-product attention with causal and padding masks.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + mask) V

Masks are boolean "may attend" arrays; a masked score becomes the most negative float32
(as transformers does), never -inf, so a row where everything is masked gives uniform
weights instead of NaN.

    >>> import numpy as np
    >>> causal_mask(3, 3)
    array([[ True, False, False],
           [ True,  True, False],
           [ True,  True,  True]])
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..backend import get_array_module, kernel


def split_heads(x, n_head: int):
    """[batch, seq, n_head * head_dim] -> [batch, n_head, seq, head_dim]"""
    b, t, d = x.shape
    return x.reshape(b, t, n_head, d // n_head).transpose(0, 2, 1, 3)


def merge_heads(x):
    """[batch, n_head, seq, head_dim] -> [batch, seq, n_head * head_dim]"""
    b, h, t, hd = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, h * hd)


def causal_mask(n_query: int, n_key: int, xp=np):
    """[n_query, n_key] bool: query i (the last n_query of n_key positions) sees keys <= itself.

    With a KV cache of `past` tokens, n_key = past + n_query and query i sits at past + i.
    """
    past = n_key - n_query
    return xp.arange(n_key)[None, :] <= (xp.arange(n_query)[:, None] + past)


def padding_mask(attention_mask):
    """[batch, n_key] of 1 (token) / 0 (padding) -> [batch, 1, 1, n_key] bool, broadcast over
    heads and queries."""
    return attention_mask.astype(bool)[:, None, None, :]


def mask_value(dtype) -> float:
    """The large negative finite number added for masked scores (finfo(dtype).min)."""
    return np.finfo(dtype).min


def scaled_dot_product_attention(q, k, v, mask=None, scale: float | None = None,
                                 return_weights: bool = False):
    """q: [batch, heads, n_q, d]; k, v: [batch, heads, n_k, d]; mask: bool broadcastable to
    [batch, heads, n_q, n_k] (True = may attend).

    Returns (out [batch, heads, n_q, d], weights [batch, heads, n_q, n_k] or None).
    """
    d = q.shape[-1]
    scale = (1.0 / np.sqrt(d)) if scale is None else scale
    fused = kernel("attention", q, k, v, mask, scale) if not return_weights else None
    if fused is not None:  # a fused kernel (numba / cuda backend) with the same result
        return fused(q, k, v, mask, scale), None
    if scale != 1.0:
        q = q * q.dtype.type(scale)  # scaling q ([n_q, d]) is cheaper than scaling the scores
    scores = q @ k.swapaxes(-1, -2)  # [b, h, n_q, d] @ [b, h, d, n_k] -> [b, h, n_q, n_k]
    # masked scores count as finfo.min; [b, h, n_q, n_k], rows sum to 1
    weights = ops.softmax(scores, inplace=True, mask=mask)
    out = weights @ v  # [b, h, n_q, n_k] @ [b, h, n_k, d] -> [b, h, n_q, d]
    return out, (weights if return_weights else None)


def causal_attention(q, k, v, mask, scale: float | None = None, block: int = 128):
    """Causal attention one block of queries at a time: the queries of a block only see keys up
    to their own position, so the scores above the diagonal (about half of them for a long
    prompt) are never computed. Same result as `scaled_dot_product_attention(q, k, v, mask)`.

    q: [b, h, t, d]; k, v: [b, h, past + t, d]; mask: bool [..., t or 1, past + t] that already
    includes the causal part. Returns out [b, h, t, d].
    """
    t, past = q.shape[2], k.shape[2] - q.shape[2]
    if t <= block or not isinstance(q, np.ndarray):  # (on the GPU the fused kernel skips the triangle)
        return scaled_dot_product_attention(q, k, v, mask, scale)[0]
    scale = (1.0 / np.sqrt(q.shape[-1])) if scale is None else scale
    fused = kernel("attention", q, k, v, mask, scale)  # it skips the triangle by itself, in one call
    if fused is not None:
        return fused(q, k, v, mask, scale)
    out = None
    for start in range(0, t, block):
        end = min(start + block, t)
        n_k = past + end  # keys this block may see
        m = mask[..., start:end, :n_k] if mask.shape[-2] > 1 else mask[..., :n_k]
        o, _ = scaled_dot_product_attention(q[:, :, start:end], k[:, :, :n_k], v[:, :, :n_k], m, scale)
        if out is None:
            out = get_array_module(q).empty(q.shape, dtype=o.dtype)
        out[:, :, start:end] = o  # [b, h, block, d]
    # A query that may see nothing (a left-padding position) gets uniform weights over all
    # keys in the full computation, i.e. the mean of v; a block only had its own keys.
    dead = ~mask.any(axis=-1)  # [..., t]
    if dead.any():
        xp = get_array_module(q)
        out = xp.where(dead[..., None], v.mean(axis=2, keepdims=True), out)
    return out
