"""Local + global attention (Longformer, Beltagy et al. 2020) in O(n * window) memory.

Full attention scores every query against every key: an [n, n] matrix, 1 GB per head at
n = 16384 in float32. Longformer keeps two kinds of links instead:

- **local**: every token attends to the `w = window // 2` tokens on each side of it (and to
  itself): a band of width 2w + 1 around the diagonal;
- **global**: a few chosen tokens (the <s> of a classifier, the question of a QA model) attend
  to *every* token, and every token attends to them. A global token's own row uses separate
  projections (`query_global`, `key_global`, `value_global` in the checkpoint).

Worked example: n = 8 tokens, window = 4 (w = 2), token 0 global, token 7 padding:

                   keys 0  1  2  3  4  5  6  7
        query 0  (glob)  G  G  G  G  G  G  G  .    a global row sees every real key
        query 1          g  x  x  x  .  .  .  .    x: |i - j| <= w, inside the band
        query 3          g  x  x  x  x  x  .  .    g: the global column, seen by every row
        query 5          g  .  .  x  x  x  x  .    .: not attended (outside, or padding)
        query 7  (pad)   .  .  .  .  .  .  .  .    padding rows give zeros

Nothing of size [n, n] is ever made. The band is stored "diagonals as columns": row i of an
[n, 2w + 1] array holds keys i - w ... i + w, so column w is the token itself:

        band[i, j] = q_i . k_(i - w + j)        (keys outside 0..n-1 are masked)

It is computed a chunk of w queries at a time: queries c*w ... c*w + w - 1 only ever see the
3w keys from c*w - w to c*w + 2w - 1, so one [w, d] @ [d, 3w] matmul per chunk gives a
[w, 3w] block, and row r of that block needs columns r ... r + 2w of it (see `skew`).

The attention weights come out arranged as in transformers' Longformer:

    local weights  [batch, heads, n, x + 2w + 1]: the x global columns (global tokens in
                   position order, x = the most any sequence of the batch has; unused slots
                   weigh 0), then the band. Rows of global tokens and of padding are all 0.
    global weights [batch, heads, n, x]: column s is what global token s gives to every key.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((8, 4), dtype=np.float32) for _ in range(3))  # [n, d]
    >>> g = [1, 0, 0, 0, 0, 0, 0, 0]                  # token 0 is global
    >>> out, local, glob = sliding_window_attention(q, k, v, window=4, global_mask=g,
    ...                                              return_weights=True)
    >>> out.shape, local.shape, glob.shape     # x = 1 global column + a band of 2 * 2 + 1
    ((8, 4), (8, 6), (8, 1))
    >>> bool(np.allclose(local[1:].sum(-1), 1) and np.allclose(glob.sum(0), 1))
    True
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..backend import get_array_module
from .masks import check_mask


# -- the band: scores and weighted sums without an [n, n] matrix ------------------------------------
def check_window(window) -> int:
    """The one-sided width w = window // 2 of an even, positive `window` (ValueError otherwise)."""
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise ValueError(f"window (attention_window) must be an even positive int, got {window!r}")
    if window <= 0:
        raise ValueError(f"window (attention_window) must be positive, got {window}")
    if window % 2:
        raise ValueError(f"window (attention_window) must be even (w = window // 2 tokens on each "
                         f"side), got {window}")
    return int(window) // 2


def chunk_windows(x, w: int, n_chunks: int):
    """The keys (or values) each chunk of w queries can reach, as an overlapping view.

    [..., n, d] -> [..., n_chunks, 3w, d]: block c holds rows c*w - w ... c*w + 2w - 1 of x,
    with zero rows standing in for positions before 0 or after n - 1 (the callers mask them).
    Consecutive blocks share 2w rows, so they are a strided view of one padded copy of x.
    """
    xp = get_array_module(x)
    n = x.shape[-2]
    pad = [(0, 0)] * (x.ndim - 2) + [(w, w + n_chunks * w - n), (0, 0)]
    padded = xp.pad(x, pad)  # [..., w + n_chunks*w + w, d]
    windows = xp.lib.stride_tricks.sliding_window_view(padded, 3 * w, axis=-2)  # [..., L-3w+1, d, 3w]
    return windows[..., ::w, :, :].swapaxes(-1, -2)  # every w-th start: [..., n_chunks, 3w, d]


