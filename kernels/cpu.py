"""Numba kernels for the CPU backend (installed as `minitf.kernels.cpu`).

Each kernel fuses an element-wise op that NumPy runs as several passes over memory, each
making a temporary array: layer norm is 6 NumPy passes, tanh-GELU 7. Here one
loop reads each row once (kept in cache) and writes the result once. The NumPy versions in
`minitf/ops.py` stay the reference; `tests/test_kernels_cpu.py` checks these against them.

Each kernel is registered with what it takes (`minitf.backend`'s contract): its dtypes, an
`accepts` test for shapes and options, and small `examples` that `backend.warm_up` runs at
model load. float32 is the fast path. float64, the dtype of parity runs, is registered only
where the kernel is exact to float64 rounding: it then uses libm's erf, tanh and exp, never
the float32 fits below (which are accurate to float32's rounding only). The fused attention
is float32 only.

Inputs are passed to the compiled loops as read-only views (`_ro`) and in C order (`_rows`),
so that a read-only checkpoint weight and a writable array use the same compiled version:
Numba compiles (or loads from its disk cache) one version per argument type, and each costs
tens of milliseconds the first time it runs.
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba.extending import overload

from minitf.backend import register

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
# fastmath without "arcp": with it, LLVM divides by a reciprocal estimate in vector loops but
# exactly in their scalar versions (the tail, or the fallback it takes when two arrays might
# overlap, which depends on where they sit in memory), so one input could give two answers.
_FAST = {"nnan", "ninf", "nsz", "contract", "afn", "reassoc"}
_flags = dict(fastmath=_FAST, error_model="numpy", cache=True, nogil=True)
_BOTH = ("float32", "float64")


# -- every core, without OpenMP -----------------------------------------------------------------
# The kernels that are worth running on all cores take two extra arguments, (part, n_parts), and
# do the part-th share of their rows (or attention tasks). `_on_all_threads` calls part 0 on
# this thread and the others on a small pool of Python threads; the kernels are compiled with
# nogil=True, so those threads run truly in parallel. Why not Numba's prange: its OpenMP
# threads keep spinning for a while after each parallel loop, and on a small CPU they take
# cores from the OpenBLAS matmul that always comes next (it ran up to 2x slower). Pool
# threads sleep on a queue instead.
_MIN_WORK_PER_THREAD = 1 << 16  # about 50 us of work: less is not worth waking a thread for
_pool_of = {}  # pid -> ThreadPoolExecutor (a forked child needs its own threads)


def _n_threads() -> int:
    return numba.config.NUMBA_NUM_THREADS  # all cores, or NUMBA_NUM_THREADS when it is set


def _on_all_threads(fn, work: int, *args):
    """fn(*args, part, n_parts) for every part, in parallel; `work` (elements, score pairs...)
    decides how many parts: one per `_MIN_WORK_PER_THREAD`, at most one per core."""
    n_parts = max(1, min(_n_threads(), work // _MIN_WORK_PER_THREAD))
    if n_parts == 1:
        fn(*args, 0, 1)
        return
    pool = _pool_of.get(os.getpid())
    if pool is None:
        pool = _pool_of[os.getpid()] = ThreadPoolExecutor(_n_threads() - 1, "minitf-kernel")
    others = [pool.submit(fn, *args, part, n_parts) for part in range(1, n_parts)]
    fn(*args, 0, n_parts)
    for f in others:
        f.result()


@numba.njit(inline="always", cache=True)
def _share(n, part, n_parts):
    """The [start, stop) of `part`'s contiguous share of n rows."""
    return n * part // n_parts, n * (part + 1) // n_parts


def _rows(x):
    """View x as [rows, d] (contiguous) so one kernel serves any leading shape."""
    x = np.ascontiguousarray(x)
    return x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)


def _ro(x, copy=True):
    """A read-only C-ordered view of array x (a copy only where x is not C-contiguous; with
    copy=False, x's own layout): what the compiled loops get for the arrays they only read."""
    view = (np.ascontiguousarray(x) if copy else x).view()
    view.flags.writeable = False
    return view


def _example(dtype, *shape, seed=0):
    """A small random array for the warm-up examples."""
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


