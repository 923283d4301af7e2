"""The NumPy ops: values against textbook float64 formulas, dtype discipline, errors."""
import math

import numpy as np
import pytest

from minitf import ops
from minitf.backend import use_backend

DTYPES = [np.float32, np.float64, np.float16]


@pytest.fixture(autouse=True)
def reference_backend():
    with use_backend("numpy"):  # these tests are about the readable reference
        yield


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_op_keeps_the_dtype(dtype):
    x = np.linspace(-3, 3, 24, dtype=dtype).reshape(2, 3, 4)
    w, b = np.ones(4, dtype), np.zeros(4, dtype)
    for y in (ops.linear(x, np.ones((4, 5), dtype), np.zeros(5, dtype)), ops.layer_norm(x, w, b),
              ops.gelu(x), ops.gelu_new(x), ops.softmax(x), ops.log_softmax(x), ops.relu(x),
              ops.silu(x), ops.quick_gelu(x), ops.softmax(x, mask=x > 0)):
        assert y.dtype == dtype


def test_linear_both_layouts():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    np.testing.assert_allclose(ops.linear(x, w, b), x @ w + b)
    np.testing.assert_allclose(ops.linear_t(x, w.T, b), x @ w + b)


def test_layer_norm_matches_the_formula():
    x = np.random.default_rng(1).normal(3, 2, (4, 10))
    w, b = np.full(10, 2.0), np.full(10, 0.5)
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(ops.layer_norm(x, w, b, 1e-5), (x - mu) / np.sqrt(var + 1e-5) * 2 + 0.5)


def test_gelus():
    x = np.linspace(-6, 6, 101)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    tanh = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(ops.gelu(x), exact, atol=1e-12)
    np.testing.assert_allclose(ops.gelu_new(x), tanh, atol=1e-12)
    assert np.abs(ops.gelu(x) - ops.gelu_new(x)).max() < 1e-3  # the approximation is close


def test_softmax_is_stable_and_handles_masks():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1e30, 0.0, 1e30]], np.float32)
    y = ops.softmax(x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-6)
    m = np.array([[True, False, True], [False, False, False]])
    y = ops.softmax(np.zeros((2, 3), np.float32), mask=m)
    np.testing.assert_allclose(y, [[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    np.testing.assert_allclose(np.exp(ops.log_softmax(x[:1].astype(np.float64))), ops.softmax(x[:1]), atol=1e-6)


def test_embedding_and_its_error():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(ops.embedding(np.array([[3, 0]]), table), [[[9, 10, 11], [0, 1, 2]]])
    with pytest.raises(IndexError, match=r"id 4 is out of range for an embedding table of 4 rows"):
        ops.embedding(np.array([1, 4]), table)
    with pytest.raises(IndexError, match=r"id -1 is out of range"):
        ops.embedding(np.array([-1]), table)


def test_activation_lookup_and_dropout():
    assert ops.activation("gelu_new") is ops.gelu_new
    with pytest.raises(ValueError, match=r"unknown activation function 'swishy'"):
        ops.activation("swishy")
    x = np.ones(3)
    assert ops.dropout(x, 0.1) is x
    with pytest.raises(ValueError, match=r"inference only"):
        ops.dropout(x, 0.1, training=True)
