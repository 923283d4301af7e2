"""Chunked local attention, as in Reformer's "local" layers (and the chunk plumbing LSH reuses).

The sequence is cut into chunks of `chunk_length` tokens; the queries of a chunk see the keys of
their own chunk plus `num_chunks_before` chunks before it and `num_chunks_after` after it:

    t = 8, chunk_length = 2, num_chunks_before = 1, num_chunks_after = 0

    chunks:           [0 1] [2 3] [4 5] [6 7]
    keys of chunk 2:        [2 3] [4 5]           (its previous chunk, then itself)
    keys of chunk 0:  [6 7]! [0 1]                (the neighbours wrap around, as in the reference)

The neighbour lookup is *circular*, as transformers' `_look_adjacent` is: the first chunk's
"previous" chunk is the last one. In a causal model those keys lie in the future and the causal
mask removes them; in a bidirectional one the first chunk really does see the end of the
sequence. Cost: t x chunk_length x (1 + before + after) scores instead of t x t.

Scores are q . k / sqrt(head_dim) (the reference divides the keys), masked scores are set to
-1e9 (the reference's float32 constant) and the softmax is written with logsumexp:
p = exp(s - logsumexp(s)). A sequence no longer than one chunk falls back to full attention.

    >>> import numpy as np
    >>> q = k = v = np.ones((1, 1, 8, 4), np.float32)                 # [b, h, t, d]
    >>> out, w = local_attention(q, k, v, chunk_length=2, return_weights=True)
    >>> out.shape, w.shape                                             # w: [b, h, chunks, c, 2c]
    ((1, 1, 8, 4), (1, 1, 4, 2, 4))
    >>> dense = local_attention(q, k, v, chunk_length=2, return_weights="dense")[1]
    >>> dense[0, 0, 2].round(2)                                        # token 2 sees tokens 0..3
    array([0.25, 0.25, 0.25, 0.25, 0.  , 0.  , 0.  , 0.  ], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, to_numpy
from .masks import check_mask

MASK_VALUE = -1e9  # transformers' mask_value_float32 for Reformer (not finfo.min)


def split_chunks(x, chunk_length: int):
    """Cut axis 2 (the sequence) into chunks: [b, h, n, ...] -> [b, h, n // c, c, ...]."""
    b, h, n = x.shape[:3]
    return x.reshape((b, h, n // chunk_length, chunk_length) + x.shape[3:])


def look_adjacent(chunks, num_chunks_before: int, num_chunks_after: int):
    """Append each chunk's neighbours along the chunk-length axis, circularly.

    chunks: [b, h, n_chunks, c, ...] -> [b, h, n_chunks, c * (before + 1 + after), ...]
    The window of chunk i is chunks i - before, ..., i, ..., i + after (indices mod n_chunks),
    in that order.

        >>> x = np.arange(4).reshape(1, 1, 4, 1)          # 4 chunks of one element
        >>> look_adjacent(x, 1, 0)[0, 0].tolist()
        [[3, 0], [0, 1], [1, 2], [2, 3]]
    """
    if num_chunks_before == 0 and num_chunks_after == 0:
        return chunks
    xp = get_array_module(chunks)
    # roll by -i brings chunk j + i to slot j: the i-th neighbour of every chunk at once
    shifted = [xp.roll(chunks, -i, axis=2) for i in range(-num_chunks_before, num_chunks_after + 1)]
    return xp.concatenate(shifted, axis=3)  # [b, h, n_chunks, c * window, ...]


def logsumexp(x, axis: int = -1, keepdims: bool = True):
    """log(sum(exp(x))) along `axis`, shifted by the max so exp never overflows."""
    xp = get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    out = m + xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True))
    return out if keepdims else out.squeeze(axis)


def chunked_to_dense(weights, query_positions, key_positions, seq_len: int):
    """Scatter chunked attention weights into a dense [b, h, t, t] map (for plots and checks).

    weights: [b, h, n_chunks, c, w]; query_positions: [b, h, n_chunks, c] and key_positions:
    [b, h, n_chunks, w], the sequence positions of each query row and key column. A key that
    appears twice in a window (possible with wrap-around or several LSH rounds) adds up.
    """
    b, h = weights.shape[:2]
    xp = get_array_module(weights)
    w64 = to_numpy(weights).astype(np.float64)  # (a plotting helper: counted on the CPU)
    bh = np.arange(b * h).reshape(b, h, 1, 1, 1)  # which (batch, head) map
    q = to_numpy(query_positions)[..., :, None]  # [b, h, n, c, 1]
    k = to_numpy(key_positions)[..., None, :]  # [b, h, n, 1, w]
    flat = (bh * seq_len + q) * seq_len + k  # [b, h, n, c, w] index into [b*h*t*t]
    dense = np.bincount(np.broadcast_to(flat, w64.shape).ravel(), weights=w64.ravel(),
                        minlength=b * h * seq_len * seq_len)
    return xp.asarray(dense.reshape(b, h, seq_len, seq_len).astype(weights.dtype))  # [b, h, t, t]


def check_chunking(seq_len: int, chunk_length: int, num_chunks_before: int, num_chunks_after: int):
    """ValueErrors that name the argument, shared by local and LSH attention."""
    for name, value, low in (("chunk_length", chunk_length, 1), ("num_chunks_before", num_chunks_before, 0),
                             ("num_chunks_after", num_chunks_after, 0)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low} (got {value!r})")
    if seq_len > chunk_length and seq_len % chunk_length:
        raise ValueError(f"the sequence length {seq_len} is not a multiple of chunk_length="
                         f"{chunk_length}: pad the sequence (the Reformer models do this for you)")


def key_mask(attention_mask, b: int, t: int, xp=np):
    """attention_mask [b, t] of 1 (token) / 0 (padding) -> bool [b, t], or None."""
    return check_mask(attention_mask, (b, t), xp=xp)


def check_return_weights(return_weights):
    if return_weights not in (False, True, None, "dense"):
        raise ValueError(f"return_weights must be False, True or 'dense' (got {return_weights!r})")


def local_attention(query, key, value, chunk_length: int = 64, num_chunks_before: int = 1,
                    num_chunks_after: int = 0, attention_mask=None, causal: bool = False,
                    return_weights: bool | str = False):
    """Reformer's local self-attention: every chunk attends to itself and its neighbours.

    query, key, value: [b, h, t, d] (unscaled; the keys are divided by sqrt(d) here).
    attention_mask: [b, t] of 1 / 0 (padding keys are masked); causal: key position <= query's.
    t must be a multiple of chunk_length unless t <= chunk_length (then: full attention).

    Returns (out [b, h, t, d], weights) where weights is None, or with return_weights=True the
    reference's layout ([b, h, t // c, c, c * (before + 1 + after)] when chunked, [b, h, t, t]
    otherwise), or with return_weights="dense" a [b, h, t, t] map.
    """
    xp = get_array_module(query)
    b, h, t, d = query.shape
    check_chunking(t, chunk_length, num_chunks_before, num_chunks_after)
    check_return_weights(return_weights)
    mask = key_mask(attention_mask, b, t, xp)
    key = key / np.sqrt(d).astype(key.dtype)  # [b, h, t, d]: the reference scales the keys
    positions = xp.broadcast_to(xp.arange(t), (b, h, t))  # [b, h, t]
    chunked = t > chunk_length
    if chunked:
        q = split_chunks(query, chunk_length)  # [b, h, n, c, d]
        before, after = num_chunks_before, num_chunks_after
        k = look_adjacent(split_chunks(key, chunk_length), before, after)  # [b, h, n, w, d]
        v = look_adjacent(split_chunks(value, chunk_length), before, after)  # [b, h, n, w, d]
        q_pos = split_chunks(positions, chunk_length)  # [b, h, n, c]
        k_pos = look_adjacent(q_pos, num_chunks_before, num_chunks_after)  # [b, h, n, w]
    else:
        q, k, v, q_pos, k_pos = query, key, value, positions, positions  # one block: full attention

    scores = q @ xp.swapaxes(k, -1, -2)  # [b, h, (n,) c, w]
    allowed = None
    if mask is not None:
        km = mask[:, None, :]  # [b, 1, t]
        if chunked:  # [b, 1, n, w]: the mask of each window's keys
            km = look_adjacent(split_chunks(km, chunk_length), num_chunks_before, num_chunks_after)
        allowed = km[..., None, :]  # [b, 1, (n,) 1, w]
    if causal:
        later = q_pos[..., :, None] >= k_pos[..., None, :]  # [b, h, (n,) c, w]
        allowed = later if allowed is None else allowed & later
    if allowed is not None:
        scores = xp.where(allowed, scores, scores.dtype.type(MASK_VALUE))
    probs = xp.exp(scores - logsumexp(scores))  # [b, h, (n,) c, w] softmax over the window
    out = probs @ v  # [b, h, (n,) c, d]
    out = out.reshape(b, h, t, d)  # merge the chunks back into the sequence
    if not return_weights:
        return out, None
    if return_weights == "dense":
        if not chunked:
            return out, probs
        return out, chunked_to_dense(probs, q_pos, k_pos, t)
    return out, probs
