"""Numba kernels for the CPU backend (installed as `minitf.kernels.cpu`).

Each kernel fuses an element-wise op that NumPy runs as several passes over memory, each
making a temporary array: layer norm is 6 NumPy passes, tanh-GELU 7. Here one parallel
loop reads each row once (kept in cache) and writes the result once. The NumPy versions in
`minitf/ops.py` stay the reference; `tests/test_kernels_cpu.py` checks these against them.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from minitf.backend import register

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)


def _rows(x):
    """View x as [rows, d] (contiguous) so one kernel serves any leading shape."""
    x = np.ascontiguousarray(x)
    return x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)


@numba.njit(fastmath=False, cache=True)
def _layer_norm_rows(x, w, b, eps, out):
    n, d = x.shape
    for i in range(n):
        mean = 0.0
        for j in range(d):
            mean += x[i, j]
        mean /= d
        var = 0.0
        for j in range(d):
            c = x[i, j] - mean
            var += c * c
        inv = 1.0 / math.sqrt(var / d + eps)
        for j in range(d):
            out[i, j] = (x[i, j] - mean) * inv * w[j] + b[j]


@register("numba", "layer_norm")
def layer_norm(x, weight, bias, eps=1e-5):
    """[..., d] -> [..., d]; accumulates in float64 for a stable mean/variance."""
    rows = _rows(x)
    out = np.empty_like(rows)
    _layer_norm_rows(rows, weight.astype(x.dtype, copy=False), bias.astype(x.dtype, copy=False),
                     eps, out)
    return out.reshape(x.shape)


# tanh(u) ~= u * P(u^2) / Q(u^2) on [-9, 9] (|tanh| rounds to 1 in float32 beyond): a rational
# fit made for minitf by least squares (max error 3e-7 in float32, the size of float32
# rounding near 1). Unlike libm's tanh it is only multiplies, adds and one divide, so LLVM
# vectorises the loop (8 floats per AVX2 instruction). error_model="numpy" drops the
# divide-by-zero check that would otherwise keep the loop scalar.
_f32 = np.float32
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = (_f32(c) for c in (
    1.0, 0.13085077702999115, 0.0031052541453391314, 1.1170772268087603e-05,
    -2.0309254722405967e-08, 5.3275595740531756e-11, -8.638514301670744e-14))
_Q0, _Q1, _Q2, _Q3 = (_f32(c) for c in (
    1.0, 0.4641839861869812, 0.024500058963894844, 0.000254820566624403))


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def _gelu_new_flat32(x, out):
    c, k, half, one = _f32(_SQRT_2_OVER_PI), _f32(0.044715), _f32(0.5), _f32(1.0)
    lo, hi = _f32(-9.0), _f32(9.0)
    for i in range(x.size):
        v = x[i]
        w = c * (v + k * v * v * v)
        u = min(max(w, lo), hi)
        z = u * u
        p = (((((_P6 * z + _P5) * z + _P4) * z + _P3) * z + _P2) * z + _P1) * z + _P0
        q = ((_Q3 * z + _Q2) * z + _Q1) * z + _Q0
        t = u * p / q
        t = one if w >= hi else t  # beyond +-9 tanh is exactly +-1 in float32
        t = -one if w <= lo else t
        out[i] = half * v * (one + t)  # 0.5 v (1 + tanh(w))


@numba.njit(fastmath=True, cache=True)
def _gelu_new_flat64(x, out):
    for i in range(x.size):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))


@register("numba", "gelu_new")
def gelu_new(x):
    """tanh-GELU, [...] -> [...] (float32: vectorised rational tanh; float64: libm tanh)"""
    flat = np.ascontiguousarray(x).ravel()
    out = np.empty_like(flat)
    (_gelu_new_flat32 if flat.dtype == np.float32 else _gelu_new_flat64)(flat, out)
    return out.reshape(x.shape)


@numba.njit(cache=True)
def _gelu_erf_flat(x, out):
    for i in range(x.size):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT_2))


@register("numba", "gelu")
def gelu(x):
    """erf-GELU, [...] -> [...] (libm's erf, one pass)"""
    flat = np.ascontiguousarray(x).ravel()
    out = np.empty_like(flat)
    _gelu_erf_flat(flat, out)
    return out.reshape(x.shape)


@numba.njit(fastmath=True, cache=True)
def _softmax_rows(x, out):
    n, d = x.shape
    for i in range(n):
        m = x[i, 0]
        for j in range(1, d):
            if x[i, j] > m:
                m = x[i, j]
        s = 0.0
        for j in range(d):
            e = math.exp(x[i, j] - m)
            out[i, j] = e
            s += e
        inv = 1.0 / s
        for j in range(d):
            out[i, j] *= inv


@register("numba", "softmax")
def softmax(x):
    """Stable softmax over the last axis, [..., n] -> [..., n]"""
    if x.shape[-1] == 0 or x.size == 0:
        return np.empty_like(x)
    rows = _rows(x)
    out = np.empty_like(rows)
    _softmax_rows(rows, out)
    return out.reshape(x.shape)


@numba.njit(fastmath=True, error_model="numpy", cache=True)
def _masked_softmax_4d(x, mask, out):
    """x, out [b, h, q, k]; mask [1 or b, 1 or h, 1 or q, k] bool. Masked entries cost nothing:
    no exp is taken for them (half of a causal score matrix), and no -inf ever appears."""
    nb, nh, nq, nk = x.shape
    mb, mh, mq = mask.shape[0], mask.shape[1], mask.shape[2]
    for b in range(nb):
        for h in range(nh):
            mk = mask[b if mb > 1 else 0, h if mh > 1 else 0]
            for i in range(nq):
                row, allowed, dst = x[b, h, i], mk[i if mq > 1 else 0], out[b, h, i]
                found = False
                m = row[0]
                for j in range(nk):
                    if allowed[j] and (not found or row[j] > m):
                        m = row[j]
                        found = True
                if not found:  # everything masked: uniform weights, as transformers gives
                    for j in range(nk):
                        dst[j] = 1.0 / nk
                    continue
                s = 0.0
                for j in range(nk):
                    e = math.exp(row[j] - m) if allowed[j] else 0.0
                    dst[j] = e
                    s += e
                inv = 1.0 / s
                for j in range(nk):
                    dst[j] *= inv


@register("numba", "masked_softmax")
def masked_softmax(x, mask, inplace=False):
    """softmax(where(mask, x, -large)) over the last axis of x [b, h, q, k]."""
    if x.ndim != 4 or mask.ndim > 4 or 0 in x.shape:
        return None  # not the attention layout: the caller uses the NumPy code
    mask = np.asarray(mask, dtype=np.bool_)
    mask = mask.reshape((1,) * (4 - mask.ndim) + mask.shape)  # [q, k] -> [1, 1, q, k]
    if mask.shape[3] != x.shape[3]:
        mask = np.broadcast_to(mask, mask.shape[:3] + x.shape[3:])
    out = x if inplace else np.empty_like(x)
    _masked_softmax_4d(x, mask, out)
    return out


# -- fused attention (flash-attention style) --------------------------------------------------
# For each (batch, head) and each block of BQ queries, the keys are visited in tiles of BK:
# a [BQ, BK] block of scores is computed, and an "online softmax" keeps, per query, the running
# max m, the running sum l of exp(score - m) and the running weighted sum of values; when a new
# tile raises the max, the old sums are rescaled by exp(m_old - m_new). Memory is O(BQ * BK)
# per thread instead of the O(n^2) score matrix, and key tiles that the mask hides entirely
# (the upper triangle of a causal mask) are skipped.
_BQ, _BK = 16, 64


def _flash_attention_body(q, k, v, mask, scale, out):
    """q [b, h, n_q, d], k and v [b, h, n_k, d] (C-contiguous), mask [mb, mh, mq, n_k] bool."""
    nb, nh, nq, d = q.shape
    nk = k.shape[2]
    mb, mh, mq = mask.shape[0], mask.shape[1], mask.shape[2]
    for bh in numba.prange(nb * nh):  # one (batch, head) per thread
        b, h = bh // nh, bh % nh
        qh, kh, vh, oh = q[b, h], k[b, h], v[b, h], out[b, h]  # 2-D, contiguous rows
        mk = mask[b if mb > 1 else 0, h if mh > 1 else 0]
        s = np.empty(_BK, np.float32)  # one query's scores for one key tile
        acc = np.empty((_BQ, d), np.float32)  # running weighted sums of v
        m = np.empty(_BQ, np.float32)  # running row max
        l = np.empty(_BQ, np.float32)  # running sum of exp(score - m)
        for i0 in range(0, nq, _BQ):
            i1 = min(i0 + _BQ, nq)
            # the last key any query of this block may see: later tiles are skipped
            last = -1
            for i in range(i0, i1):
                row = mk[i if mq > 1 else 0]
                for j in range(nk - 1, last, -1):
                    if row[j]:
                        last = j
                        break
            acc[:] = 0.0
            m[:] = -3.0e38
            l[:] = 0.0
            for j0 in range(0, last + 1, _BK):
                j1 = min(j0 + _BK, last + 1)
                for i in range(i0, i1):
                    r = i - i0
                    row = mk[i if mq > 1 else 0]
                    qi = qh[i]
                    tile_max = np.float32(-3.0e38)
                    for j in range(j0, j1):  # this tile's scores
                        if row[j]:
                            kj = kh[j]
                            dot = np.float32(0.0)
                            for c in range(d):
                                dot += qi[c] * kj[c]
                            dot *= scale
                            s[j - j0] = dot
                            tile_max = max(tile_max, dot)
                    if tile_max == np.float32(-3.0e38):
                        continue  # nothing visible in this tile for this query
                    new_m = max(m[r], tile_max)
                    corr = np.float32(math.exp(m[r] - new_m))  # 0 on the first visible tile
                    l[r] *= corr
                    ar = acc[r]
                    for c in range(d):
                        ar[c] *= corr
                    m[r] = new_m
                    for j in range(j0, j1):
                        if row[j]:
                            p = np.float32(math.exp(s[j - j0] - new_m))
                            l[r] += p
                            vj = vh[j]
                            for c in range(d):
                                ar[c] += p * vj[c]
            for i in range(i0, i1):
                r = i - i0
                if l[r] > 0.0:
                    inv = np.float32(1.0) / l[r]
                    for c in range(d):
                        oh[i, c] = acc[r, c] * inv
                else:  # nothing visible: uniform weights over all keys, as transformers gives
                    for c in range(d):
                        oh[i, c] = 0.0
                    for j in range(nk):
                        for c in range(d):
                            oh[i, c] += vh[j, c]
                    for c in range(d):
                        oh[i, c] /= nk


_flags = dict(fastmath=True, error_model="numpy", cache=True)
# Threads pay off only for big work: a parallel region costs a wake-up of the worker threads,
# and on a small machine those compete with BLAS's own threads. prange runs as range serially.
_flash_attention_parallel = numba.njit(parallel=True, **_flags)(_flash_attention_body)
_flash_attention_serial = numba.njit(**_flags)(_flash_attention_body)
_PARALLEL_MIN_PAIRS = 1 << 20  # (batch * heads * queries * keys) above which threads are used
# On a 2-core CPU, BLAS matmuls + the masked softmax kernel beat this kernel's scalar dot
# products at every size (bench/kernels.py); what the kernel wins is memory. So it takes over
# only when the full score matrix would be big; below, the caller's BLAS path runs.
FUSED_MIN_SCORE_BYTES = 64 << 20


@register("numba", "attention")
def attention(q, k, v, mask=None, scale=None):
    """softmax(q k^T * scale, masked) v without the [n_q, n_k] score matrix.

    q [b, h, n_q, d]; k, v [b, h, n_k, d]; mask bool broadcastable to [b, h, n_q, n_k].
    Only float32; returns None (use the NumPy path) for anything else.
    """
    if q.dtype != np.float32 or k.dtype != np.float32 or v.dtype != np.float32 or q.ndim != 4:
        return None
    b, h, nq, d = q.shape
    nk = k.shape[2]
    if b * h * nq * nk * 4 < FUSED_MIN_SCORE_BYTES:
        return None  # small enough: the BLAS path is faster
    if mask is None:
        mask = np.ones((1, 1, 1, nk), np.bool_)
    mask = np.asarray(mask, dtype=np.bool_)
    mask = mask.reshape((1,) * (4 - mask.ndim) + mask.shape)
    if mask.shape[3] != nk:
        mask = np.broadcast_to(mask, mask.shape[:3] + (nk,))
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    out = np.empty((b, h, nq, d), np.float32)
    # contiguous copies (O(n d)) so every row the kernel reads is a contiguous vector
    q, k, v = (np.ascontiguousarray(a) for a in (q, k, v))
    big = b * h * nq * nk >= _PARALLEL_MIN_PAIRS
    (_flash_attention_parallel if big else _flash_attention_serial)(q, k, v, mask, np.float32(scale), out)
    return out


# -- a tiled matmul, for teaching ---------------------------------------------------------------
# C = A @ B computed block by block: a TILE x TILE block of C is accumulated from TILE x TILE
# blocks of A and B, which fit in the L1/L2 cache together and are reused TILE times each
# before being evicted. The innermost loop runs along a row of B and of C (unit stride), so
# LLVM turns it into vector FMAs. It is still several times slower than BLAS (`numpy.matmul`),
# which adds register blocking (micro-kernels keeping a small block of C in registers), packing
# of A and B into contiguous panels, and hand-tuned assembly: bench/kernels.py shows the gap.
# minitf's ops therefore keep numpy.matmul; this kernel is here to read and to measure.
_TILE = 64


@numba.njit(parallel=True, fastmath=True, error_model="numpy", cache=True)
def _matmul_tiled(a, b, c):
    n, kdim = a.shape
    m = b.shape[1]
    n_row_tiles = (n + _TILE - 1) // _TILE
    for ti in numba.prange(n_row_tiles):  # row blocks of C are independent: one per thread
        i0 = ti * _TILE
        i1 = min(i0 + _TILE, n)
        for j0 in range(0, m, _TILE):
            j1 = min(j0 + _TILE, m)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    c[i, j] = 0.0
            for k0 in range(0, kdim, _TILE):  # walk the shared dimension tile by tile
                k1 = min(k0 + _TILE, kdim)
                for i in range(i0, i1):
                    for kk in range(k0, k1):
                        aik = a[i, kk]
                        for j in range(j0, j1):  # unit stride in b and c: vectorised
                            c[i, j] += aik * b[kk, j]


def matmul_tiled(a, b):
    """[n, k] @ [k, m] -> [n, m] with the tiled kernel above (float32/float64, 2-D only)."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul_tiled needs [n, k] @ [k, m]; got {a.shape} @ {b.shape}")
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"matmul_tiled needs two float32 or two float64 arrays; got {a.dtype}, {b.dtype}")
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    c = np.empty((a.shape[0], b.shape[1]), a.dtype)
    _matmul_tiled(a, b, c)
    return c
