"""Live parity against transformers on fresh random GPT-2 configs (`make parity`).

Each config is built and randomly initialised in transformers, saved as safetensors, loaded by
minitf, and compared: every module's output (through `minitf.debug`), logits with padding and
with the KV cache, and the ids of greedy and beam-search generation.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402
from minitf.debug import compare_with_transformers  # noqa: E402
from minitf.generation import logits_process as lp  # noqa: E402

pytestmark = pytest.mark.parity

CONFIGS = {
    "base": dict(n_embd=64, n_layer=2, n_head=4),
    "wide_heads": dict(n_embd=96, n_layer=3, n_head=3, n_inner=200),
    "erf_untied": dict(n_embd=48, n_layer=2, n_head=6, activation_function="gelu",
                       tie_word_embeddings=False, layer_norm_epsilon=1e-6),
    "layer_scaled": dict(n_embd=32, n_layer=4, n_head=2, scale_attn_by_inverse_layer_idx=True,
                         activation_function="relu"),
}
VOCAB = 300


def make_pair(tmp_path, name, seed=0, std=0.3):
    torch.manual_seed(seed)
    cfg = transformers.GPT2Config(vocab_size=VOCAB, n_positions=96, bos_token_id=VOCAB - 1,
                                  eos_token_id=VOCAB - 1, **CONFIGS[name])
    cfg._attn_implementation = "eager"
    hf = transformers.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():  # peaked logits: generated ids must not hinge on 1e-7 rounding
        for pname, p in hf.named_parameters():
            p.normal_(0.0, std if p.ndim >= 2 else 0.05)
            if "ln" in pname and pname.endswith("weight"):
                p.uniform_(0.8, 1.2)
    folder = tmp_path / name
    hf.save_pretrained(folder, safe_serialization=True)
    return minitf.AutoModelForCausalLM.from_pretrained(folder), hf


@pytest.fixture(params=list(CONFIGS))
def pair(request, tmp_path):
    return make_pair(tmp_path, request.param)


def _batch(seed=1, lengths=(9, 5, 12)):
    """A left-padded batch with its mask (pad id 0)."""
    rng = np.random.default_rng(seed)
    t = max(lengths)
    ids = np.zeros((len(lengths), t), np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, t - n:] = rng.integers(1, VOCAB - 1, n)
        mask[i, t - n:] = 1
    return ids, mask


def test_every_module_matches(pair):
    model, hf = pair
    ids = np.random.default_rng(0).integers(0, VOCAB, (2, 17))
    report = compare_with_transformers(model, hf, input_ids=ids)
    assert report.first is None, str(report)
    assert len(report.rows) >= 4 * model.config.n_layer  # blocks, attentions, MLPs, norms compared


def test_logits_hidden_states_attentions(pair):
    model, hf = pair
    ids = np.random.default_rng(2).integers(0, VOCAB, (2, 11))
    ours = model(input_ids=ids, output_hidden_states=True, output_attentions=True)
    with torch.no_grad():
        ref = hf(torch.from_numpy(ids), output_hidden_states=True, output_attentions=True)
    np.testing.assert_allclose(ours.logits, ref.logits.numpy(), atol=1e-4, rtol=0)
    for a, b in zip(ours.hidden_states, ref.hidden_states, strict=True):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-4, rtol=1e-5)  # residual stream grows
    for a, b in zip(ours.attentions, ref.attentions, strict=True):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5, rtol=0)


def test_padded_batch_and_kv_cache(pair):
    model, hf = pair
    ids, mask = _batch()
    pos = np.cumsum(mask, -1) - 1
    pos[mask == 0] = 1
    ours = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits
    with torch.no_grad():
        ref = hf(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                 position_ids=torch.from_numpy(pos)).logits.numpy()
    real = mask.astype(bool)
    np.testing.assert_allclose(ours[real], ref[real], atol=1e-4, rtol=0)
    # the cache: the prompt in one call, then 3 tokens one at a time == one call over everything
    full = np.random.default_rng(3).integers(0, VOCAB, (1, 10))
    whole = model(input_ids=full).logits
    out = model(input_ids=full[:, :7], use_cache=True)
    cache = out.past_key_values
    steps = [out.logits[:, -1]]
    for t in range(7, 10):
        out = model(input_ids=full[:, t:t + 1], past_key_values=cache, use_cache=True)
        steps.append(out.logits[:, -1])
    np.testing.assert_allclose(np.stack(steps[:-1], 1), whole[:, 6:9], atol=1e-4, rtol=0)
    # the legacy tuple form is accepted too and gives the same numbers
    legacy = model(input_ids=full[:, :7], use_cache=True).past_key_values.to_legacy()
    out = model(input_ids=full[:, 7:8], past_key_values=legacy)
    np.testing.assert_allclose(out.logits[:, -1], whole[:, 7], atol=1e-4, rtol=0)


GEN_CASES = [
    dict(max_new_tokens=15),
    dict(max_new_tokens=15, repetition_penalty=1.4, no_repeat_ngram_size=2),
    dict(max_new_tokens=15, min_new_tokens=10, eos_token_id="PICK"),
    dict(max_new_tokens=15, eos_token_id="PICK"),
    dict(max_length=20),
    dict(max_new_tokens=12, num_beams=2),
    dict(max_new_tokens=12, num_beams=4, num_return_sequences=3, eos_token_id="PICK"),
    dict(max_new_tokens=12, num_beams=3, early_stopping=True, eos_token_id="PICK"),
    dict(max_new_tokens=12, num_beams=3, early_stopping="never", length_penalty=1.5,
         eos_token_id="PICK"),
    dict(max_new_tokens=12, num_beams=5, length_penalty=0.0, eos_token_id="PICK",
         no_repeat_ngram_size=3),
    dict(max_new_tokens=12, num_beams=3, length_penalty=-2.0, eos_token_id=["PICK", 7]),
]


@pytest.mark.parametrize("kwargs", GEN_CASES, ids=[str(i) for i in range(len(GEN_CASES))])
def test_generate_same_ids(pair, kwargs):
    model, hf = pair
    ids, mask = _batch(seed=5)
    kwargs = dict(kwargs)
    with torch.no_grad():  # an EOS id that the greedy continuation of row 0 meets early
        greedy = hf.generate(torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                             max_new_tokens=6, do_sample=False, pad_token_id=0)
    pick = int(greedy[0, ids.shape[1] + 2])
    eos = kwargs.get("eos_token_id")
    if eos == "PICK":
        kwargs["eos_token_id"] = pick
    elif isinstance(eos, list):
        kwargs["eos_token_id"] = [pick if e == "PICK" else e for e in eos]
    ours = model.generate(ids, attention_mask=mask, pad_token_id=0, **kwargs)
    with torch.no_grad():
        ref = hf.generate(torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                          pad_token_id=0, do_sample=False, **kwargs).numpy()
    if "repetition_penalty" in kwargs:
        # transformers 4.x penalises the pad id (0) in padded rows, so its row 1 differs from
        # the same prompt alone; minitf never counts padding as text (as transformers 5), so
        # each row must be transformers' ids for that prompt alone, then pad fill
        ref = _rows_alone(hf, ids, mask, dict(kwargs, pad_token_id=0, do_sample=False))
    np.testing.assert_array_equal(ours, ref, err_msg=str(kwargs))
    # and without the cache, the same ids
    np.testing.assert_array_equal(model.generate(ids, attention_mask=mask, pad_token_id=0,
                                                 use_cache=False, **kwargs), ref)


def _rows_alone(hf, ids, mask, kwargs):
    """transformers' generate on each unpadded prompt, put back in the padded batch's layout."""
    rows = []
    with torch.no_grad():
        for row, keep in zip(ids, mask.astype(bool)):
            alone = hf.generate(torch.from_numpy(row[keep][None]), **kwargs).numpy()[0]
            rows.append(np.concatenate([row[~keep], alone]))
    width = max(len(r) for r in rows)
    return np.stack([np.pad(r, (0, width - len(r)), constant_values=kwargs["pad_token_id"])
                     for r in rows])


def test_first_divergence_is_reported(tmp_path):
    model, hf = make_pair(tmp_path, "base")
    fc = model.transformer.h[1].mlp.c_fc
    fc.bias = fc.bias + 0.01  # a bug planted in layer 1's MLP (weights are read-only memory maps)
    report = compare_with_transformers(model, hf, input_ids=np.arange(8)[None])
    assert report.first[0] == "transformer.h.1.mlp.c_fc", str(report)
    assert "first divergence: transformer.h.1.mlp.c_fc" in str(report)


# -- logits processors against transformers' own, on random scores --------------------------
def _hf_proc(name, *args, **kw):
    import transformers.generation.logits_process as hp
    return getattr(hp, name)(*args, **kw)


@pytest.mark.parametrize("ours,theirs", [
    (lambda: lp.RepetitionPenaltyLogitsProcessor(1.7), lambda: _hf_proc("RepetitionPenaltyLogitsProcessor", 1.7)),
    (lambda: lp.NoRepeatNGramLogitsProcessor(2), lambda: _hf_proc("NoRepeatNGramLogitsProcessor", 2)),
    (lambda: lp.NoRepeatNGramLogitsProcessor(3), lambda: _hf_proc("NoRepeatNGramLogitsProcessor", 3)),
    (lambda: lp.TemperatureLogitsWarper(0.7), lambda: _hf_proc("TemperatureLogitsWarper", 0.7)),
    (lambda: lp.TopKLogitsWarper(5), lambda: _hf_proc("TopKLogitsWarper", 5)),
    (lambda: lp.TopPLogitsWarper(0.8), lambda: _hf_proc("TopPLogitsWarper", 0.8)),
    (lambda: lp.TopPLogitsWarper(0.3, 2), lambda: _hf_proc("TopPLogitsWarper", 0.3, min_tokens_to_keep=2)),
    (lambda: lp.MinNewTokensLogitsProcessor(4, 3, [1, 5]),
     lambda: _hf_proc("MinNewTokensLengthLogitsProcessor", 4, 3, [1, 5])),
    (lambda: lp.MinLengthLogitsProcessor(8, [1, 5]), lambda: _hf_proc("MinLengthLogitsProcessor", 8, [1, 5])),
    (lambda: lp.ForcedEOSTokenLogitsProcessor(7, [2, 4]),
     lambda: _hf_proc("ForcedEOSTokenLogitsProcessor", 7, [2, 4])),
    (lambda: lp.SuppressTokensLogitsProcessor([3, 9]), lambda: _hf_proc("SuppressTokensLogitsProcessor", [3, 9])),
    (lambda: lp.SuppressTokensAtBeginLogitsProcessor([0, 7], 6),
     lambda: _hf_proc("SuppressTokensAtBeginLogitsProcessor", [0, 7], 6)),
])
def test_logits_processors_match(ours, theirs):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, (3, 6))  # small alphabet: n-grams repeat
    ids[0, :3] = ids[0, 3:]
    scores = rng.normal(0, 2, (3, 20)).astype(np.float32)
    got = ours()(ids, scores)
    want = theirs()(torch.from_numpy(ids), torch.from_numpy(scores.copy())).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
