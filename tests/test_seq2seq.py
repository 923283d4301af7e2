"""BART, DistilBART, BART-MNLI and Marian against the golden outputs of transformers
(tests/fixtures/seq2seq_expected.npz, made by weights/make_fixtures_seq2seq.py): forward
outputs, generate() ids for greedy and beam search with and without the cache, the cache's
two parts, loading rules and the errors a student meets."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.generation.kv_cache import EncoderDecoderCache

ROOT = Path(__file__).resolve().parents[1]
W = ROOT / "weights"
E = np.load(ROOT / "tests" / "fixtures" / "seq2seq_expected.npz")
CASES = json.loads((ROOT / "tests" / "fixtures" / "seq2seq_cases.json").read_text())
SEQ2SEQ = ["tiny-bart", "tiny-distilbart", "tiny-marian"]


def load(name):
    return minitf.AutoModelForSeq2SeqLM.from_pretrained(W / name)


@pytest.fixture(scope="module")
def bart():
    return load("tiny-bart")


@pytest.mark.parametrize("name", SEQ2SEQ)
def test_forward_matches_transformers(name):
    model = load(name)
    out = model(input_ids=E[f"{name}/input_ids"], attention_mask=E[f"{name}/attention_mask"],
                decoder_input_ids=E[f"{name}/decoder_input_ids"], output_hidden_states=True,
                output_attentions=True)
    np.testing.assert_allclose(out.logits, E[f"{name}/logits"], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(out.encoder_last_hidden_state, E[f"{name}/encoder_last_hidden_state"],
                               atol=1e-4, rtol=1e-4)
    for field, key in (("decoder_hidden_states", "decoder_hidden_states"),
                       ("cross_attentions", "cross_attentions"),
                       ("decoder_attentions", "decoder_attentions"),
                       ("encoder_attentions", "encoder_attentions")):
        got = getattr(out, field)
        n = sum(1 for k in E.files if k.startswith(f"{name}/{key}/"))
        assert len(got) == n > 0
        for i, a in enumerate(got):
            np.testing.assert_allclose(a, E[f"{name}/{key}/{i}"], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("use_cache", [True, False])
def test_generate_gives_transformers_ids(case, use_cache):
    c = CASES[case]
    model = load(c["folder"])
    src = c["inputs"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # options the strategy ignores warn, as in transformers
        got = model.generate(E[f"{src}/input_ids"], attention_mask=E[f"{src}/attention_mask"],
                             use_cache=use_cache, **c["kwargs"])
    np.testing.assert_array_equal(got, E[f"generate/{case}/{'cache' if use_cache else 'nocache'}"])


def test_sequence_classification_matches_transformers():
    nli = minitf.AutoModelForSequenceClassification.from_pretrained(W / "tiny-bart-mnli")
    assert type(nli).__name__ == "BartForSequenceClassification"
    assert nli.config.id2label == {0: "contradiction", 1: "neutral", 2: "entailment"}
    logits = nli(input_ids=E["tiny-bart-mnli/input_ids"],
                 attention_mask=E["tiny-bart-mnli/attention_mask"]).logits
    np.testing.assert_allclose(logits, E["tiny-bart-mnli/logits"], atol=1e-4, rtol=1e-4)


def test_eos_counts_must_match():
    nli = minitf.AutoModelForSequenceClassification.from_pretrained(W / "tiny-bart-mnli")
    with pytest.raises(ValueError, match=r"same number of <eos> tokens.*counts per row: \[1, 2\]"):
        nli(input_ids=np.array([[0, 31, 2, 1], [0, 2, 40, 2]]))


def test_encoder_outputs_are_reused(bart):
    ids, mask = E["tiny-bart/input_ids"], E["tiny-bart/attention_mask"]
    dec = E["tiny-bart/decoder_input_ids"]
    enc = bart.get_encoder()(input_ids=ids, attention_mask=mask)
    full = bart(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
    for given in (enc, (enc.last_hidden_state,), {"last_hidden_state": enc.last_hidden_state}):
        again = bart(attention_mask=mask, decoder_input_ids=dec, encoder_outputs=given).logits
        np.testing.assert_array_equal(again, full)


def test_cache_has_a_growing_self_part_and_a_fixed_cross_part(bart):
    ids, mask = E["tiny-bart/input_ids"], E["tiny-bart/attention_mask"]
    dec = E["tiny-bart/decoder_input_ids"]
    full = bart(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
    enc = bart.get_encoder()(input_ids=ids, attention_mask=mask)
    cache = bart.new_cache()
    assert isinstance(cache, EncoderDecoderCache)
    steps = []
    for t in range(dec.shape[1]):
        out = bart(attention_mask=mask, decoder_input_ids=dec[:, t:t + 1], encoder_outputs=enc,
                   past_key_values=cache, use_cache=True)
        steps.append(out.logits[:, 0])
        if t == 0:
            cross = [kv[0] for kv in cache.cross_attention]
        assert cache.get_seq_length() == t + 1
        assert all(kv[0] is c for kv, c in zip(cache.cross_attention, cross))  # never recomputed
    assert cross[0].shape == (3, 4, ids.shape[1], 8)  # [b, heads, source, head_dim]
    np.testing.assert_allclose(np.stack(steps, 1), full, atol=1e-5, rtol=1e-5)
    legacy = cache.to_legacy()
    assert len(legacy) == 2 and len(legacy[0]) == 4
    again = EncoderDecoderCache.from_legacy(legacy)
    assert again.get_seq_length() == dec.shape[1]


def test_beam_search_reorders_only_the_self_attention_part(bart):
    cache = bart.new_cache()
    k = np.arange(2 * 1 * 3 * 2, dtype=np.float32).reshape(2, 1, 3, 2)
    cache.update(0, k, k)
    cross = (np.zeros((2, 1, 5, 2), np.float32), np.ones((2, 1, 5, 2), np.float32))
    cache.cross_attention[0] = cross
    cache.reorder(np.array([1, 1]))
    np.testing.assert_array_equal(cache.self_attention_cache.keys[0][:, :, :3], k[[1, 1]])
    assert cache.cross_attention[0] is cross


def test_generation_defaults_come_from_the_checkpoint(bart):
    cfg = bart.generation_config
    assert (cfg.num_beams, cfg.length_penalty, cfg.no_repeat_ngram_size, cfg.min_length,
            cfg.forced_bos_token_id, cfg.forced_eos_token_id, cfg.decoder_start_token_id) == \
        (4, 2.0, 3, 6, 0, 2, 2)
    out = bart.generate(E["sources/input_ids"], attention_mask=E["sources/attention_mask"])
    assert (out[:, 0] == 2).all() and (out[:, 1] == 0).all()  # decoder start, then forced <s>
    assert out.shape[1] <= cfg.max_length  # max_length counts the decoder side, start included
    stats = bart.generation_stats
    assert stats.prompt_tokens == E["sources/input_ids"].shape[1] and stats.encoder_time > 0
    assert "of which encoder" in str(stats)


def test_marian_generation_bans_pad_and_starts_from_it():
    marian = load("tiny-marian")
    assert marian.generation_config.bad_words_ids == [[marian.config.pad_token_id]]
    out = marian.generate(E["marian_sources/input_ids"], attention_mask=E["marian_sources/attention_mask"],
                          max_new_tokens=6, num_beams=1)
    assert (out[:, 0] == marian.config.pad_token_id).all()
    assert not (out[:, 1:] == marian.config.pad_token_id).any() or (out == marian.config.eos_token_id).any()


def test_streamer_and_sampling(bart):
    tok = minitf.AutoTokenizer.from_pretrained(W / "tiny-bart")
    pieces = []

    class Collect:
        def put(self, ids):
            pieces.append(np.asarray(ids).reshape(-1).tolist())

        def end(self):
            pieces.append("end")

    ids = E["sources/input_ids"][:1]
    out = bart.generate(ids, num_beams=1, max_new_tokens=5, streamer=Collect())
    assert pieces[0] == [2] and pieces[-1] == "end"
    assert sum(pieces[1:-1], []) == out[0, 1:].tolist()
    a = bart.generate(ids, num_beams=1, do_sample=True, seed=3, max_new_tokens=6)
    b = bart.generate(ids, num_beams=1, do_sample=True, seed=3, max_new_tokens=6)
    np.testing.assert_array_equal(a, b)
    assert isinstance(tok.decode(a[0], skip_special_tokens=True), str)


def test_loading_a_conditional_generation_checkpoint_into_the_base_model():
    base = minitf.AutoModel.from_pretrained(W / "tiny-bart")
    assert type(base).__name__ == "BartModel"
    assert base.encoder.embed_tokens is base.shared and base.decoder.embed_tokens is base.shared
    full = load("tiny-bart")
    ids = E["tiny-bart/input_ids"]
    dec = E["tiny-bart/decoder_input_ids"]
    h = base(input_ids=ids, attention_mask=E["tiny-bart/attention_mask"], decoder_input_ids=dec)
    assert h.last_hidden_state.shape == (3, dec.shape[1], 32)
    names = set(full.state_dict())
    assert "model.shared.weight" in names and "model.encoder.embed_tokens.weight" not in names


def test_a_base_checkpoint_gets_a_fresh_head_with_a_warning(tmp_path):
    full = load("tiny-bart")
    base_dir = tmp_path / "base"
    minitf.AutoModel.from_pretrained(W / "tiny-bart").save_pretrained(base_dir)
    with pytest.warns(UserWarning, match=r"newly initialised at random: \['classification_head"):
        clf = minitf.BartForSequenceClassification.from_pretrained(base_dir)
    np.testing.assert_array_equal(clf.model.shared.weight, full.model.shared.weight)
    # a ConditionalGeneration model from a base checkpoint: final_logits_bias is zero, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen = minitf.BartForConditionalGeneration.from_pretrained(base_dir)
    assert not gen.final_logits_bias.any()


def test_save_and_reload_round_trip(tmp_path, bart):
    bart.save_pretrained(tmp_path / "saved")
    again = load(tmp_path / "saved")
    ids, dec = E["tiny-bart/input_ids"], E["tiny-bart/decoder_input_ids"]
    np.testing.assert_array_equal(again(input_ids=ids, decoder_input_ids=dec).logits,
                                  bart(input_ids=ids, decoder_input_ids=dec).logits)
    assert again.generation_config.num_beams == 4


def test_marian_positions_are_the_formula_not_the_checkpoint():
    marian = load("tiny-marian")
    table = marian.model.encoder.embed_positions.weight
    pos, d = 3, table.shape[1]
    i = np.arange(d // 2)
    expected = np.concatenate([np.sin(pos / 10000 ** (2 * i / d)), np.cos(pos / 10000 ** (2 * i / d))])
    np.testing.assert_allclose(table[pos], expected, atol=1e-6)
    assert not any("embed_positions" in n for n in marian.state_dict())


def test_labels_give_the_loss(bart):
    ids = E["tiny-bart/input_ids"]
    labels = E["tiny-bart/decoder_input_ids"][:, 1:].copy()
    labels[0, -1] = -100
    out = bart(input_ids=ids, attention_mask=E["tiny-bart/attention_mask"], labels=labels)
    logp = out.logits - np.log(np.exp(out.logits - out.logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - out.logits.max(-1, keepdims=True)
    keep = labels != -100
    manual = -np.take_along_axis(logp, np.where(keep, labels, 0)[..., None], -1)[..., 0][keep].mean()
    assert out.loss == pytest.approx(manual, rel=1e-5)


def test_bad_inputs_are_named(bart):
    ids = E["tiny-bart/input_ids"]
    with pytest.raises(ValueError, match=r"the source \(input_ids\) has 65 tokens, but the model has "
                                         r"max_position_embeddings=64; truncate it"):
        bart(input_ids=np.ones((1, 65), np.int64))
    with pytest.raises(IndexError, match=r"decoder_input_ids contains id 5000"):
        bart(input_ids=ids, decoder_input_ids=np.array([[2, 5000]] * 3))
    with pytest.raises(ValueError, match=r"attention_mask has shape \(3, 2\), but the source"):
        bart(attention_mask=np.ones((3, 2)), decoder_input_ids=np.array([[2]] * 3),
             encoder_outputs=bart.get_encoder()(input_ids=ids))
    with pytest.raises(ValueError, match=r"pass decoder_input_ids .*or input_ids"):
        bart(encoder_outputs=bart.get_encoder()(input_ids=ids))
    with pytest.raises(ValueError, match=r"bad_words_ids must be a list of non-empty lists"):
        bart.generate(ids, bad_words_ids=[5], max_new_tokens=2)
    with pytest.raises(TypeError, match=r"past_key_values must be an EncoderDecoderCache"):
        bart(input_ids=ids, past_key_values="cache")


def test_bart_tokenizer_pairs_are_transformers_ids():
    """BART's byte-level BPE with RoBERTa-style pairs, <s> A </s></s> B </s> (for NLI), padded
    on the right: the ids transformers' BartTokenizerFast gave the fixture script."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("recipe", W / "make_fixtures_seq2seq.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    tok = minitf.AutoTokenizer.from_pretrained(W / "tiny-bart-mnli")
    enc = tok([p for p, _ in recipe.PAIRS], [h for _, h in recipe.PAIRS], padding=True, return_tensors="np")
    np.testing.assert_array_equal(enc["input_ids"], E["tiny-bart-mnli/input_ids"])
    np.testing.assert_array_equal(enc["attention_mask"], E["tiny-bart-mnli/attention_mask"])
    single = tok(recipe.SOURCES, padding=True, return_tensors="np")
    np.testing.assert_array_equal(single["input_ids"], E["sources/input_ids"])
