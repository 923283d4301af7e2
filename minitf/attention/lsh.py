"""LSH attention (Kitaev, Kaiser & Levskaya 2020, "Reformer"), step by step as transformers does it.

Full attention compares every query with every key: t x t scores. LSH attention only compares
vectors that are probably close, found by hashing:

1. **Shared query/key.** One projection gives `qk` [b, h, t, d]; it is the query, and the key is
   the same vector normalised (`normalize_keys`: unit root-mean-square, then / sqrt(d)).
2. **Hash** (`hash_vectors`). A random rotation R [d, nb/2] per round maps x to x.R; the bucket
   is argmax([x.R, -x.R]), one of nb buckets: vectors pointing the same way share a bucket.
   With a factor pair [b1, b2] R has b1/2 + b2/2 columns, hashed separately into b1 x b2
   buckets (bucket = i1 + b1 * i2). Padding tokens go to an extra bucket nb.
3. **Sort** (`sort_by_bucket`) each of the `num_hashes` rounds by (bucket, position), stably.
4. **Chunk** the sorted sequence (all rounds one after the other) into chunks of `chunk_length`;
   each chunk attends to itself and `num_chunks_before` / `num_chunks_after` neighbouring
   chunks (circularly, see `local.look_adjacent`), so similar vectors meet in a window.
5. **Mask**: padding keys and (causal) later keys get -1e9; a token's own key gets -1e5, so a
   token attends to itself only when nothing else is there (with a shared q = k, x.x would
   otherwise win almost always). Those are the reference's float32 constants, in that order.
   (Causal LSH never attends to a later key, but later tokens still move the buckets, so
   which earlier keys a query meets can change when the future changes.)
6. **Undo the sort** and combine the rounds: each round r gives out_r and the log of its
   softmax normaliser lse_r; out = sum_r softmax_r(lse) out_r (a round that found more
   similar keys weighs more).

A sequence no longer than one chunk skips hashing: plain shared-QK attention with the masks.

Worked example - hashing 4 two-dimensional tokens with the identity as rotation (4 buckets):

    >>> import numpy as np
    >>> x = np.array([[[[1, 0], [0, 1], [-1, 0], [0, -1]]]], np.float32)  # [b=1, h=1, t=4, d=2]
    >>> R = np.eye(2, dtype=np.float32)[None, :, None, :]                # [h=1, d=2, hashes=1, 2]
    >>> hash_vectors(x, 4, R)[0, 0, 0].tolist()                          # argmax([x.R, -x.R])
    [0, 1, 2, 3]

and a whole attention call, with the rotations fixed so the result is reproducible:

    >>> rng = np.random.default_rng(0)
    >>> qk, v = rng.normal(size=(2, 1, 2, 16, 8)).astype(np.float32)     # [b, h, t, d] each
    >>> R = draw_rotations(num_heads=2, head_dim=8, num_hashes=2, num_buckets=4, seed=0)
    >>> R.shape                                                          # [h, d, hashes, nb/2]
    (2, 8, 2, 2)
    >>> out, w = lsh_attention(qk, v, num_buckets=4, num_hashes=2, chunk_length=4,
    ...                        rotations=R, return_weights=True)
    >>> out.shape, w.shape          # w: [b, h, hashes * t / c, c, c * (1 + before + after)]
    ((1, 2, 16, 8), (1, 2, 8, 4, 8))
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from .local import (MASK_VALUE, check_chunking, check_return_weights, chunked_to_dense, key_mask,
                    logsumexp, look_adjacent, split_chunks)

SELF_MASK_VALUE = -1e5  # transformers' self_mask_value_float32: above MASK_VALUE (-1e9) on purpose


def bucket_count(num_buckets) -> tuple[int, int]:
    """(rotation columns x 2, number of buckets) for `num_buckets` = nb or a factor list [b1, b2].

        >>> bucket_count(8), bucket_count([4, 8])
        ((8, 8), (12, 32))
    """
    factors = [num_buckets] if isinstance(num_buckets, (int, np.integer)) else num_buckets
    if isinstance(num_buckets, bool) or not isinstance(factors, (list, tuple)) or not factors:
        raise ValueError(f"num_buckets must be an even int or a list of even ints such as [4, 8] "
                         f"(got {num_buckets!r})")
    for f in factors:
        if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 2 or f % 2:
            raise ValueError(f"num_buckets must be even (each bucket has a mirror bucket: "
                             f"argmax over [x.R, -x.R]); got {num_buckets!r}")
    return int(sum(factors)), int(np.prod(factors))


def rotation_shape(num_heads: int, head_dim: int, num_hashes: int, num_buckets) -> tuple:
    """The shape of the random rotations: [heads, head_dim, num_hashes, rotation_size // 2],
    where rotation_size is num_buckets (an int) or b1 + b2 (a factor pair)."""
    return (num_heads, head_dim, num_hashes, bucket_count(num_buckets)[0] // 2)


def draw_rotations(num_heads: int, head_dim: int, num_hashes: int, num_buckets, seed: int = 0):
    """Standard-normal rotations [heads, head_dim, num_hashes, rotation_size // 2], float32,
    from numpy's generator seeded with `seed` (not torch's: inject the reference's rotations
    to reproduce transformers' numbers)."""
    shape = rotation_shape(num_heads, head_dim, num_hashes, num_buckets)
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def check_rotations(rotations, expected_shape, name: str = "rotations"):
    shape = tuple(getattr(rotations, "shape", ()))
    if shape != tuple(expected_shape):
        raise ValueError(f"{name} has shape {shape}, but this layer needs (heads, head_dim, num_hashes, "
                         f"rotation_size // 2) = {tuple(expected_shape)}")


def default_num_buckets(seq_len: int, chunk_length: int, max_position_embeddings: int | None = None):
    """The reference's choice when num_buckets is None: about 2 * seq_len / chunk_length, rounded
    down to a power of two, and factorised into a pair when it exceeds
    2 * max(sqrt(max_position_embeddings / chunk_length), chunk_length).

        >>> default_num_buckets(256, 64, 4096), default_num_buckets(4096, 2, 4096)
        (8, [64, 64])
    """
    max_pos = seq_len if max_position_embeddings is None else max_position_embeddings
    power = (2 * (seq_len // chunk_length)).bit_length() - 1
    n = 2 ** power
    limit = 2 * max(int((max_pos // chunk_length) ** 0.5), chunk_length)
    if n > limit:
        return [2 ** (power // 2), 2 ** (power - power // 2)]
    return n


def hash_vectors(vectors, num_buckets, rotations, attention_mask=None):
    """Angular LSH: vectors [b, h, t, d], rotations [h, d, num_hashes, rotation_size // 2]
    -> buckets [b, h, num_hashes, t] (int64) in 0 .. n_buckets - 1, and n_buckets for padding
    tokens (attention_mask [b, t] == 0) when there are any."""
    xp = get_array_module(vectors)
    rotation_size, n_buckets = bucket_count(num_buckets)
    # [b, h, 1, t, d] @ [1, h, hashes, d, r] -> [b, h, hashes, t, r]
    rotated = vectors[:, :, None] @ xp.asarray(rotations).transpose(0, 2, 1, 3)[None]
    factors = [num_buckets] if isinstance(num_buckets, (int, np.integer)) else list(num_buckets)
    buckets, start, stride = 0, 0, 1
    for f in factors:  # one int: a single factor
        part = rotated[..., start:start + f // 2]  # [b, h, hashes, t, f/2]
        # the nearest of f directions +-R_i: argmax over [x.R, -x.R]
        index = xp.argmax(xp.concatenate([part, -part], axis=-1), axis=-1)  # [b, h, hashes, t]
        buckets = buckets + stride * index
        start, stride = start + f // 2, stride * f
    if attention_mask is not None:
        mask = xp.asarray(attention_mask).astype(bool)  # [b, t]
        if not mask.all():  # padding gets a bucket of its own, after the real ones
            buckets = xp.where(mask[:, None, None, :], buckets, n_buckets)
    return buckets.astype(np.int64)


def sort_by_bucket(buckets):
    """Order each hashing round by (bucket, position), the rounds one after the other.

    buckets [b, h, num_hashes, t] -> (order, undo), both [b, h, num_hashes * t]: order[j] is the
    (round * t + position) index of the j-th vector in sorted order, and undo is its inverse
    permutation (sorted[undo] is back in round-major, position order).

        >>> order, undo = sort_by_bucket(np.array([[[[1, 0, 1, 0], [0, 0, 1, 1]]]]))
        >>> order[0, 0].tolist()                  # round 0: positions 1, 3, 0, 2; round 1 after
        [1, 3, 0, 2, 4, 5, 6, 7]
    """
    xp = get_array_module(buckets)
    b, h, n_hashes, t = buckets.shape
    positions = xp.argsort(buckets, axis=-1, kind="stable")  # [b, h, hashes, t], ties by position
    rounds = xp.arange(n_hashes)[:, None] * t  # [hashes, 1]: round r starts at r * t
    order = (positions + rounds).reshape(b, h, n_hashes * t)  # [b, h, hashes * t]
    undo = xp.argsort(order, axis=-1)  # the inverse of a permutation is its argsort
    return order, undo


def normalize_keys(x, eps: float = 1e-6):
    """Reformer's keys from the shared query/key vectors: x / rms(x) / sqrt(d); [..., d] -> [..., d]."""
    xp = get_array_module(x)
    variance = (x * x).mean(axis=-1, keepdims=True)  # [..., 1]
    x = x * (1.0 / xp.sqrt(variance + x.dtype.type(eps)))  # unit root-mean-square length
    return x / np.sqrt(x.shape[-1]).astype(x.dtype)


def _mask_scores(scores, q_pos, k_pos, key_allowed, causal: bool):
    """Padding / causal masks (-1e9), then the self mask (-1e5), in the reference's order.
    scores [..., c, w]; q_pos [..., c]; k_pos [..., w]; key_allowed bool [..., w] or None."""
    xp = get_array_module(scores)
    allowed = None if key_allowed is None else key_allowed[..., None, :]  # [..., 1, w]
    if causal:
        later = q_pos[..., :, None] >= k_pos[..., None, :]  # [..., c, w]
        allowed = later if allowed is None else allowed & later
    if allowed is not None:
        scores = xp.where(allowed, scores, scores.dtype.type(MASK_VALUE))
    itself = q_pos[..., :, None] == k_pos[..., None, :]  # [..., c, w]: a query facing its own key
    return xp.where(itself, scores.dtype.type(SELF_MASK_VALUE), scores)


def lsh_attention(query_key, value, num_buckets, num_hashes: int = 1, chunk_length: int = 64,
                  num_chunks_before: int = 1, num_chunks_after: int = 0, attention_mask=None,
                  causal: bool = False, rotations=None, seed: int = 0,
                  return_weights: bool | str = False):
    """Reformer's LSH self-attention (see the module docstring for the steps).

    query_key, value: [b, h, t, d]; num_buckets: an even int, a factor list [b1, b2], or None
    (chosen from t as the reference does); attention_mask: [b, t] of 1 / 0; causal: a query only
    sees earlier positions. rotations: [h, d, num_hashes, rotation_size // 2] (see
    `rotation_shape`); omitted, they are drawn with `draw_rotations(..., seed=seed)`.
    t must be a multiple of chunk_length unless t <= chunk_length (then: no hashing).

    Returns (out [b, h, t, d], weights): weights is None, or with return_weights=True the
    reference's layout ([b, h, num_hashes * t // c, c, c * (before + 1 + after)] in sorted
    order when chunked, [b, h, t, t] otherwise), or with return_weights="dense" a [b, h, t, t]
    map: every round's weights scaled by that round's share, summed at the key positions.
    """
    xp = get_array_module(query_key)
    b, h, t, d = query_key.shape
    check_chunking(t, chunk_length, num_chunks_before, num_chunks_after)
    check_return_weights(return_weights)
    if not isinstance(num_hashes, (int, np.integer)) or isinstance(num_hashes, bool) or num_hashes < 1:
        raise ValueError(f"num_hashes must be an integer >= 1 (got {num_hashes!r})")
    if num_buckets is None and t > chunk_length:
        num_buckets = default_num_buckets(t, chunk_length)
    if num_buckets is not None:
        bucket_count(num_buckets)  # a ValueError naming num_buckets when it is not even
        if rotations is not None:
            check_rotations(rotations, rotation_shape(h, d, num_hashes, num_buckets))
    mask = key_mask(attention_mask, b, t, xp)  # [b, t] bool or None
    keys = normalize_keys(query_key)  # [b, h, t, d]

    if t <= chunk_length:  # one chunk holds everything: shared-QK attention, no hashing
        scores = query_key @ xp.swapaxes(keys, -1, -2)  # [b, h, t, t]
        pos = xp.arange(t)
        scores = _mask_scores(scores, pos, pos, None if mask is None else mask[:, None, :], causal)
        probs = xp.exp(scores - logsumexp(scores))  # [b, h, t, t]
        return probs @ value, (probs if return_weights else None)  # [b, h, t, d]

    if rotations is None:
        rotations = draw_rotations(h, d, num_hashes, num_buckets, seed)
    buckets = hash_vectors(query_key, num_buckets, rotations, mask)  # [b, h, hashes, t]
    order, undo = sort_by_bucket(buckets)  # [b, h, hashes * t] each
    positions = order % t  # [b, h, hashes * t]: the sequence position of each sorted slot
    gather = positions[..., None]  # [b, h, hashes * t, 1]
    q = split_chunks(xp.take_along_axis(query_key, gather, axis=2), chunk_length)  # [b, h, n, c, d]
    k = split_chunks(xp.take_along_axis(keys, gather, axis=2), chunk_length)  # [b, h, n, c, d]
    v = split_chunks(xp.take_along_axis(value, gather, axis=2), chunk_length)  # [b, h, n, c, d]
    k = look_adjacent(k, num_chunks_before, num_chunks_after)  # [b, h, n, w, d]
    v = look_adjacent(v, num_chunks_before, num_chunks_after)  # [b, h, n, w, d]
    q_pos = split_chunks(positions, chunk_length)  # [b, h, n, c]
    k_pos = look_adjacent(q_pos, num_chunks_before, num_chunks_after)  # [b, h, n, w]

    scores = q @ xp.swapaxes(k, -1, -2)  # [b, h, n, c, w]
    key_allowed = None if mask is None else mask[xp.arange(b)[:, None, None, None], k_pos]  # [b, h, n, w]
    scores = _mask_scores(scores, q_pos, k_pos, key_allowed, causal)
    lse = logsumexp(scores)  # [b, h, n, c, 1]: log of each query's softmax normaliser
    probs = xp.exp(scores - lse)  # [b, h, n, c, w]
    out = (probs @ v).reshape(b, h, num_hashes * t, d)  # [b, h, hashes * t, d] sorted
    lse = lse.reshape(b, h, num_hashes * t)  # [b, h, hashes * t] sorted

    # undo the sort: back to [round, position] order
    out = xp.take_along_axis(out, undo[..., None], axis=2).reshape(b, h, num_hashes, t, d)
    lse = xp.take_along_axis(lse, undo, axis=2).reshape(b, h, num_hashes, t)
    share = xp.exp(lse - logsumexp(lse, axis=2))  # [b, h, hashes, t]: each round's weight
    if num_hashes > 1:
        combined = (out * share[..., None]).sum(axis=2)  # [b, h, t, d]
    else:
        combined = out[:, :, 0]  # [b, h, t, d]: one round, nothing to weigh
    if not return_weights:
        return combined, None
    if return_weights == "dense":
        share_sorted = xp.take_along_axis(share.reshape(b, h, -1), order, axis=2)  # [b, h, hashes * t]
        scaled = probs * split_chunks(share_sorted, chunk_length)[..., None]  # [b, h, n, c, w]
        return combined, chunked_to_dense(scaled, q_pos, k_pos, t)
    return combined, probs