def skew(blocks, w: int):
    """Row r of each [w, 3w] block keeps columns r ... r + 2w: [..., w, 3w] -> [..., w, 2w + 1].

    Read as one flat row, the block puts (r, c) at r*3w + c; the wanted (r, r + j) sits at
    r*(3w + 1) + j. So flatten, add w zeros so the length is w*(3w + 1), read it back as
    [w, 3w + 1] rows and keep the first 2w + 1 columns. With w = 1:

        [[a b c]  -> a b c d e f 0 -> [[a b c d]  -> [[a b c]
         [d e f]]                      [e f 0 .]]     [e f 0]]    (row 1: cols 1..3 = e f _)
    """
    xp = get_array_module(blocks)
    lead = blocks.shape[:-2]
    flat = blocks.reshape(*lead, w * 3 * w)  # [..., 3w^2]
    flat = xp.concatenate([flat, xp.zeros((*lead, w), blocks.dtype)], axis=-1)  # [..., w(3w+1)]
    return flat.reshape(*lead, w, 3 * w + 1)[..., :2 * w + 1]  # [..., w, 2w+1]


def unskew(band, w: int):
    """The inverse of `skew`: [..., w, 2w + 1] -> [..., w, 3w] with band[r, j] at column r + j
    and zeros elsewhere (so a matmul with the 3w values of the chunk gives the band's sum)."""
    xp = get_array_module(band)
    lead = band.shape[:-2]
    rows = xp.zeros((*lead, w, 3 * w + 1), band.dtype)  # [..., w, 3w+1]
    rows[..., :2 * w + 1] = band
    flat = rows.reshape(*lead, w * (3 * w + 1))[..., :3 * w * w]  # drop the w trailing zeros
    return flat.reshape(*lead, w, 3 * w)  # [..., w, 3w]


