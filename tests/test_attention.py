"""Dense attention: masks, fully masked rows, and the blocked causal path."""
import numpy as np
import pytest

from minitf.attention import (causal_attention, causal_mask, merge_heads, padding_mask,
                              scaled_dot_product_attention, split_heads)
from minitf.backend import use_backend


def _naive(q, k, v, mask, scale):
    """Textbook attention in float64 with -inf masking (rows with a visible key only)."""
    s = (q.astype(np.float64) @ k.astype(np.float64).swapaxes(-1, -2)) * scale
    s = np.where(mask, s, -np.inf)
    with np.errstate(invalid="ignore"):  # fully masked rows are NaN here; the test skips them
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
    return w @ v.astype(np.float64)


def test_split_merge_roundtrip():
    x = np.random.default_rng(0).normal(size=(2, 5, 12)).astype(np.float32)
    assert split_heads(x, 3).shape == (2, 3, 5, 4)
    np.testing.assert_array_equal(merge_heads(split_heads(x, 3)), x)


def test_causal_mask_with_past():
    m = causal_mask(2, 5)  # 3 cached tokens, 2 new ones
    np.testing.assert_array_equal(m, [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_sdpa_matches_textbook_and_masked_rows_are_uniform(backend):
    rng = np.random.default_rng(1)
    q, k, v = (rng.normal(size=(2, 3, 6, 8)).astype(np.float32) for _ in range(3))
    am = np.array([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]])
    mask = causal_mask(6, 6) & padding_mask(am)
    with use_backend(backend):
        out, w = scaled_dot_product_attention(q, k, v, mask, return_weights=True)
    ref = _naive(q, k, v, mask, 1 / np.sqrt(8))
    real = mask.any(-1)[:, :, :, None] & np.ones_like(ref, bool)
    np.testing.assert_allclose(out[real], ref[real], atol=1e-5)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(w[1, :, 0], 1 / 6, atol=1e-7)  # query 0 of row 1 sees only padding
    assert np.isfinite(out).all()


@pytest.mark.parametrize("t,past,block", [(300, 0, 64), (129, 0, 128), (200, 37, 50), (5, 3, 2)])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_blocked_causal_equals_full(t, past, block, backend):
    rng = np.random.default_rng(2)
    q = rng.normal(size=(2, 2, t, 16)).astype(np.float32)
    k, v = (rng.normal(size=(2, 2, past + t, 16)).astype(np.float32) for _ in range(2))
    am = np.ones((2, past + t), np.int64)
    am[1, :7] = 0  # left padding in row 1
    mask = causal_mask(t, past + t) & padding_mask(am)
    with use_backend(backend):
        full, _ = scaled_dot_product_attention(q, k, v, mask, 0.25)
        blocked = causal_attention(q, k, v, mask, 0.25, block=block)
        np.testing.assert_allclose(blocked, full, atol=1e-6)
        # the causal-only 2-D mask too
        m2 = causal_mask(t, past + t)
        np.testing.assert_allclose(causal_attention(q, k, v, m2, 0.25, block=block),
                                   scaled_dot_product_attention(q, k, v, m2, 0.25)[0], atol=1e-6)
