"""Each Numba kernel against the NumPy reference in minitf/ops.py, on fresh random inputs."""
from pathlib import Path

import numpy as np
import pytest

from minitf import backend, ops
from minitf.backend import get_backend, kernel, set_backend, use_backend

pytest.importorskip("numba")
SHAPES = [(1, 1), (3, 7), (2, 5, 33), (1, 4, 768), (2, 3, 129), (3, 100, 700)]  # the last: all threads


def both(fn, *args, **kw):
    with use_backend("numpy"):
        ref = fn(*args, **kw)
    with use_backend("numba"):
        got = fn(*args, **kw)
    return ref, got


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm(shape, dtype):
    rng = np.random.default_rng(0)
    x = (rng.normal(0, 3, shape) + 5).astype(dtype)
    w, b = rng.normal(size=shape[-1]).astype(dtype), rng.normal(size=shape[-1]).astype(dtype)
    ref, got = both(ops.layer_norm, x, w, b, 1e-5)
    assert got.dtype == dtype and got.shape == x.shape
    np.testing.assert_allclose(got, ref, atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_with_residual(shape, dtype):
    """layer_norm(x, ..., residual=r) is LayerNorm(x + r): one pass under numba, and the same
    numbers as adding first under numpy."""
    rng = np.random.default_rng(10)
    x, r = (rng.normal(0, 3, shape).astype(dtype) for _ in range(2))
    w, b = rng.normal(size=shape[-1]).astype(dtype), rng.normal(size=shape[-1]).astype(dtype)
    with use_backend("numpy"):
        ref = ops.layer_norm(x + r, w, b, 1e-5)
    for backend in ("numpy", "numba"):
        with use_backend(backend):
            got = ops.layer_norm(x, w, b, 1e-5, residual=r)
        assert got.dtype == dtype and got.shape == x.shape
        np.testing.assert_allclose(got, ref, atol=1e-5 if dtype == np.float32 else 1e-12)


def test_kernels_split_across_threads_give_the_same_numbers(monkeypatch):
    """Run every threaded kernel on one part, then on 3 parts of even tiny inputs (more parts
    than this machine may have cores: each part is its own share of rows or attention tasks),
    and compare. Odd sizes, so the shares are uneven."""
    from minitf.attention import padding_mask, scaled_dot_product_attention
    from minitf.kernels import cpu

    rng = np.random.default_rng(11)
    x, r = (rng.normal(0, 2, (5, 7, 37)).astype(np.float32) for _ in range(2))
    w, b = rng.normal(size=37).astype(np.float32), rng.normal(size=37).astype(np.float32)
    q, k, v = (rng.normal(size=(3, 5, 41, 16)).astype(np.float32) for _ in range(3))
    mask = padding_mask(np.array([[1] * 41, [1] * 30 + [0] * 11, [0] * 5 + [1] * 36]))
    # and as the heads of projections: [b, h, n, d] views of [b, n, h, d] arrays (the gather)
    heads = [np.ascontiguousarray(x.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3) for x in (q, k, v)]

    def run_all():
        y = cpu.bias_activation(x.reshape(-1, 37).copy(), b, "gelu")
        z = (x.reshape(-1, 37) * 100).repeat(60, axis=0)
        fused = kernel("bias_activation", z, b, None)  # (bias alone: not taken for small arrays)
        z = z + b if fused is None else fused(z, b, None)
        return [ops.layer_norm(x, w, b), ops.layer_norm(x, w, b, residual=r), ops.gelu(x),
                ops.gelu_new(x), y, z, scaled_dot_product_attention(q, k, v, mask)[0],
                scaled_dot_product_attention(*heads, mask)[0]]

    with use_backend("numba"):
        monkeypatch.setattr(cpu, "_n_threads", lambda: 1)
        one = run_all()
        monkeypatch.setattr(cpu, "_n_threads", lambda: 3)
        monkeypatch.setattr(cpu, "_MIN_WORK_PER_THREAD", 1)
        three = run_all()
    np.testing.assert_allclose(one[-1], one[-2], rtol=1e-6, atol=1e-6)  # layout-independent
    for a, c in zip(one, three):
        np.testing.assert_allclose(c, a, rtol=1e-6, atol=1e-6)  # (a last bit may differ where
        # a share's boundary moves an element between the vector loop and its scalar tail)


@pytest.mark.parametrize("name", ["gelu", "gelu_new"])
def test_elementwise_results_do_not_depend_on_where_an_element_sits(name):
    """Each element of a long array goes through the vectorised loop, a lone element through
    the scalar code: the two must agree to the bit. (With fastmath's reciprocal estimate they
    did not, and which one ran could depend on the arrays' addresses: a saved and reloaded
    model gave last-bit different logits in some processes.)"""
    from minitf.kernels import cpu

    x = np.random.default_rng(12).normal(0, 3, 203).astype(np.float32)
    b = np.random.default_rng(13).normal(0, 1, 203).astype(np.float32)
    with use_backend("numba"):
        whole = getattr(ops, name)(x)
        alone = np.array([getattr(ops, name)(x[i:i + 1])[0] for i in range(x.size)])
        np.testing.assert_array_equal(whole, alone)
        y = x[None].copy()  # bias + activation in place, one row of 203
        assert cpu.bias_activation(y, b, name) is y
        alone = []
        for i in range(x.size):
            yi = x[None, i:i + 1].copy()
            cpu.bias_activation(yi, b[i:i + 1], name)
            alone.append(yi[0, 0])
        np.testing.assert_array_equal(y[0], np.array(alone))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_new(shape, dtype):
    x = (np.random.default_rng(1).normal(0, 4, shape)).astype(dtype)
    ref, got = both(ops.gelu_new, x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref, atol=2e-6 if dtype == np.float32 else 1e-12, rtol=1e-6)


def test_gelu_new_extremes():
    x = np.array([-1e4, -50, -9.5, -3, -1e-8, 0, 1e-8, 3, 9.5, 50, 1e4], np.float32)
    ref, got = both(ops.gelu_new, x)
    np.testing.assert_allclose(got, ref, atol=2e-6, rtol=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
def test_gelu_erf(shape):
    x = np.random.default_rng(2).normal(0, 3, shape).astype(np.float32)
    ref, got = both(ops.gelu, x)
    np.testing.assert_allclose(got, ref, atol=2e-6)  # float32 erf: within 1.1e-6 of exact


@pytest.mark.parametrize("shape", SHAPES)
def test_softmax(shape):
    x = np.random.default_rng(3).normal(0, 5, shape).astype(np.float32)
    ref, got = both(ops.softmax, x)
    np.testing.assert_allclose(got, ref, atol=1e-7, rtol=1e-6)  # float32 rounding near 1
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("b,h,q,k", [(1, 1, 1, 1), (2, 3, 5, 5), (1, 12, 1, 40), (2, 2, 7, 19)])
def test_masked_softmax_causal_padding_and_fully_masked_rows(b, h, q, k):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 4, (b, h, q, k)).astype(np.float32)
    causal = np.arange(k)[None, :] <= np.arange(q)[:, None] + (k - q)  # [q, k]
    pad = rng.random((b, 1, 1, k)) > 0.3
    pad[0, 0, 0, :] = False  # batch row 0 fully padded: every query row fully masked
    for mask in (causal, pad, causal & pad):
        ref, got = both(ops.softmax, x, mask=mask)
        np.testing.assert_allclose(got, ref, atol=1e-7)
        assert np.isfinite(got).all()
    ref, got = both(ops.softmax, x, mask=causal & pad)
    if b:  # fully masked rows are uniform, as in transformers
        np.testing.assert_allclose(got[0], 1.0 / k, atol=1e-7)


def test_backend_switch_and_errors():
    before = get_backend()
    with use_backend("numpy"):
        assert get_backend() == "numpy"
    assert get_backend() == before
    with pytest.raises(ValueError, match=r"backend must be 'numpy' or 'numba'"):
        set_backend("cuda-ish")


def test_whole_gpt2_forward_same_under_each_backend():
    from pathlib import Path

    import minitf

    model = minitf.AutoModelForCausalLM.from_pretrained(
        Path(__file__).resolve().parents[1] / "weights" / "tiny-gpt2-variant")
    ids = np.random.default_rng(5).integers(0, 557, (2, 21))
    mask = np.ones_like(ids)
    mask[1, :4] = 0
    with use_backend("numpy"):
        ref = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    with use_backend("numba"):
        got = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    np.testing.assert_allclose(got.logits, ref.logits, atol=1e-5)
    for a, r in zip(got.hidden_states, ref.hidden_states):
        np.testing.assert_allclose(a, r, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("b,h,nq,nk,d", [(1, 1, 1, 1, 8), (2, 3, 17, 17, 64), (1, 2, 1, 100, 80),
                                          (2, 2, 70, 70, 16), (1, 12, 33, 200, 64)])
def test_fused_attention_matches_reference(b, h, nq, nk, d):
    from minitf.attention import causal_mask, padding_mask, scaled_dot_product_attention

    rng = np.random.default_rng(6)
    q = rng.normal(size=(b, h, nq, d)).astype(np.float32)
    k, v = (rng.normal(size=(b, h, nk, d)).astype(np.float32) for _ in range(2))
    am = np.ones((b, nk), np.int64)
    am[-1, :nk // 3] = 0  # left padding in the last row (fully masked queries included)
    for mask in (None, causal_mask(nq, nk), padding_mask(am), causal_mask(nq, nk) & padding_mask(am)):
        with use_backend("numpy"):
            ref, _ = scaled_dot_product_attention(q, k, v, mask, 0.3)
        with use_backend("numba"):
            got, _ = scaled_dot_product_attention(q, k, v, mask, 0.3)
        np.testing.assert_allclose(got, ref, atol=2e-5, rtol=1e-5)
        assert np.isfinite(got).all()


@pytest.mark.parametrize("b,h,n,d", [(1, 1, 1, 8), (2, 12, 37, 64), (3, 4, 130, 80)])
def test_decode_step_kernel_on_cache_views(b, h, n, d):
    """One query against keys/values that are views into a bigger KV-cache buffer (heads
    strided), with left padding and a fully padded row: the decode kernel equals the reference."""
    from minitf.attention import padding_mask, scaled_dot_product_attention
    from minitf.generation.kv_cache import KVCache

    rng = np.random.default_rng(8)
    cache = KVCache(n_layer=1, capacity=n + 50)
    k, v = cache.update(0, *(rng.normal(size=(b, h, n, d)).astype(np.float32) for _ in range(2)))
    assert k.base is not None  # a view into the cache buffer, as in generation
    q = rng.normal(size=(b, h, 1, d)).astype(np.float32)
    am = np.ones((b, n), np.int64)
    am[-1, : n // 2] = 0
    if b > 2:
        am[0] = 0  # nothing visible at all: uniform weights
    for mask in (None, padding_mask(am)):
        with use_backend("numpy"):
            ref, _ = scaled_dot_product_attention(q, k, v, mask)
        with use_backend("numba"):
            got, _ = scaled_dot_product_attention(q, k, v, mask)
        np.testing.assert_allclose(got, ref, atol=2e-6, rtol=1e-5)


def test_fused_attention_memory_is_linear():
    """The kernel allocates O(n) memory: the [n, n] score matrix of the reference never exists."""
    import tracemalloc

    from minitf.attention import causal_mask, scaled_dot_product_attention

    n, d = 2048, 64
    rng = np.random.default_rng(7)
    q, k, v = (rng.normal(size=(1, 1, n, d)).astype(np.float32) for _ in range(3))
    mask = causal_mask(n, n)
    peaks, outs = {}, {}
    for backend in ("numpy", "numba"):
        with use_backend(backend):
            scaled_dot_product_attention(q, k, v, mask)  # warm-up (compilation)
            tracemalloc.start()
            outs[backend], _ = scaled_dot_product_attention(q, k, v, mask)
            peaks[backend] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    np.testing.assert_allclose(outs["numba"], outs["numpy"], atol=2e-5)  # the threaded variant
    scores_bytes = n * n * 4
    assert peaks["numpy"] >= scores_bytes
    assert peaks["numba"] < scores_bytes / 8, peaks


@pytest.mark.parametrize("n,k,m", [(1, 1, 1), (3, 5, 7), (64, 64, 64), (65, 130, 63), (200, 17, 129)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_teaching_tiled_matmul(n, k, m, dtype):
    from minitf.kernels.cpu import teaching_matmul_tiled

    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(n, k)).astype(dtype), rng.normal(size=(k, m)).astype(dtype)
    got = teaching_matmul_tiled(a, b)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, a.astype(np.float64) @ b, atol=1e-4 if dtype == np.float32 else 1e-10)


def test_teaching_tiled_matmul_errors():
    from minitf.kernels.cpu import teaching_matmul_tiled

    with pytest.raises(ValueError, match=r"teaching_matmul_tiled needs \[n, k\] @ \[k, m\]; "
                                         r"got \(2, 3\) @ \(4, 5\)"):
        teaching_matmul_tiled(np.ones((2, 3), np.float32), np.ones((4, 5), np.float32))
    with pytest.raises(TypeError, match=r"float32, float64"):
        teaching_matmul_tiled(np.ones((2, 3), np.float32), np.ones((3, 5), np.float64))


@pytest.mark.parametrize("name", ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"])
@pytest.mark.parametrize("shape,n_out", [((1, 1), 48), ((7, 33), 48), ((2, 5, 130), 48),
                                         ((2, 40, 16), 2000)])  # the last runs on all threads
def test_linear_with_fused_bias_activation(name, shape, n_out):
    """linear(..., activation=name) applies bias + activation in one in-place pass under numba
    (relu has no fused kernel: the plain path runs); both backends give the reference numbers."""
    rng = np.random.default_rng(9)
    x = rng.normal(0, 2, shape).astype(np.float32)
    w = rng.normal(0, 1, (shape[-1], n_out)).astype(np.float32)
    b = rng.normal(0, 1, n_out).astype(np.float32)
    with use_backend("numpy"):
        ref = ops.activation(name)(ops.linear(x, w, b))
    for backend in ("numpy", "numba"):
        with use_backend(backend):
            got = ops.linear(x, w, b, activation=name)
        assert got.shape == shape[:-1] + (n_out,) and got.dtype == np.float32
        np.testing.assert_allclose(got, ref, atol=2e-6, rtol=1e-6)
    with pytest.raises(ValueError, match="unknown activation function 'gleu'"):
        ops.linear(x, w, b, activation="gleu")


@pytest.mark.filterwarnings("ignore:Some weights of BertModel")  # tiny-bert has no pooler
def test_trace_records_the_linear_output_before_a_fused_activation():
    """With bias + GELU fused into the matmul, `trace` still records `intermediate.dense` as the
    Linear's own output (what transformers' module of that name returns)."""
    from minitf import AutoModel
    from minitf.debug import trace

    model = AutoModel.from_pretrained(Path(__file__).resolve().parents[1] / "weights" / "tiny-bert")
    ids = np.array([[2, 7, 9, 11, 3]])
    with trace(model) as outputs:
        out = model(input_ids=ids).last_hidden_state
    dense = outputs["encoder.layer.0.intermediate.dense"]
    np.testing.assert_allclose(outputs["encoder.layer.0.intermediate"], ops.gelu(dense), atol=1e-6)
    # the result is untouched, up to float32 rounding: traced, the GELU runs as its own pass
    # (vectorised differently from the fused bias + GELU, so a last bit may differ)
    np.testing.assert_allclose(out, model(input_ids=ids).last_hidden_state, rtol=0, atol=2e-6)