def band_scores(q, k, w: int):
    """q, k: [..., n, d] -> scores [..., n, 2w + 1] with scores[..., i, j] = q_i . k_(i - w + j).

    Entries whose key falls outside 0..n-1 are 0 here; `band_mask` says which ones are real.
    Memory: the chunks' [w, 3w] blocks, 1.5x the band, never [n, n].
    """
    xp = get_array_module(q)
    n, d = q.shape[-2:]
    n_chunks = -(-n // w)  # ceil: the last chunk is padded with zero queries
    pad = [(0, 0)] * (q.ndim - 2) + [(0, n_chunks * w - n), (0, 0)]
    q_chunks = xp.pad(q, pad).reshape(*q.shape[:-2], n_chunks, w, d)  # [..., C, w, d]
    k_chunks = chunk_windows(k, w, n_chunks)  # [..., C, 3w, d]
    blocks = q_chunks @ k_chunks.swapaxes(-1, -2)  # [..., C, w, d] @ [..., C, d, 3w] -> [..., C, w, 3w]
    band = skew(blocks, w)  # [..., C, w, 2w+1]
    return band.reshape(*q.shape[:-2], n_chunks * w, 2 * w + 1)[..., :n, :]  # [..., n, 2w+1]


def band_matmul(weights, v, w: int):
    """weights: [..., n, 2w + 1] (band layout), v: [..., n, d] -> [..., n, d] with
    out_i = sum_j weights[i, j] v_(i - w + j): the band's half of `weights @ v`."""
    xp = get_array_module(v)
    n, d = v.shape[-2:]
    n_chunks = -(-n // w)
    pad = [(0, 0)] * (weights.ndim - 2) + [(0, n_chunks * w - n), (0, 0)]
    w_chunks = xp.pad(weights, pad).reshape(*weights.shape[:-2], n_chunks, w, 2 * w + 1)  # [.., C, w, 2w+1]
    blocks = unskew(w_chunks, w)  # [..., C, w, 3w]
    out = blocks @ chunk_windows(v, w, n_chunks)  # [..., C, w, 3w] @ [..., C, 3w, d] -> [..., C, w, d]
    return out.reshape(*v.shape[:-2], n_chunks * w, d)[..., :n, :]  # [..., n, d]


def band_mask(key_ok, w: int):
    """key_ok: [..., n] bool (may this key be attended locally?) -> [..., n, 2w + 1] bool:
    entry (i, j) is key_ok[i - w + j], and False where i - w + j is outside 0..n-1."""
    xp = get_array_module(key_ok)
    pad = [(0, 0)] * (key_ok.ndim - 1) + [(w, w)]
    padded = xp.pad(key_ok, pad, constant_values=False)  # [..., w + n + w]
    return xp.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1, axis=-1)  # [..., n, 2w+1]


# -- global tokens --------------------------------------------------------------------------------
def global_positions(is_global):
    """is_global: [b, n] bool -> (positions [b, x], slot_ok [b, x]) with x = the largest number of
    global tokens in a row. positions[r, s] is the s-th global token of row r (in order);
    slots past a row's count have slot_ok False (and position 0, never used unmasked).

        >>> p, ok = global_positions(np.array([[1, 0, 0, 1], [0, 1, 0, 0]], bool))
        >>> p.tolist(), ok.tolist()
        ([[0, 3], [1, 0]], [[True, True], [True, False]])
    """
    xp = get_array_module(is_global)
    counts = is_global.sum(axis=1)  # [b]
    x = int(counts.max()) if counts.size else 0
    rank = xp.cumsum(is_global, axis=1) - 1  # [b, n]: the slot of each global token
    rows, cols = xp.nonzero(is_global)
    positions = xp.zeros((is_global.shape[0], x), dtype=np.int64)  # [b, x]
    positions[rows, rank[rows, cols]] = cols
    slot_ok = xp.arange(x)[None, :] < counts[:, None]  # [b, x]
    return positions, slot_ok


def _gather(x, positions):
    """x: [b, h, n, d], positions: [b, x] -> [b, h, x, d] (the rows of the global tokens)."""
    xp = get_array_module(x)
    return xp.take_along_axis(x, positions[:, None, :, None], axis=2)


# -- the attention ---------------------------------------------------------------------------------
def sliding_window_attention(q, k, v, window, global_mask=None, padding_mask=None, *,
                             global_qkv=None, scale=None, return_weights=False):
    """Longformer attention: a sliding window of `window` + global tokens, O(n * window) memory.

    q, k, v: [n, d], [heads, n, d] or [batch, heads, n, d] (the same shape for the three).
    window: even, > 0; token i attends keys i - window//2 ... i + window//2 (a window as long as
        the sequence gives full attention).
    global_mask: [n] or [batch, n], 1 (or True) for tokens with global attention: they attend to
        every token and every token attends to them. None: no global tokens.
    padding_mask: [n] or [batch, n], 1 for real tokens and 0 for padding (an `attention_mask`).
        Padding is never attended, and padding queries give zero outputs and weights.
    global_qkv: (q_global, k_global, v_global), each shaped like q: the separate projections a
        global row uses (Longformer's query_global / key_global / value_global); by default
        q, k, v themselves.
    scale: multiplies the scores; default 1 / sqrt(d) (q is divided by sqrt(d), as transformers does).
    return_weights: also return the weights in transformers' layout (see the module docstring).

    Returns out (q's shape), or (out, local_weights [..., n, x + window + 1], global_weights
    [..., n, x] or None when there are no global tokens) with q's leading dimensions.
    """
    xp = get_array_module(q)
    w = check_window(window)
    lead = q.shape[:-2]
    q, k, v = (_as_4d(a, name) for a, name in ((q, "q"), (k, "k"), (v, "v")))
    if not (q.shape == k.shape == v.shape):
        raise ValueError(f"q, k and v must have the same shape; got {tuple(q.shape)}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")
    b, h, n, d = q.shape
    real = _token_mask(padding_mask, b, n, "padding_mask", default=True, xp=xp)  # [b, n] True = token
    is_global = _token_mask(global_mask, b, n, "global_mask", default=False, xp=xp) & real  # [b, n]

    def scaled(a):  # [b, h, n, d]: transformers divides q by sqrt(d) before the products
        return a / a.dtype.type(np.sqrt(d)) if scale is None else a * a.dtype.type(scale)

    q = scaled(q)
    if global_qkv is None:
        q_glob, k_glob, v_glob = q, k, v
    else:
        if len(global_qkv) != 3:
            raise ValueError("global_qkv must be a tuple (q_global, k_global, v_global)")
        q_glob, k_glob, v_glob = (_as_4d(a, "global_qkv") for a in global_qkv)
        if not (q_glob.shape == k_glob.shape == v_glob.shape == q.shape):
            raise ValueError(f"every array of global_qkv must have q's shape {tuple(q.shape)}")
        q_glob = scaled(q_glob)

    # 1. Local rows: each query against its band, plus every global token's (local) key.
    scores = band_scores(q, k, w)  # [b, h, n, 2w+1]
    # A global key is left out of the band: it has its own column, and is counted once.
    may_attend = band_mask(real & ~is_global, w)[:, None]  # [b, 1, n, 2w+1]
    positions, slot_ok = global_positions(is_global)  # [b, x], [b, x]
    x = positions.shape[1]
    if x:
        # [b, h, n, d] @ [b, h, d, x] -> [b, h, n, x]
        global_cols = q @ _gather(k, positions).swapaxes(-1, -2)
        scores = xp.concatenate([global_cols, scores], axis=-1)  # [b, h, n, x + 2w+1]
        slots = xp.broadcast_to(slot_ok[:, None, None, :], (b, 1, n, x))  # unused slots weigh 0
        may_attend = xp.concatenate([slots, may_attend], axis=-1)  # [b, 1, n, x + 2w+1]
    weights = ops.softmax(scores, inplace=True, mask=may_attend)  # [b, h, n, x + 2w+1]
    # Padding rows give 0 (as transformers); a global row's local weights are unused: 0 too.
    weights *= (real & ~is_global)[:, None, :, None].astype(weights.dtype)
    out = band_matmul(weights[..., x:], v, w)  # [b, h, n, d]
    if x:
        out += weights[..., :x] @ _gather(v, positions)  # [b, h, n, x] @ [b, h, x, d]

    # 2. Global rows: each global token against every key, with the global projections.
    global_weights = None
    if x:
        # [b, h, x, d] @ [b, h, d, n] -> [b, h, x, n]
        g_scores = _gather(q_glob, positions) @ k_glob.swapaxes(-1, -2)
        # Unused slots see nothing, hence uniform weights (as transformers returns them).
        g_mask = slot_ok[:, None, :, None] & real[:, None, None, :]  # [b, 1, x, n]
        g_weights = ops.softmax(g_scores, inplace=True, mask=g_mask)  # [b, h, x, n]
        g_out = g_weights @ v_glob  # [b, h, x, n] @ [b, h, n, d] -> [b, h, x, d]
        rows, slot = xp.nonzero(slot_ok)  # every (batch row, slot) that holds a global token
        out[rows, :, positions[rows, slot]] = g_out[rows, :, slot]  # [K, h, d]: replace those rows
        global_weights = g_weights.swapaxes(-1, -2)  # [b, h, n, x]

    out = out.reshape(*lead, n, d)
    if not return_weights:
        return out
    weights = weights.reshape(*lead, n, weights.shape[-1])
    if global_weights is not None:
        global_weights = global_weights.reshape(*lead, n, x)
    return out, weights, global_weights


# -- dense pictures (O(n^2): for plots, notebooks and tests, not for long inputs) --------------------
def local_global_mask(n: int, window, global_mask=None, padding_mask=None):
    """The dense "may attend" mask [batch, n, n] that `sliding_window_attention` implements
    (True where query i attends key j); padding rows are all False.

        >>> local_global_mask(4, 2).astype(int)[0]
        array([[1, 1, 0, 0],
               [1, 1, 1, 0],
               [0, 1, 1, 1],
               [0, 0, 1, 1]])
    """
    w = check_window(window)
    b = _batch_of(global_mask, padding_mask)
    real = _token_mask(padding_mask, b, n, "padding_mask", default=True, xp=np)  # [b, n]
    is_global = _token_mask(global_mask, b, n, "global_mask", default=False, xp=np) & real
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    band = np.abs(i - j) <= w  # [n, n]
    links = band[None] | is_global[:, None, :] | is_global[:, :, None]  # [b, n, n]
    return links & real[:, :, None] & real[:, None, :]


def dense_attention_weights(local_weights, global_weights, window, global_mask=None,
                            padding_mask=None):
    """Spread the weights of `sliding_window_attention(..., return_weights=True)` into the
    dense [..., n, n] matrix (row i: what query i gives to each key), e.g. to plot a head."""
    w = check_window(window)
    lw = _as_4d(np.asarray(local_weights), "local_weights")  # [b, h, n, x + 2w+1]
    b, h, n, width = lw.shape
    real = _token_mask(padding_mask, b, n, "padding_mask", default=True, xp=np)
    is_global = _token_mask(global_mask, b, n, "global_mask", default=False, xp=np) & real
    positions, slot_ok = global_positions(is_global)
    x = positions.shape[1]
    if width != x + 2 * w + 1:
        raise ValueError(f"local_weights has {width} columns; window={window} and {x} global "
                         f"tokens need {x + 2 * w + 1}")
    dense = np.zeros((b, h, n, n), lw.dtype)
    i = np.arange(n)[:, None]
    keys = i - w + np.arange(2 * w + 1)[None, :]  # [n, 2w+1]: the key of each band column
    inside = (keys >= 0) & (keys < n)
    rows, cols = np.nonzero(inside)
    dense[:, :, rows, keys[rows, cols]] = lw[:, :, rows, x + cols]
    if x:
        gw = _as_4d(np.asarray(global_weights), "global_weights")  # [b, h, n, x]
        for r, s in zip(*np.nonzero(slot_ok)):  # global token s of row r:
            p = positions[r, s]
            dense[r, :, :, p] += lw[r, :, :, s]  # its column, seen by every local row
            dense[r, :, p, :] = gw[r, :, :, s]  # its own row, over every key
    return dense.reshape(*np.shape(local_weights)[:-2], n, n)


# -- argument handling -------------------------------------------------------------------------------
def _as_4d(a, name):
    """[n, d] -> [1, 1, n, d]; [h, n, d] -> [1, h, n, d]; [b, h, n, d] stays."""
    if a.ndim == 2:
        return a[None, None]
    if a.ndim == 3:
        return a[None]
    if a.ndim == 4:
        return a
    raise ValueError(f"{name} must have shape [n, d], [heads, n, d] or [batch, heads, n, d]; "
                     f"got {tuple(a.shape)}")


def _batch_of(*masks) -> int:
    for m in masks:
        if m is not None and np.ndim(m) == 2:
            return np.shape(m)[0]
    return 1


def _token_mask(mask, b: int, n: int, name: str, default: bool, xp):
    """A [n] or [b, n] mask of 0/1 (or bool) -> [b, n] bool; None -> all `default`."""
    if mask is None:
        return xp.full((b, n), default, dtype=bool)
    mask = check_mask(mask, (b, n), name, also=((n,),), against="the keys",
                      layout="(batch, n)", xp=xp)
    return xp.broadcast_to(mask.reshape(-1, n), (b, n)).copy()  # [b, n]
