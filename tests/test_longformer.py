"""Longformer: golden-fixture parity (weights/make_fixtures_longformer.py; no torch), the local +
global attention against dense attention with the same mask written out in NumPy, memory that
grows with n * window, and clear errors on bad input."""
import doctest
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.attention import (band_matmul, band_scores, dense_attention_weights, local_global_mask,
                              scaled_dot_product_attention, sliding_window_attention)
from minitf.attention.local_global import global_positions
from minitf.backend import use_backend

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "longformer_expected.npz"
WEIGHTS = ROOT / "weights"
ATOL = 1e-4
AUTO = {"LongformerModel": minitf.AutoModel, "LongformerForMaskedLM": minitf.AutoModelForMaskedLM,
        "LongformerForSequenceClassification": minitf.AutoModelForSequenceClassification}
MODELS = json.loads(str(np.load(FIXTURES)["meta/models"]))  # folder -> transformers class name
INPUTS = ("input_ids", "attention_mask", "global_attention_mask", "token_type_ids")


@pytest.fixture(scope="module")
def expected():
    return dict(np.load(FIXTURES))


@pytest.fixture(scope="module", params=list(MODELS))
def case(request):
    tag = request.param
    return tag, AUTO[MODELS[tag]].from_pretrained(WEIGHTS / tag)


def cases_of(expected, tag):
    return sorted({k.split("/")[1] for k in expected if k.startswith(tag + "/")})


def inputs(expected, tag, name):
    return {k: expected[f"{tag}/{name}/{k}"] for k in INPUTS if f"{tag}/{name}/{k}" in expected}


# -- golden fixtures ---------------------------------------------------------------------------------
def test_auto_class_picks_the_checkpoint_class(case):
    tag, model = case
    assert type(model).__name__ == MODELS[tag]


def test_every_output_matches_transformers(case, expected):
    tag, model = case
    names = cases_of(expected, tag)
    assert {"noglobal", "global", "multiple_types", "short_nomask", "text"} <= set(names)
    for name in names:
        x = inputs(expected, tag, name)
        t = x["input_ids"].shape[1]
        out = model(**x, output_hidden_states=True, output_attentions=True)
        msg = f"{tag}/{name}"
        for field in ("logits", "last_hidden_state", "pooler_output"):
            if f"{tag}/{name}/{field}" in expected:
                np.testing.assert_allclose(out[field], expected[f"{tag}/{name}/{field}"], atol=ATOL,
                                           rtol=0, err_msg=f"{msg} {field}")
                assert out[field].dtype == np.float32
        n_layers = model.config.num_hidden_layers
        assert len(out.hidden_states) == n_layers + 1 and len(out.attentions) == n_layers
        for i, h in enumerate(out.hidden_states):
            assert h.shape[1] == t
            np.testing.assert_allclose(h, expected[f"{tag}/{name}/hidden_{i}"], atol=ATOL, rtol=0,
                                       err_msg=f"{msg} hidden_{i}")
        for i, a in enumerate(out.attentions):  # [b, h, t, x + window + 1], transformers' layout
            np.testing.assert_allclose(a, expected[f"{tag}/{name}/attn_{i}"], atol=ATOL, rtol=0,
                                       err_msg=f"{msg} attn_{i}")
        n_global = sum(k.startswith(f"{tag}/{name}/global_attn_") for k in expected)
        if n_global == 0:
            assert out.global_attentions is None, msg
            continue
        assert len(out.global_attentions) == n_layers == n_global
        for i, a in enumerate(out.global_attentions):  # transformers keeps the padded length
            ref = expected[f"{tag}/{name}/global_attn_{i}"]
            assert a.shape == ref[:, :, :t].shape
            np.testing.assert_allclose(a, ref[:, :, :t], atol=ATOL, rtol=0,
                                       err_msg=f"{msg} global_attn_{i}")