@numba.njit(**_flags)
def _layer_norm_rows(x, residual, add, w, b, eps, out, part, n_parts):
    """out = LayerNorm(x + residual) if add else LayerNorm(x), for this part's rows."""
    n, d = x.shape
    start, stop = _share(n, part, n_parts)
    for i in range(start, stop):
        row = out[i]
        mean = 0.0
        if add:  # the residual add of a post-norm block, in the same pass as the mean
            for j in range(d):
                v = x[i, j] + residual[i, j]
                row[j] = v
                mean += v
        else:
            for j in range(d):
                row[j] = x[i, j]
                mean += x[i, j]
        mean /= d
        var = 0.0
        for j in range(d):
            c = row[j] - mean
            var += c * c
        inv = 1.0 / math.sqrt(var / d + eps)
        for j in range(d):
            row[j] = (row[j] - mean) * inv * w[j] + b[j]


def _norm_params_fit(x, weight, bias, eps=1e-5):
    """The weight and bias are one number per element of x's last axis."""
    d = x.shape[-1] if x.ndim else 1
    return weight.shape == (d,) and bias.shape == (d,)


def _layer_norm_examples(dtype):
    x = _example(dtype, 3, 8)
    return [(x, _example(dtype, 8, seed=1), _example(dtype, 8, seed=2), 1e-5)]


@register("numba", "layer_norm", dtypes=_BOTH, accepts=_norm_params_fit,
          examples=_layer_norm_examples)
def layer_norm(x, weight, bias, eps=1e-5):
    """[..., d] -> [..., d]; accumulates in float64 for a stable mean/variance."""
    return add_layer_norm(x, None, weight, bias, eps)


@register("numba", "add_layer_norm", dtypes=_BOTH,
          accepts=lambda x, residual, weight, bias, eps=1e-5: (
              residual.shape == x.shape and _norm_params_fit(x, weight, bias)),
          examples=lambda dtype: [(x, x, w, b, eps) for x, w, b, eps in _layer_norm_examples(dtype)])
def add_layer_norm(x, residual, weight, bias, eps=1e-5):
    """LayerNorm(x + residual), [..., d] -> [..., d], in one pass (residual None: just the norm)."""
    rows = _ro(_rows(x))
    res = rows if residual is None else _ro(_rows(residual))
    out = np.empty(rows.shape, x.dtype)
    _on_all_threads(_layer_norm_rows, rows.size, rows, res, residual is not None,
                    _ro(weight), _ro(bias), eps, out)
    return out.reshape(x.shape)


# -- GELU ---------------------------------------------------------------------------------------
# The two GELUs per element, exactly as minitf/ops.py writes them, with libm's tanh and erf:
# exact to float64 rounding, and what the float64 kernels compute. A libm call per element
# keeps a loop scalar, though, so for float32 the overloads further down swap in rational fits
# that vectorise.
_SQRT_2 = math.sqrt(2.0)


def _gelu_tanh(v):
    """0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))) for one number v (GPT-2's gelu_new)."""
    return 0.5 * v * (1.0 + math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))


def _gelu_erf(v):
    """0.5 v (1 + erf(v / sqrt 2)) for one number v (BERT's gelu)."""
    return 0.5 * v * (1.0 + math.erf(v / _SQRT_2))


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


@numba.njit(inline="always", fastmath=_FAST, error_model="numpy", cache=True)
def _gelu_tanh32(v):
    """`_gelu_tanh` for one float32 v, with the rational tanh above."""
    w = _f32(_SQRT_2_OVER_PI) * (v + _f32(0.044715) * v * v * v)
    u = min(max(w, _f32(-9.0)), _f32(9.0))
    z = u * u
    p = (((((_P6 * z + _P5) * z + _P4) * z + _P3) * z + _P2) * z + _P1) * z + _P0
    q = ((_Q3 * z + _Q2) * z + _Q1) * z + _Q0
    t = u * p / q
    t = _f32(1.0) if w >= _f32(9.0) else t  # beyond +-9 tanh is exactly +-1 in float32
    t = _f32(-1.0) if w <= _f32(-9.0) else t
    return _f32(0.5) * v * (_f32(1.0) + t)


