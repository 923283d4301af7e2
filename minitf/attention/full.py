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
    if scale != 1.0:
        q = q * q.dtype.type(scale)  # scaling q ([n_q, d]) is cheaper than scaling the scores
    scores = q @ k.swapaxes(-1, -2)  # [b, h, n_q, d] @ [b, h, d, n_k] -> [b, h, n_q, n_k]
    # masked scores count as finfo.min; [b, h, n_q, n_k], rows sum to 1
    weights = ops.softmax(scores, inplace=True, mask=mask)
    out = weights @ v  # [b, h, n_q, n_k] @ [b, h, n_k, d] -> [b, h, n_q, d]
    return out, (weights if return_weights else None)