def test_attention_shapes_follow_each_layers_window(expected):
    model = minitf.AutoModel.from_pretrained(WEIGHTS / "tiny-longformer-base")  # windows [8, 4, 4]
    x = inputs(expected, "tiny-longformer-base", "global")  # 19 tokens, at most 3 global per row
    out = model(**x, output_attentions=True)
    assert [a.shape for a in out.attentions] == [(3, 4, 19, 3 + w + 1) for w in (8, 4, 4)]
    assert [a.shape for a in out.global_attentions] == [(3, 4, 19, 3)] * 3


def test_int_window_in_config(expected):
    cfg = minitf.AutoConfig.from_pretrained(WEIGHTS / "tiny-longformer-seqcls")
    assert cfg.attention_window == 6 and isinstance(cfg, minitf.LongformerConfig)
    model = minitf.AutoModelForSequenceClassification.from_pretrained(WEIGHTS / "tiny-longformer-seqcls")
    assert model.longformer.attention_windows == [6, 6, 6]


def test_sequence_classifier_puts_global_attention_on_the_first_token(expected):
    model = minitf.AutoModelForSequenceClassification.from_pretrained(WEIGHTS / "tiny-longformer-seqcls")
    x = inputs(expected, "tiny-longformer-seqcls", "noglobal")
    g = np.zeros_like(x["input_ids"])
    g[:, 0] = 1
    np.testing.assert_array_equal(model(**x).logits, model(**x, global_attention_mask=g).logits)
    out = model(**x, output_attentions=True)
    assert out.global_attentions[0].shape[-1] == 1


def test_one_sequence_alone_equals_the_same_sequence_in_a_padded_batch(expected):
    model = minitf.AutoModelForMaskedLM.from_pretrained(WEIGHTS / "tiny-longformer")
    x = inputs(expected, "tiny-longformer", "global")
    n = int(x["attention_mask"][2].sum())  # row 2: 15 tokens, padded to 19
    batch = model(**x).logits[2, :n]
    alone = model(input_ids=x["input_ids"][2:3, :n],
                  global_attention_mask=x["global_attention_mask"][2:3, :n]).logits[0]
    np.testing.assert_allclose(batch, alone, atol=1e-5, rtol=0)