# erf(u) ~= u * P(u^2) / Q(u^2) on [-4, 4] (beyond, erf is 1 to within 1.5e-8, below float32's
# resolution near 1): a rational fit made for minitf by iterated weighted least squares
# (Sanathanan-Koerner), max error 2e-8. It is only multiplies, adds and one divide, so the loop
# vectorises (8 float32 lanes per AVX2 instruction), where a libm erf call per element does not.
# In float32 the GELU is within 1.1e-6 of the exact value (2 ulp at |x| ~ 5, where the NumPy
# reference itself is 4.5e-7 off). It is no use in float64: 2e-8 is 1e8 float64 ulps.
_EP0, _EP1, _EP2, _EP3, _EP4, _EP5, _EP6, _EP7 = (_f32(c) for c in (
    1.1283791674105532, 0.17308905887204196, 0.05172169056751809, 0.0032481001826175178,
    0.00032008634916344314, 2.621731732047196e-06, 1.0847391454107955e-08,
    -2.1806587162456818e-10))
_EQ0, _EQ1, _EQ2, _EQ3, _EQ4, _EQ5 = (_f32(c) for c in (
    1.0, 0.4867295314407924, 0.10808022527721756, 0.014042188288899362, 0.0011150405343670162,
    4.779974088155309e-05))


@numba.njit(inline="always", fastmath=_FAST, error_model="numpy", cache=True)
def _gelu_erf32(v):
    """`_gelu_erf` for one float32 v, with the rational erf above."""
    lim = _f32(4.0)
    u = min(max(v * _f32(_INV_SQRT_2), -lim), lim)
    z = u * u
    p = ((((((_EP7 * z + _EP6) * z + _EP5) * z + _EP4) * z + _EP3) * z + _EP2) * z + _EP1) * z + _EP0
    q = ((((_EQ5 * z + _EQ4) * z + _EQ3) * z + _EQ2) * z + _EQ1) * z + _EQ0
    e = u * p / q
    e = _f32(1.0) if u >= lim else e  # exactly +-1 outside the fit: GELU(-50) is 0, not -5e-7
    e = _f32(-1.0) if u <= -lim else e
    return _f32(0.5) * v * (_f32(1.0) + e)


# In compiled code, `_gelu_tanh(v)` and `_gelu_erf(v)` are chosen by v's type when the loop is
# compiled: the float32 fit for a float32 v, the exact libm form for a float64 one. So each
# loop below is written once and compiled once per dtype, each with its own GELU.
_ELEMENT = dict(inline="always", jit_options=dict(fastmath=_FAST, error_model="numpy"))


@overload(_gelu_tanh, **_ELEMENT)
def _gelu_tanh_for(v):
    return (lambda v: _gelu_tanh32(v)) if v == numba.types.float32 else _gelu_tanh


@overload(_gelu_erf, **_ELEMENT)
def _gelu_erf_for(v):
    return (lambda v: _gelu_erf32(v)) if v == numba.types.float32 else _gelu_erf


_GELU_ERF, _GELU_TANH = 1, 2  # which GELU a kernel applies (the erf one, the tanh one)


@numba.njit(**_flags)
def _gelu_flat(x, out, which, part, n_parts):
    """out[i] = GELU(x[i]) for this part's share of the flat arrays (erf or tanh form)."""
    start, stop = _share(x.size, part, n_parts)
    if which == _GELU_ERF:
        for i in range(start, stop):
            out[i] = _gelu_erf(x[i])
    else:
        for i in range(start, stop):
            out[i] = _gelu_tanh(x[i])


def _gelu(x, which):
    flat = _ro(x).ravel()
    out = np.empty(flat.shape, x.dtype)
    _on_all_threads(_gelu_flat, flat.size, flat, out, which)
    return out.reshape(x.shape)


def _one_array_examples(dtype):
    return [(_example(dtype, 3, 8),)]


@register("numba", "gelu_new", dtypes=_BOTH, examples=_one_array_examples)
def gelu_new(x):
    """tanh-GELU, [...] -> [...] (float32: vectorised rational tanh; float64: libm tanh)"""
    return _gelu(x, _GELU_TANH)


@register("numba", "gelu", dtypes=_BOTH, examples=_one_array_examples)
def gelu(x):
    """erf-GELU, [...] -> [...] (float32: vectorised rational erf; float64: libm erf)"""
    return _gelu(x, _GELU_ERF)


# Bias + activation in place on the output of a matmul: one pass over [n, d_ff] instead of
# three (add the bias, read it for GELU, write a new array), in place, so no second
# [n, d_ff] array is allocated.
_BIAS_ONLY = 0
_BIAS_ACTIVATIONS = {None: _BIAS_ONLY, "gelu": _GELU_ERF, "gelu_new": _GELU_TANH,
                     "gelu_pytorch_tanh": _GELU_TANH, "gelu_fast": _GELU_TANH}


