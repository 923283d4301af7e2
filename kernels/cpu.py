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
    """erf-GELU, [...] -> [...]"""
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
