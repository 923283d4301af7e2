"""Live parity of BART / DistilBART / BART-MNLI / Marian against transformers on fresh random
configs (`make parity`).

Each config is built in transformers, its weights drawn with std 0.3 (peaked outputs, so
argmax ties are rare) and a non-zero final_logits_bias, saved with `save_pretrained` (config,
safetensors, generation_config.json) and loaded by minitf through the Auto classes. Compared:
- the forward on a right-padded batch of sources (attention_mask) and a right-padded target
  (decoder_attention_mask): logits, every encoder / decoder hidden state and attention map,
  the cross-attentions (atol 1e-4); the loss of `labels=` (with ignored -100 positions);
- decoding with `past_key_values` (a prefix, then one token per call) against the full forward;
- the ids of generate() (greedy, beam search with length_penalty / early_stopping /
  no_repeat_ngram_size / num_return_sequences / min_length, max_length against max_new_tokens,
  forced BOS / EOS, Marian's bad_words_ids=[[pad]]), each with use_cache True and False in
  both libraries;
- BartModel's outputs and BartForSequenceClassification's logits on premise/hypothesis pairs.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402

pytestmark = pytest.mark.parity

ATOL = 1e-4
SMALL = dict(encoder_attention_heads=4, decoder_attention_heads=4, max_position_embeddings=96,
             dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, classifier_dropout=0.0)
BART_IDS = dict(pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
                forced_eos_token_id=2)

# name -> (transformers config class, kwargs, how much to favour </s> in final_logits_bias)
CONFIGS = {
    "bart_gelu_scaled": ("BartConfig", dict(
        vocab_size=211, d_model=32, encoder_layers=2, decoder_layers=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, activation_function="gelu", scale_embedding=True, **BART_IDS), 2.0),
    "bart_relu_unscaled_forced_bos": ("BartConfig", dict(
        vocab_size=257, d_model=48, encoder_layers=2, decoder_layers=2, encoder_ffn_dim=80,
        decoder_ffn_dim=96, activation_function="relu", scale_embedding=False,
        forced_bos_token_id=0, tie_word_embeddings=False, **BART_IDS), 2.5),
    "distilbart_swish_3_1": ("BartConfig", dict(
        vocab_size=160, d_model=64, encoder_layers=3, decoder_layers=1, encoder_ffn_dim=128,
        decoder_ffn_dim=64, activation_function="swish", scale_embedding=True, **BART_IDS), 1.5),
    "marian_shared": ("MarianConfig", dict(
        vocab_size=160, decoder_vocab_size=160, d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, activation_function="swish", scale_embedding=True,
        pad_token_id=159, eos_token_id=0, decoder_start_token_id=159, forced_eos_token_id=0,
        share_encoder_decoder_embeddings=True), 2.0),
    # separate encoder / decoder tables of the same size, lm_head tied to the decoder's (the
    # opus-mt checkpoints converted with separate vocabularies)
    "marian_separate_tables": ("MarianConfig", dict(
        vocab_size=180, decoder_vocab_size=180, d_model=48, encoder_layers=2, decoder_layers=2,
        encoder_ffn_dim=96, decoder_ffn_dim=96, activation_function="gelu", scale_embedding=False,
        pad_token_id=179, eos_token_id=0, decoder_start_token_id=179, forced_eos_token_id=0,
        share_encoder_decoder_embeddings=False), 2.0),
    # decoder_vocab_size < vocab_size: transformers builds the decoder's token table with
    # vocab_size rows (MarianModel hands the decoder a copy of the vocab_size table) and an
    # untied lm_head of decoder_vocab_size rows (tied, its logits would not fit the bias)
    "marian_separate_vocab_untied": ("MarianConfig", dict(
        vocab_size=200, decoder_vocab_size=150, d_model=32, encoder_layers=1, decoder_layers=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, activation_function="relu", scale_embedding=True,
        pad_token_id=149, eos_token_id=0, decoder_start_token_id=149, forced_eos_token_id=0,
        share_encoder_decoder_embeddings=False, tie_word_embeddings=False), 2.0),
}
BART = [n for n in CONFIGS if CONFIGS[n][0] == "BartConfig"]
MARIAN = [n for n in CONFIGS if CONFIGS[n][0] == "MarianConfig"]


def randomise(model, eos: int, eos_bias: float, seed: int):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embed_positions" in name and "marian" in type(model).__name__.lower():
                continue  # Marian's sinusoids are fixed (not in the checkpoint for minitf)
            if p.ndim >= 2:
                p.normal_(0.0, 0.3)
            elif name.endswith("weight") and ("layer_norm" in name or "layernorm" in name):
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.05)
        if hasattr(model, "final_logits_bias"):
            model.final_logits_bias.normal_(0.0, 0.5)
            model.final_logits_bias[0, eos] += eos_bias  # so </s> comes: beams finish, min_length bites


def make_config(name: str, **extra):
    cls_name, kwargs, _ = CONFIGS[name]
    cfg = getattr(transformers, cls_name)(**{**SMALL, **kwargs, **extra})
    cfg._attn_implementation = "eager"
    return cfg


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tmp_path_factory.mktemp("seq2seq")


class _Pairs:
    """name -> (minitf model, transformers model), both generators, built on first use (a config
    that fails to load fails only its own tests); not to be mutated."""

    def __init__(self, folder):
        self.folder, self.built = folder, {}

    def __getitem__(self, name):
        if name not in self.built:
            cfg = make_config(name)
            cls = transformers.MarianMTModel if name in MARIAN else transformers.BartForConditionalGeneration
            hf = cls(cfg).eval()
            randomise(hf, cfg.eos_token_id, CONFIGS[name][2], seed=100 + list(CONFIGS).index(name))
            if name in MARIAN:
                hf.generation_config.bad_words_ids = [[cfg.pad_token_id]]  # as the opus-mt checkpoints
            folder = self.folder / name
            hf.save_pretrained(folder, safe_serialization=True)
            self.built[name] = minitf.AutoModelForSeq2SeqLM.from_pretrained(folder), hf
        return self.built[name]


@pytest.fixture(scope="module")
def pairs(folders):
    return _Pairs(folders)


def sources(name: str, lengths=(9, 5, 12), seed=1):
    """A right-padded batch of sources: BART `<s> ... </s>`, Marian `... </s>`; and its mask."""
    cfg = CONFIGS[name][1]
    rng = np.random.default_rng(seed)
    t = max(lengths)
    ids = np.full((len(lengths), t), cfg["pad_token_id"], np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        body = rng.integers(3, cfg["vocab_size"] - 1, n)
        if name in BART:
            body[0], body[-1] = cfg["bos_token_id"], cfg["eos_token_id"]
        else:
            body[-1] = cfg["eos_token_id"]
            body[:-1] = rng.integers(1, cfg["vocab_size"] - 1, n - 1)
        ids[i, :n] = body
        mask[i, :n] = 1
    return ids, mask


def targets(name: str, lengths=(7, 4, 6), seed=2):
    """Right-padded decoder inputs starting with decoder_start_token_id, and their mask."""
    cfg = CONFIGS[name][1]
    vocab = cfg.get("decoder_vocab_size") or cfg["vocab_size"]
    rng = np.random.default_rng(seed)
    t = max(lengths)
    ids = np.full((len(lengths), t), cfg["pad_token_id"], np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(3, vocab - 2, n)
        ids[i, 0] = cfg["decoder_start_token_id"]
        mask[i, :n] = 1
    return ids, mask


def t_(x):
    return torch.from_numpy(np.asarray(x))


def close(got, want, what, atol=ATOL):
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    np.testing.assert_allclose(np.asarray(got), want, atol=atol, rtol=1e-4, err_msg=what)


def compare_outputs(got, want, with_logits=True):
    if with_logits:
        close(got.logits, want.logits, "logits")
    close(got.encoder_last_hidden_state, want.encoder_last_hidden_state, "encoder_last_hidden_state")
    for field in ("encoder_hidden_states", "encoder_attentions", "decoder_hidden_states",
                  "decoder_attentions", "cross_attentions"):
        g, w = getattr(got, field), getattr(want, field)
        assert g is not None and len(g) == len(w), field
        for i, (a, b) in enumerate(zip(g, w)):
            close(a, b, f"{field}[{i}]")


# -- forward -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("decoder_mask", [False, True], ids=["no_decoder_mask", "decoder_mask"])
def test_forward_outputs(pairs, name, decoder_mask):
    ours, hf = pairs[name]
    src, mask = sources(name)
    dec, dmask = targets(name)
    kw = dict(decoder_attention_mask=dmask) if decoder_mask else {}
    got = ours(input_ids=src, attention_mask=mask, decoder_input_ids=dec, output_hidden_states=True,
               output_attentions=True, use_cache=False, **kw)
    with torch.no_grad():
        want = hf(input_ids=t_(src), attention_mask=t_(mask), decoder_input_ids=t_(dec),
                  output_hidden_states=True, output_attentions=True, use_cache=False,
                  **{k: t_(v) for k, v in kw.items()})
    compare_outputs(got, want)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_labels_loss(pairs, name):
    ours, hf = pairs[name]
    src, mask = sources(name)
    labels, lmask = targets(name, seed=5)
    labels = labels.copy()
    labels[lmask == 0] = -100
    labels[0, 2] = -100  # an ignored position inside a row too
    got = ours(input_ids=src, attention_mask=mask, labels=labels)
    with torch.no_grad():
        want = hf(input_ids=t_(src), attention_mask=t_(mask), labels=t_(labels))
    assert got.loss is not None
    np.testing.assert_allclose(float(got.loss), float(want.loss), atol=ATOL, rtol=1e-5)
    close(got.logits, want.logits, "logits with labels")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_cache_steps_equal_full_forward(pairs, name):
    """A 3-token prefix, then one token per call with past_key_values, equals the full forward
    (minitf's and transformers')."""
    ours, hf = pairs[name]
    src, mask = sources(name)
    dec, _ = targets(name, lengths=(8, 8, 8))
    full = ours(input_ids=src, attention_mask=mask, decoder_input_ids=dec, use_cache=False).logits
    enc = ours.get_encoder()(input_ids=src, attention_mask=mask)
    out = ours(attention_mask=mask, encoder_outputs=enc, decoder_input_ids=dec[:, :3], use_cache=True)
    steps = [out.logits]
    for j in range(3, dec.shape[1]):
        out = ours(attention_mask=mask, encoder_outputs=enc, decoder_input_ids=dec[:, j:j + 1],
                   past_key_values=out.past_key_values, use_cache=True)
        steps.append(out.logits)
    stepped = np.concatenate(steps, axis=1)
    with torch.no_grad():
        want = hf(input_ids=t_(src), attention_mask=t_(mask), decoder_input_ids=t_(dec),
                  use_cache=False).logits
    close(full, want, "full forward")
    close(stepped, want, "cached steps against transformers' full forward")
    close(stepped, full, "cached steps against minitf's full forward")


def test_bart_model_outputs(folders):
    """BartModel (no head) loaded from a BartModel checkpoint: last_hidden_state and the rest."""
    from minitf.models.bart import BartModel

    cfg = make_config("bart_gelu_scaled")
    hf = transformers.BartModel(cfg).eval()
    randomise(hf, 2, 0.0, seed=7)
    folder = folders / "bart_model"
    hf.save_pretrained(folder, safe_serialization=True)
    ours = minitf.AutoModel.from_pretrained(folder)
    assert isinstance(ours, BartModel)
    name = "bart_gelu_scaled"
    src, mask = sources(name)
    dec, dmask = targets(name)
    got = ours(input_ids=src, attention_mask=mask, decoder_input_ids=dec, decoder_attention_mask=dmask,
               output_hidden_states=True, output_attentions=True, use_cache=False)
    with torch.no_grad():
        want = hf(input_ids=t_(src), attention_mask=t_(mask), decoder_input_ids=t_(dec),
                  decoder_attention_mask=t_(dmask), output_hidden_states=True, output_attentions=True,
                  use_cache=False)
    close(got.last_hidden_state, want.last_hidden_state, "last_hidden_state")
    compare_outputs(got, want, with_logits=False)
    # without decoder_input_ids: both shift input_ids right
    got = ours(input_ids=src, attention_mask=mask)
    with torch.no_grad():
        want = hf(input_ids=t_(src), attention_mask=t_(mask))
    close(got.last_hidden_state, want.last_hidden_state, "last_hidden_state, shifted input_ids")


# -- sequence classification ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bart_gelu_scaled", "distilbart_swish_3_1"])
def test_sequence_classification(folders, name):
    from minitf.models.bart import BartForSequenceClassification

    cfg = make_config(name, num_labels=3, id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
                      label2id={"contradiction": 0, "neutral": 1, "entailment": 2})
    hf = transformers.BartForSequenceClassification(cfg).eval()
    randomise(hf, 2, 0.0, seed=9)
    folder = folders / f"{name}_cls"
    hf.save_pretrained(folder, safe_serialization=True)
    ours = minitf.AutoModelForSequenceClassification.from_pretrained(folder)
    assert isinstance(ours, BartForSequenceClassification)
    rng = np.random.default_rng(3)
    rows = []
    for a, b in [(6, 4), (3, 7), (9, 2)]:  # <s> A </s></s> B </s>, then padding
        rows.append([0, *rng.integers(3, cfg.vocab_size - 1, a), 2, 2, *rng.integers(3, cfg.vocab_size - 1, b), 2])
    t = max(map(len, rows))
    ids = np.array([r + [1] * (t - len(r)) for r in rows], np.int64)
    mask = (ids != 1).astype(np.int64)
    got = ours(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
    with torch.no_grad():
        want = hf(input_ids=t_(ids), attention_mask=t_(mask), output_attentions=True,
                  output_hidden_states=True)
    close(got.logits, want.logits, "classification logits")
    compare_outputs(got, want, with_logits=False)


# -- generate ------------------------------------------------------------------------------------
GENERATE = {
    "greedy": dict(max_new_tokens=14),
    "greedy_max_length": dict(max_length=11),
    "greedy_min_length": dict(max_new_tokens=14, min_length=10),
    "greedy_no_repeat_2": dict(max_new_tokens=16, no_repeat_ngram_size=2),
    "greedy_no_repeat_1": dict(max_new_tokens=12, no_repeat_ngram_size=1),
    "beam3_no_repeat_1_ret2": dict(num_beams=3, no_repeat_ngram_size=1, num_return_sequences=2,
                                   max_new_tokens=10, length_penalty=1.5, early_stopping=False),
    "beam2_lp1_early": dict(num_beams=2, length_penalty=1.0, early_stopping=True, max_new_tokens=12),
    "beam3_lp0_ret2": dict(num_beams=3, length_penalty=0.0, num_return_sequences=2, max_new_tokens=10,
                           no_repeat_ngram_size=2),
    "beam4_lp2_never": dict(num_beams=4, length_penalty=2.0, early_stopping="never", max_new_tokens=10),
    "beam4_not_early_min_length": dict(num_beams=4, early_stopping=False, min_length=7, max_new_tokens=12),
    "beam3_max_length_ret3": dict(num_beams=3, num_return_sequences=3, max_length=9, no_repeat_ngram_size=3),
    "beam4_cnn_defaults": dict(num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3, min_length=6,
                               max_length=16, early_stopping=True, forced_bos_token_id=0),
    "greedy_forced_bos_eos": dict(max_new_tokens=9, forced_bos_token_id=5, forced_eos_token_id=6),
    # an option given as None: transformers' generate() sets it (forced EOS off here)
    "beam2_forced_eos_off": dict(num_beams=2, max_new_tokens=8, forced_eos_token_id=None),
}
MARIAN_GENERATE = {
    "greedy": dict(max_new_tokens=14),
    "beam4": dict(num_beams=4, max_new_tokens=12),
    "beam3_lp0_ret2_bad_words": dict(num_beams=3, length_penalty=0.0, num_return_sequences=2,
                                     max_new_tokens=10, no_repeat_ngram_size=1, bad_words_ids=[[149], [7, 8]]),
    "greedy_no_repeat_1": dict(max_new_tokens=12, no_repeat_ngram_size=1),
    "greedy_min_length_no_repeat": dict(max_new_tokens=12, min_length=8, no_repeat_ngram_size=2),
    "beam2_never_max_length": dict(num_beams=2, early_stopping="never", max_length=10),
}


def _generate_both(pair, name, kwargs, use_cache):
    ours, hf = pair
    src, mask = sources(name)
    got = ours.generate(src, attention_mask=mask, use_cache=use_cache, **kwargs)
    with torch.no_grad():
        want = hf.generate(input_ids=t_(src), attention_mask=t_(mask), do_sample=False,
                           use_cache=use_cache, **kwargs).numpy()
    return np.asarray(got), want


@pytest.mark.parametrize("use_cache", [True, False], ids=["cache", "nocache"])
@pytest.mark.parametrize("case", list(GENERATE))
@pytest.mark.parametrize("name", BART)
def test_generate_bart(pairs, name, case, use_cache):
    got, want = _generate_both(pairs[name], name, GENERATE[case], use_cache)
    np.testing.assert_array_equal(got, want, err_msg=f"{name} {case} use_cache={use_cache}")


# transformers' own beam search cannot run decoder_vocab_size != vocab_size (it reshapes the
# scores with config.vocab_size): greedy cases only there
MARIAN_CASES = [(n, c) for n in MARIAN for c in MARIAN_GENERATE
                if n != "marian_separate_vocab_untied" or "num_beams" not in MARIAN_GENERATE[c]]


@pytest.mark.parametrize("use_cache", [True, False], ids=["cache", "nocache"])
@pytest.mark.parametrize("name, case", MARIAN_CASES, ids=[f"{n}-{c}" for n, c in MARIAN_CASES])
def test_generate_marian(pairs, name, case, use_cache):
    kwargs = dict(MARIAN_GENERATE[case])
    if "bad_words_ids" in kwargs:  # [[pad], [a, b]]: pad is the config's
        kwargs["bad_words_ids"] = [[CONFIGS[name][1]["pad_token_id"]], [7, 8]]
    got, want = _generate_both(pairs[name], name, kwargs, use_cache)
    np.testing.assert_array_equal(got, want, err_msg=f"{name} {case} use_cache={use_cache}")


def test_generation_config_loaded(pairs):
    """generation_config.json travels: forced BOS/EOS, decoder start, Marian's bad_words_ids."""
    ours, hf = pairs["bart_relu_unscaled_forced_bos"]
    assert ours.generation_config.forced_bos_token_id == hf.generation_config.forced_bos_token_id == 0
    assert ours.generation_config.forced_eos_token_id == hf.generation_config.forced_eos_token_id == 2
    ours, hf = pairs["marian_separate_tables"]
    assert ours.generation_config.bad_words_ids == hf.generation_config.bad_words_ids == [[179]]