@numba.njit(**_flags)
def _bias_activation_rows(y, bias, act, part, n_parts):
    """y[i, j] <- act(y[i, j] + bias[j]) for this part's rows; act is one of the codes above
    (the branch is outside the inner loops, so each loop vectorises on its own)."""
    n, d = y.shape
    start, stop = _share(n, part, n_parts)
    for i in range(start, stop):
        row = y[i]
        if act == _GELU_ERF:
            for j in range(d):
                row[j] = _gelu_erf(row[j] + bias[j])
        elif act == _GELU_TANH:
            for j in range(d):
                row[j] = _gelu_tanh(row[j] + bias[j])
        else:
            for j in range(d):
                row[j] += bias[j]


def _bias_activation_accepts(y, bias, name):
    """A C-ordered [n, d] y to overwrite, a [d] bias (or None) and a GELU (or None: the bias
    alone, taken only for a large y; NumPy's `y += bias` is quicker than a kernel call there)."""
    if name not in _BIAS_ACTIVATIONS or y.ndim != 2 or not (y.flags.c_contiguous and y.flags.writeable):
        return False
    if bias is not None and bias.shape != (y.shape[1],):
        return False
    return name is not None or (bias is not None and y.size >= 2 * _MIN_WORK_PER_THREAD)


@register("numba", "bias_activation", dtypes=_BOTH, accepts=_bias_activation_accepts,
          examples=lambda dtype: [(_example(dtype, 3, 8), _example(dtype, 8, seed=1), name)
                                  for name in ("gelu", "gelu_new")])
def bias_activation(y, bias, name):
    """y <- act(y + bias) in place (see `_bias_activation_accepts`); returns y."""
    bias = np.zeros(y.shape[1], y.dtype) if bias is None else bias
    _on_all_threads(_bias_activation_rows, y.size, y, _ro(bias), _BIAS_ACTIVATIONS[name])
    return y


@numba.njit(fastmath=_FAST, cache=True)
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


@register("numba", "softmax", dtypes=_BOTH, examples=_one_array_examples)
def softmax(x):
    """Stable softmax over the last axis, [..., n] -> [..., n]"""
    if x.size == 0:  # (an empty last axis too, where the reference's max has nothing to reduce)
        return np.empty_like(x)
    rows = _ro(_rows(x))
    out = np.empty(rows.shape, x.dtype)
    _softmax_rows(rows, out)
    return out.reshape(x.shape)


@numba.njit(fastmath=_FAST, error_model="numpy", cache=True)
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


def _mask_4d(mask, n_k):
    """A bool mask broadcastable to [b, h, q, n_k] as a read-only C-ordered
    [1 or b, 1 or h, 1 or q, n_k] array (a [q, k] mask becomes [1, 1, q, k])."""
    mask = np.asarray(mask, dtype=np.bool_)
    mask = mask.reshape((1,) * (4 - mask.ndim) + mask.shape)
    if mask.shape[3] != n_k:
        mask = np.broadcast_to(mask, mask.shape[:3] + (n_k,))
    return _ro(mask)


def _masked_softmax_examples(dtype):
    x = _example(dtype, 2, 2, 3, 5)
    return [(x, np.tri(3, 5, 2, dtype=bool), False), (x.copy(), np.ones((2, 1, 1, 5), bool), True)]


@register("numba", "masked_softmax", dtypes=_BOTH, examples=_masked_softmax_examples,
          accepts=lambda x, mask, inplace=False: x.ndim == 4 and 0 not in x.shape and np.ndim(mask) <= 4)
def masked_softmax(x, mask, inplace=False):
    """softmax(where(mask, x, -large)) over the last axis of x [b, h, q, k]; inplace: into x's
    memory when x is C-ordered."""
    src = _ro(x)
    out = x if inplace and x.flags.c_contiguous and x.flags.writeable else np.empty(x.shape, x.dtype)
    _masked_softmax_4d(src, _mask_4d(mask, x.shape[3]), out)
    return out