def test_inputs_embeds_equal_input_ids_and_one_dimensional_ids(expected):
    model = minitf.AutoModel.from_pretrained(WEIGHTS / "tiny-longformer-base")
    ids = inputs(expected, "tiny-longformer-base", "short_nomask")["input_ids"]  # no padding id inside
    g = np.array([[1, 0, 0, 1, 0]])
    ref = model(ids, global_attention_mask=g).last_hidden_state
    emb = model.embeddings.word_embeddings.weight[ids]  # [1, 5, d]
    np.testing.assert_allclose(model(inputs_embeds=emb, global_attention_mask=g).last_hidden_state,
                               ref, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(model(ids[0], global_attention_mask=g).last_hidden_state, ref)


def test_numpy_and_numba_backends_agree(expected):
    model = minitf.AutoModelForMaskedLM.from_pretrained(WEIGHTS / "tiny-longformer")
    x = inputs(expected, "tiny-longformer", "global")
    with use_backend("numpy"):
        reference = model(**x).logits
    np.testing.assert_allclose(model(**x).logits, reference, atol=1e-5, rtol=0)


def test_head_mask_silences_a_head(expected):
    model = minitf.AutoModel.from_pretrained(WEIGHTS / "tiny-longformer-base")
    x = inputs(expected, "tiny-longformer-base", "global")
    hm = np.ones((3, 4), np.float32)
    hm[1, 2] = 0
    out = model(**x, head_mask=hm, output_attentions=True)
    assert not out.attentions[1][:, 2].any() and not out.global_attentions[1][:, 2].any()
    assert out.attentions[1][:, 1].any()
    plain = model(**x).last_hidden_state
    assert np.abs(out.last_hidden_state - plain).max() > 1e-3


# -- the attention function against dense attention ---------------------------------------------------
def dense_mask(n, window, is_global, real):
    """Written out independently: query i may see key j when both are real tokens and
    |i - j| <= window // 2, or either of them is global. [b, n, n] bool."""
    w = window // 2
    b = is_global.shape[0]
    m = np.zeros((b, n, n), bool)
    for r in range(b):
        for i in range(n):
            for j in range(n):
                if real[r, i] and real[r, j]:
                    m[r, i, j] = abs(i - j) <= w or is_global[r, i] or is_global[r, j]
    return m


def dense_reference(q, k, v, mask, real):
    """float64 softmax attention with `mask` [b, n, n], zero rows for padding queries."""
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    out, weights = scaled_dot_product_attention(q, k, v, mask[:, None], return_weights=True)
    keep = real[:, None, :, None]
    return out * keep, weights * keep


def random_qkv(rng, b, h, n, d):
    return [rng.standard_normal((b, h, n, d)).astype(np.float32) for _ in range(3)]


@pytest.mark.parametrize("b,h,n,d,window", [(1, 1, 16, 4, 4), (2, 3, 13, 8, 4), (2, 2, 37, 4, 6),
                                            (1, 2, 9, 5, 2), (3, 1, 64, 8, 16)])
def test_band_equals_dense_band_mask(b, h, n, d, window):
    rng = np.random.default_rng(n)
    q, k, v = random_qkv(rng, b, h, n, d)
    real, no_global = np.ones((b, n), bool), np.zeros((b, n), bool)
    ref, ref_w = dense_reference(q, k, v, dense_mask(n, window, no_global, real), real)
    out, local_w, global_w = sliding_window_attention(q, k, v, window, return_weights=True)
    assert out.dtype == local_w.dtype == np.float32 and global_w is None
    assert local_w.shape == (b, h, n, window + 1)
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(dense_attention_weights(local_w, None, window), ref_w, atol=1e-6, rtol=0)
    # the band layout: column j of row i is key i - w + j
    w, i = window // 2, n // 2
    np.testing.assert_allclose(local_w[..., i, :], ref_w[..., i, i - w:i + w + 1], atol=1e-6, rtol=0)


@pytest.mark.parametrize("b,h,n,d,window", [(2, 3, 13, 4, 4), (3, 2, 32, 8, 6), (1, 1, 7, 3, 20)])
def test_globals_and_padding_equal_the_dense_masked_version(b, h, n, d, window):
    rng = np.random.default_rng(100 + n)
    q, k, v = random_qkv(rng, b, h, n, d)
    is_global = rng.random((b, n)) < 0.2
    is_global[0, :2] = [True, False]
    real = np.ones((b, n), bool)
    real[-1, n - 3:] = False  # the last row is padded
    is_global[-1, n - 1] = True  # global on padding: dropped
    out, local_w, global_w = sliding_window_attention(q, k, v, window, is_global, real.astype(int),
                                                      return_weights=True)
    g = is_global & real
    ref, ref_w = dense_reference(q, k, v, dense_mask(n, window, g, real), real)
    np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)
    x = int(g.sum(1).max())
    assert local_w.shape == (b, h, n, x + window + 1) and global_w.shape == (b, h, n, x)
    np.testing.assert_allclose(dense_attention_weights(local_w, global_w, window, is_global, real),
                               ref_w, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(local_global_mask(n, window, is_global, real),
                                  dense_mask(n, window, g, real))
    assert not local_w[~np.broadcast_to((real & ~g)[:, None], (b, h, n))].any()  # global/padding rows


def test_global_rows_use_their_own_projections():
    rng = np.random.default_rng(5)
    b, h, n, d, window = 2, 2, 11, 4, 4
    q, k, v = random_qkv(rng, b, h, n, d)
    qg, kg, vg = random_qkv(rng, b, h, n, d)
    is_global = np.zeros((b, n), bool)
    is_global[0, [0, 6]] = True
    is_global[1, 3] = True
    out = sliding_window_attention(q, k, v, window, is_global, global_qkv=(qg, kg, vg))
    real = np.ones((b, n), bool)
    local_ref, _ = dense_reference(q, k, v, dense_mask(n, window, is_global, real), real)
    global_ref, _ = dense_reference(qg, kg, vg, np.ones((b, n, n), bool), real)
    rows = np.broadcast_to(is_global[:, None, :, None], out.shape)
    np.testing.assert_allclose(out, np.where(rows, global_ref, local_ref), atol=1e-5, rtol=0)


def test_window_as_long_as_the_sequence_is_full_attention():
    rng = np.random.default_rng(7)
    for n, window in [(9, 16), (8, 14), (12, 200)]:
        q, k, v = random_qkv(rng, 2, 2, n, 4)
        ref, _ = scaled_dot_product_attention(*(a.astype(np.float64) for a in (q, k, v)))
        np.testing.assert_allclose(sliding_window_attention(q, k, v, window), ref, atol=1e-5, rtol=0)


def test_padding_is_invisible_to_real_tokens():
    rng = np.random.default_rng(8)
    q, k, v = random_qkv(rng, 1, 2, 20, 4)
    g = np.zeros(20, int)
    g[[2, 9]] = 1
    pad = np.r_[np.ones(14, int), np.zeros(6, int)]
    out = sliding_window_attention(q, k, v, 6, g, pad)
    alone = sliding_window_attention(q[..., :14, :], k[..., :14, :], v[..., :14, :], 6, g[:14])
    np.testing.assert_allclose(out[..., :14, :], alone, atol=1e-6, rtol=0)
    assert not out[..., 14:, :].any()  # padding queries give zeros


def test_one_head_and_several_heads_without_batch():
    rng = np.random.default_rng(9)
    q, k, v = random_qkv(rng, 1, 3, 10, 4)
    many = sliding_window_attention(q[0], k[0], v[0], 4, global_mask=[1] + [0] * 9)  # [h, n, d]
    one = sliding_window_attention(q[0, 1], k[0, 1], v[0, 1], 4, global_mask=[1] + [0] * 9)  # [n, d]
    assert many.shape == (3, 10, 4) and one.shape == (10, 4)
    np.testing.assert_allclose(many[1], one, atol=1e-6, rtol=0)


def test_band_scores_and_band_matmul_are_the_band_of_dense_products():
    rng = np.random.default_rng(10)
    n, d, w = 19, 3, 3
    q, k = rng.standard_normal((2, n, d)).astype(np.float32)
    p = rng.standard_normal((n, 2 * w + 1)).astype(np.float32)
    scores, out = band_scores(q, k, w), band_matmul(p, k, w)
    full = q @ k.T
    dense_p = np.zeros((n, n), np.float32)
    for i in range(n):
        for j in range(2 * w + 1):
            key = i - w + j
            if 0 <= key < n:
                assert abs(scores[i, j] - full[i, key]) < 1e-5
                dense_p[i, key] = p[i, j]
    np.testing.assert_allclose(out, dense_p @ k, atol=1e-5, rtol=0)


def test_global_positions_slots():
    pos, ok = global_positions(np.array([[0, 1, 0, 1, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]], bool))
    assert pos[0].tolist() == [1, 3, 4] and ok.tolist() == [[1, 1, 1], [0, 0, 0], [1, 0, 0]]


def test_memory_grows_with_n_times_window_not_n_squared():
    n, d, window = 8192, 16, 16
    rng = np.random.default_rng(11)
    q, k, v = (rng.standard_normal((1, 1, n, d)).astype(np.float32) for _ in range(3))
    g = np.zeros(n, int)
    g[[0, 4000]] = 1
    small = (a[..., :64, :] for a in (q, k, v))
    sliding_window_attention(*small, window, g[:64])  # load the kernels before measuring
    tracemalloc.start()
    sliding_window_attention(q, k, v, window, g)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40 * n * window * 4  # a few band-sized arrays ...
    assert peak < n * n * 4 / 20  # ... against 256 MB for one [n, n] float32 matrix


def test_attention_function_errors():
    q = np.zeros((1, 2, 8, 4), np.float32)
    for bad in (3, 0, -2, 2.0, None):
        with pytest.raises(ValueError, match="window"):
            sliding_window_attention(q, q, q, bad)
    with pytest.raises(ValueError, match="same shape"):
        sliding_window_attention(q, q[..., :7, :], q, 4)
    with pytest.raises(ValueError, match="global_mask has shape"):
        sliding_window_attention(q, q, q, 4, global_mask=np.zeros((1, 7)))
    with pytest.raises(ValueError, match="padding_mask has shape"):
        sliding_window_attention(q, q, q, 4, padding_mask=np.ones((2, 8)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        sliding_window_attention(q, q, q, 4, global_mask=np.full(8, 2))
    with pytest.raises(ValueError, match=r"\[n, d\]"):
        sliding_window_attention(q[0, 0, 0], q[0, 0, 0], q[0, 0, 0], 4)
    with pytest.raises(ValueError, match="global_qkv"):
        sliding_window_attention(q, q, q, 4, global_qkv=(q, q))


def test_docstring_examples():
    import minitf.attention.local_global as local_global
    import minitf.models.longformer as longformer

    for module in (local_global, longformer):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and (result.attempted > 0 or module is longformer)


# -- bad input to the model ---------------------------------------------------------------------------
def tiny_config(**kw):
    base = dict(vocab_size=50, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=16, max_position_embeddings=40, attention_window=[4, 8])
    return minitf.LongformerConfig(**{**base, **kw})


@pytest.mark.parametrize("window,match", [(5, r"attention_window=5: .*even"),
                                          (0, r"attention_window=0: .*positive"),
                                          (-4, "positive"),
                                          ([4, 7], r"attention_window\[1\]=7"),
                                          ([4, 8, 8], "3 entries, but num_hidden_layers=2"),
                                          ("512", "attention_window")])
def test_bad_attention_window_in_config(window, match):
    with pytest.raises(ValueError, match=match):
        minitf.LongformerModel(tiny_config(attention_window=window))


def test_bad_model_inputs():
    model = minitf.LongformerModel(tiny_config()).init_weights(seed=0)
    ids = np.array([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]])
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
    with pytest.raises(ValueError, match=r"global_attention_mask has shape \(2, 4\)"):
        model(ids, attention_mask=mask, global_attention_mask=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="global_attention_mask must hold only 0 and 1"):
        model(ids, global_attention_mask=np.full((2, 5), 2))
    with pytest.raises(ValueError, match=r"attention_mask has shape \(2, 5, 5\)"):
        model(ids, attention_mask=np.ones((2, 5, 5)))
    with pytest.raises(ValueError, match="attention_mask must hold only 0 and 1"):
        model(ids, attention_mask=mask * 2)
    with pytest.raises(ValueError, match="token_type_ids has shape"):
        model(ids, token_type_ids=np.zeros((2, 3), int))
    with pytest.raises(IndexError, match="type_vocab_size"):
        model(ids, token_type_ids=np.full((2, 5), 2))
    with pytest.raises(IndexError, match="vocab_size"):
        model(ids + 100)
    with pytest.raises(IndexError, match="max_position_embeddings"):
        model(ids, position_ids=np.arange(5) + 40)
    with pytest.raises(ValueError, match="exactly one of input_ids or inputs_embeds"):
        model(ids, inputs_embeds=np.zeros((2, 5, 8), np.float32))
    with pytest.raises(ValueError, match="exceeds the model's limit"):
        model(np.full((1, 45), 7))
    with pytest.raises(ValueError, match="head_mask has 3 rows"):
        model(ids, head_mask=np.ones((3, 2)))
    with pytest.raises(ValueError, match="not divisible by num_attention_heads"):
        minitf.LongformerModel(tiny_config(num_attention_heads=3))