# -- fused attention (flash-attention style) --------------------------------------------------
# For each (batch, head) and each block of BQ queries, the keys are visited in tiles of BK:
# a [BQ, BK] block of scores is computed, and an "online softmax" keeps, per query, the running
# max m, the running sum l of exp(score - m) and the running weighted sum of values; when a new
# tile raises the max, the old sums are rescaled by exp(m_old - m_new). Memory is O(BQ * BK)
# per thread instead of the O(n^2) score matrix, and key tiles that the mask hides entirely
# (the upper triangle of a causal mask) are skipped.
#
# Two things make it fast, and both are about what the compiler can turn into AVX code:
# 1. Both products (S = Q K^T and O += P V) are written as dot products of contiguous rows,
#    computed 2 rows x 4 columns at a time (`_abt`). The 8 running sums stay in registers, and
#    each loaded element is used 2 or 4 times; a plain one-dot-at-a-time loop reloads and
#    re-stores its operands and runs at half the speed. V is transposed once (O(n d)) so
#    that P V is also "rows times rows".
# 2. exp is computed by `_exp_shifted` with multiplies, adds and integer shifts only, so a
#    whole tile row goes through 8 lanes at a time; libm's exp is a scalar call per score.
_BQ, _BK = 32, 128
_NEG = _f32(-3.0e38)  # "no score yet" / masked; exp of it (after the shift) is exactly 0
_LOG2E = _f32(1.4426950408889634)
_LN2_HI, _LN2_LO = _f32(0.693359375), _f32(-2.12194440e-4)  # ln 2 split so k*ln2 is exact


@numba.njit(inline="always", **_flags)
def _abt(a, ra, b, rb, tb, nr, nx, nt, out, accumulate):
    """out[r, x] (+)= sum_t a[ra + r, t] * b[rb + x, tb + t]  for r < nr, x < nx, t < nt.

    A small "A times B-transposed" with a 2 x 4 register block: 8 running sums, and every
    element loaded from a row of `a` (of `b`) is used 4 (2) times.
    """
    n_r2, n_x4 = nr - nr % 2, nx - nx % 4
    for r in range(0, n_r2, 2):
        a0, a1 = a[ra + r, :nt], a[ra + r + 1, :nt]
        for x in range(0, n_x4, 4):
            b0, b1 = b[rb + x, tb:tb + nt], b[rb + x + 1, tb:tb + nt]
            b2, b3 = b[rb + x + 2, tb:tb + nt], b[rb + x + 3, tb:tb + nt]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = _f32(0.0)
            if accumulate:  # start from out's values (no zero-fill of out: that was a memset call)
                s00, s01, s02, s03 = out[r, x], out[r, x + 1], out[r, x + 2], out[r, x + 3]
                s10, s11, s12, s13 = out[r + 1, x], out[r + 1, x + 1], out[r + 1, x + 2], out[r + 1, x + 3]
            for t in range(nt):
                x0, x1 = a0[t], a1[t]
                s00 += x0 * b0[t]
                s01 += x0 * b1[t]
                s02 += x0 * b2[t]
                s03 += x0 * b3[t]
                s10 += x1 * b0[t]
                s11 += x1 * b1[t]
                s12 += x1 * b2[t]
                s13 += x1 * b3[t]
            out[r, x], out[r, x + 1], out[r, x + 2], out[r, x + 3] = s00, s01, s02, s03
            out[r + 1, x], out[r + 1, x + 1], out[r + 1, x + 2], out[r + 1, x + 3] = s10, s11, s12, s13
    # the edges: columns past the last multiple of 4, and the last row when nr is odd
    for r in range(nr):
        a0 = a[ra + r, :nt]
        for x in range(n_x4 if r < n_r2 else 0, nx):
            b0 = b[rb + x, tb:tb + nt]
            s = _f32(0.0)
            for t in range(nt):
                s += a0[t] * b0[t]
            out[r, x] = out[r, x] + s if accumulate else s


@numba.njit(inline="always", **_flags)
def _exp_shifted(row, w, m, bits):
    """row[:w] <- exp(row[:w] - m) in place (arguments <= 0), and returns their sum.

    exp(x) = 2^k * e^f with k = round(x / ln 2) and |f| <= ln(2)/2: e^f is a degree-7 Taylor
    polynomial (relative error < 1e-8), 2^k is built directly as float32 bits ((k + 127) << 23),
    written to the int32 scratch `bits` and read back through a float32 view of it. Below -87
    (where float32 would go subnormal) the result is 0, which also zeroes masked scores.
    """
    for j in range(w):
        x0 = row[j] - m
        x = max(x0, _f32(-87.0))
        k = np.int32(x * _LOG2E - _f32(0.5))  # x <= 0: truncation of (t - 0.5) rounds t
        kf = _f32(k)
        f = (x - kf * _LN2_HI) - kf * _LN2_LO
        p = _f32(1.0) + f * (_f32(1.0) + f * (_f32(1 / 2) + f * (_f32(1 / 6) + f * (
            _f32(1 / 24) + f * (_f32(1 / 120) + f * (_f32(1 / 720) + f * _f32(1 / 5040)))))))
        bits[j] = ((k + np.int32(127)) << np.int32(23)) if x0 > _f32(-87.0) else np.int32(0)
        row[j] = p
    scale = bits.view(np.float32)
    total = _f32(0.0)
    for j in range(w):
        e = row[j] * scale[j]
        row[j] = e
        total += e
    return total


@numba.njit(**_flags)
def _gather_heads(q, k, v, qc, kc, vt, part, n_parts):
    """For this part's (batch, head) pairs: qc[b, h] <- q[b, :, h], kc[b, h] <- k[b, :, h] and
    vt[b, h] <- v[b, :, h] transposed. q, k, v are [b, n, h, d], the layout a projection writes
    (C-contiguous); qc, kc [b, h, n, d] and vt [b, h, d, n_k] are what the attention kernel
    reads. An empty q (or k) means qc (kc) is already there: nothing to copy."""
    nb, nk, nh, d = v.shape
    start, stop = _share(nb * nh, part, n_parts)
    for bh in range(start, stop):
        b, h = bh // nh, bh % nh
        for i in range(q.shape[1]):
            src, dst = q[b, i, h], qc[b, h, i]
            for c in range(d):
                dst[c] = src[c]
        for i in range(k.shape[1]):
            src, dst = k[b, i, h], kc[b, h, i]
            for c in range(d):
                dst[c] = src[c]
        dst = vt[b, h]
        for j in range(nk):
            src = v[b, j, h]
            for c in range(d):
                dst[c, j] = src[c]


@numba.njit(**_flags)
def _flash_attention(q, k, vt, mask, scale, out, part, n_parts):
    """q [b, h, n_q, d], k [b, h, n_k, d], vt [b, h, d, n_k] (V transposed; all C-contiguous),
    mask [mb, mh, mq, n_k] bool, out [b, h, n_q, d] (any strides)."""
    nb, nh, nq, d = q.shape
    nk = k.shape[2]
    mb, mh, mq = mask.shape[0], mask.shape[1], mask.shape[2]
    n_blocks = (nq + _BQ - 1) // _BQ
    # One task per (batch, head, query block), so even one head keeps every thread busy. Part p
    # of n takes tasks p, p + n, p + 2n ...: interleaved, every part gets as many early (cheap,
    # under a causal mask) as late query blocks, and as many short as long padded rows.
    for task in range(part, nb * nh * n_blocks, n_parts):
        bh, block = task // n_blocks, task % n_blocks
        b, h = bh // nh, bh % nh
        qh, kh, vth, oh = q[b, h], k[b, h], vt[b, h], out[b, h]  # 2-D, contiguous rows
        mk = mask[b if mb > 1 else 0, h if mh > 1 else 0]
        s = np.empty((_BQ, _BK), np.float32)  # scores, then probabilities, of one tile
        bits = np.empty(_BK, np.int32)  # scratch for _exp_shifted
        acc = np.empty((_BQ, d), np.float32)  # running weighted sums of v
        m = np.empty(_BQ, np.float32)  # running row max
        l = np.empty(_BQ, np.float32)  # running sum of exp(score - m)
        i0 = block * _BQ
        nr = min(_BQ, nq - i0)
        # the last key any query of this block may see: later tiles are skipped
        last = -1
        for i in range(i0, i0 + nr):
            row = mk[i if mq > 1 else 0]
            for j in range(nk - 1, last, -1):
                if row[j]:
                    last = j
                    break
        acc[:nr] = 0.0
        m[:nr] = _NEG
        l[:nr] = 0.0
        for j0 in range(0, last + 1, _BK):
            w = min(_BK, last + 1 - j0)
            _abt(qh, i0, kh, j0, 0, nr, w, d, s, False)  # S = Q_blk K_tile^T   [nr, w]
            for r in range(nr):
                srow, mrow = s[r], mk[i0 + r if mq > 1 else 0]
                tile_max = _NEG
                for j in range(w):
                    x = srow[j] * scale if mrow[j0 + j] else _NEG
                    srow[j] = x
                    tile_max = max(tile_max, x)
                if tile_max == _NEG:  # nothing visible here for this query: p = 0
                    srow[:w] = 0.0
                    continue
                new_m = max(m[r], tile_max)
                corr = _f32(math.exp(m[r] - new_m))  # 0 on the first visible tile
                l[r] = l[r] * corr + _exp_shifted(srow, w, new_m, bits)
                m[r] = new_m
                for c in range(d):
                    acc[r, c] *= corr
            _abt(s, 0, vth, 0, j0, nr, d, w, acc, True)  # ACC += P V_tile   [nr, d]
        for r in range(nr):
            i = i0 + r
            if l[r] > 0.0:
                inv = _f32(1.0) / l[r]
                for c in range(d):
                    oh[i, c] = acc[r, c] * inv
            else:  # nothing visible: uniform weights over all keys, as transformers gives
                for c in range(d):
                    total = _f32(0.0)
                    for j in range(nk):
                        total += vth[c, j]
                    oh[i, c] = total / nk


@numba.njit(**_flags)
def _decode_attention(q, k, v, mask, scale, out):
    """One new query per (batch, head) against the KV cache: the decode step of generation.

    q [b, h, d]; k, v [b, h, n, d], views into the cache (rows contiguous, heads strided);
    mask [b, n] bool; out [b, h, d]. With a single query there is no tile to reuse, so this is
    the direct form: n dot products, one vectorised exp pass, one weighted sum of v rows.
    """
    nb, nh, d = q.shape
    n = k.shape[2]
    mb = mask.shape[0]
    s = np.empty(n, np.float32)  # scores, then probabilities
    bits = np.empty(n, np.int32)  # scratch for _exp_shifted
    acc = np.empty(d, np.float32)
    for b in range(nb):
        allowed = mask[b if mb > 1 else 0]
        for h in range(nh):
            qv, kh, vh = q[b, h], k[b, h], v[b, h]
            m = _NEG
            for j in range(n):
                if allowed[j]:
                    kj = kh[j]
                    dot = _f32(0.0)
                    for c in range(d):
                        dot += qv[c] * kj[c]
                    s[j] = dot * scale
                    m = max(m, s[j])
                else:
                    s[j] = _NEG
            if m == _NEG:  # nothing visible: uniform weights over all keys
                for j in range(n):
                    s[j] = _f32(1.0)
                total = _f32(n)
            else:
                total = _exp_shifted(s, n, m, bits)
            acc[:] = 0.0
            for j in range(n):
                p = s[j]
                if p != 0.0:
                    vj = vh[j]
                    for c in range(d):
                        acc[c] += p * vj[c]
            inv = _f32(1.0) / total
            for c in range(d):
                out[b, h, c] = acc[c] * inv


# With the register-blocked products and the vectorised exp this kernel is at least as fast as
# BLAS + the masked softmax at every size measured on the 2-core CPU (bench/kernels.py), so
# every float32 problem takes it. float64 is not registered: the exp above and the float32
# accumulators are float32 arithmetic (a float64 run takes the NumPy reference, exact).


def _attention_accepts(q, k, v, mask=None, scale=None):
    """q [b, h, n_q, d], k and v [b, h, n_k, d] with n_q, n_k > 0; mask at most 4-D."""
    if q.ndim != 4 or k.ndim != 4 or v.shape != k.shape or 0 in q.shape or k.shape[2] == 0:
        return False
    return k.shape[:2] == q.shape[:2] and k.shape[3] == q.shape[3] and np.ndim(mask) <= 4


def _attention_examples(dtype):
    """The layouts the models pass: q, k, v as the heads of a projection ([b, h, n, d] views of
    [b, n, h, d]), or C-ordered; one decode query against a KV-cache view and a whole cache."""
    heads = [_example(dtype, 1, 3, 2, 8, seed=s).transpose(0, 2, 1, 3) for s in range(3)]
    q, k, v = (np.ascontiguousarray(x) for x in heads)
    cache = _example(dtype, 2, 1, 2, 5, 8)  # [k or v, b, h, capacity, d]
    pad = np.ones((1, 1, 1, 4), bool)
    return [(*heads, np.tri(3, 3, dtype=bool), 0.35), (q, k, v, None, None),
            (q[:, :, :1], cache[0, :, :, :4], cache[1, :, :, :4], pad, None),
            (q[:, :, :1], cache[0], cache[1], None, None)]


@register("numba", "attention", dtypes=("float32",), accepts=_attention_accepts,
          examples=_attention_examples)
def attention(q, k, v, mask=None, scale=None):
    """softmax(q k^T * scale, masked) v without the [n_q, n_k] score matrix.

    q [b, h, n_q, d]; k, v [b, h, n_k, d]; mask bool broadcastable to [b, h, n_q, n_k].
    """
    b, h, nq, d = q.shape
    nk = k.shape[2]
    mask = _mask_4d(np.ones((1, 1, 1, nk), np.bool_) if mask is None else mask, nk)
    scale = np.float32(1.0 / math.sqrt(d) if scale is None else scale)
    if nq == 1 and mask.shape[1] == 1:  # a decode step (the mask is per batch row, not per head)
        out = np.empty((b, h, d), np.float32)
        # k, v are usually views into the KV cache: read where they are (no copy of the cache)
        _decode_attention(_ro(q[:, :, 0]), _ro(k, copy=False), _ro(v, copy=False),
                          _ro(mask[:, 0, 0]), scale, out)
        return out[:, :, None]
    # Contiguous copies (O(n d)) so that every row the kernel reads is a contiguous vector. The
    # usual q, k, v are the heads of a projection: [b, h, n, d] views of a [b, n, h, d] array,
    # which the gather reads as that array (5x quicker than through the strided view). A
    # C-ordered q or k is read as it is: the gather gets nothing to copy for it.
    nothing = np.empty((0, 0, 0, 0), np.float32)
    gathered = [(nothing, nothing) if x.flags.c_contiguous else
                (_ro(x.transpose(0, 2, 1, 3)), np.empty(x.shape, np.float32)) for x in (q, k)]
    (q_src, qc), (k_src, kc) = gathered  # [b, n, h, d] sources, [b, h, n, d] destinations
    vt = np.empty((b, h, d, nk), np.float32)  # V transposed
    _on_all_threads(_gather_heads, q.size + k.size + v.size, q_src, k_src,
                    _ro(v.transpose(0, 2, 1, 3)), qc, kc, vt)
    qc, kc = (x if c.size == 0 else c for x, c in ((q, qc), (k, kc)))
    # The output is written as [b, n_q, h, d] and returned as a [b, h, n_q, d] view of it: the
    # usual next step, merge_heads, is then a free reshape instead of a copy.
    out = np.empty((b, nq, h, d), np.float32).transpose(0, 2, 1, 3)  # [b, h, n_q, d]
    work = b * h * nq * nk * d // 16  # one score pair is ~4d flops + an exp: ~4 "elements" at d 64
    _on_all_threads(_flash_attention, work, _ro(qc), _ro(kc), _ro(vt), mask, scale, out)
    return out


# -- a tiled matmul, for teaching only ----------------------------------------------------------
# Not registered: no op calls it (minitf's matmuls are numpy.matmul, BLAS). It is here to read,
# to test (tests/test_kernels_cpu.py) and to measure against BLAS (bench/kernels.py).
# C = A @ B computed block by block: a TILE x TILE block of C is accumulated from TILE x TILE
# blocks of A and B, which fit in the L1/L2 cache together and are reused TILE times each
# before being evicted. The innermost loop runs along a row of B and of C (unit stride), so
# LLVM turns it into vector FMAs. It is still several times slower than BLAS (`numpy.matmul`),
# which adds register blocking (micro-kernels keeping a small block of C in registers), packing
# of A and B into contiguous panels, and hand-tuned assembly: bench/kernels.py shows the gap.
_TILE = 64


@numba.njit(parallel=True, fastmath=True, error_model="numpy", cache=True)
def _teaching_matmul_tiled(a, b, c):
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


def teaching_matmul_tiled(a, b):
    """[n, k] @ [k, m] -> [n, m] with the tiled kernel above (float32/float64, 2-D only)."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"teaching_matmul_tiled needs [n, k] @ [k, m]; got {a.shape} @ {b.shape}")
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"teaching_matmul_tiled needs two float32 or two float64 arrays; "
                        f"got {a.dtype}, {b.dtype}")
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    c = np.empty((a.shape[0], b.shape[1]), a.dtype)
    _teaching_matmul_tiled(a, b, c)
    return c
