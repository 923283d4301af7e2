"""Golden-fixture parity for the encoders (BERT, DistilBERT, RoBERTa): minitf against outputs
transformers computed once (weights/make_fixtures_encoders.py). Runs without torch and without
a tokenizer: the input ids, masks and token type ids are stored with the outputs.

Also: loading across heads, tied weights, configs' labels, and clear errors on bad input."""
import json
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.backend import use_backend
from minitf.weights import CheckpointError, load_checkpoint, save_safetensors

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "encoders_expected.npz"
WEIGHTS = ROOT / "weights"
ATOL = 1e-4  # logits (DESIGN.md); hidden states also get rtol 1e-5, attention maps atol 1e-5
AUTO = {"ForMaskedLM": minitf.AutoModelForMaskedLM,
        "ForSequenceClassification": minitf.AutoModelForSequenceClassification,
        "ForTokenClassification": minitf.AutoModelForTokenClassification,
        "ForQuestionAnswering": minitf.AutoModelForQuestionAnswering}
MODELS = json.loads(str(np.load(FIXTURES)["meta/models"]))  # folder -> transformers class name
OUTPUTS = ("logits", "start_logits", "end_logits")


def auto_class(cls_name):
    return next(auto for suffix, auto in AUTO.items() if cls_name.endswith(suffix))


def inputs(expected, tag, batch):
    keys = ("input_ids", "attention_mask", "token_type_ids")
    return {k: expected[f"{tag}/{batch}/{k}"] for k in keys if f"{tag}/{batch}/{k}" in expected}


@pytest.fixture(scope="module")
def expected():
    return dict(np.load(FIXTURES))


@pytest.fixture(scope="module", params=list(MODELS))
def case(request):
    tag = request.param
    return tag, auto_class(MODELS[tag]).from_pretrained(WEIGHTS / tag)


def test_auto_class_picks_the_checkpoint_class(case):
    tag, model = case
    assert type(model).__name__ == MODELS[tag]


def test_single_batch_every_output(case, expected):
    tag, model = case
    out = model(**inputs(expected, tag, "single"), output_hidden_states=True, output_attentions=True)
    for field in OUTPUTS:
        if f"{tag}/single/{field}" in expected:
            np.testing.assert_allclose(out[field], expected[f"{tag}/single/{field}"], atol=ATOL,
                                       rtol=0, err_msg=field)
            assert out[field].dtype == np.float32
    n_layers = model.config.num_hidden_layers
    assert len(out.hidden_states) == n_layers + 1 and len(out.attentions) == n_layers
    for i, h in enumerate(out.hidden_states):
        np.testing.assert_allclose(h, expected[f"{tag}/single/hidden_{i}"], atol=ATOL, rtol=1e-5)
    for i, a in enumerate(out.attentions):
        np.testing.assert_allclose(a, expected[f"{tag}/single/attn_{i}"], atol=1e-5, rtol=0)
        assert np.allclose(a.sum(-1), 1.0, atol=1e-5)  # padding keys get weight 0, rows sum to 1


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_pair_batch(case, expected, backend):
    """Text pairs: segment B marked by token_type_ids (BERT), padding in both rows."""
    tag, model = case
    with use_backend(backend):
        out = model(**inputs(expected, tag, "pair"), output_hidden_states=True)
    for field in OUTPUTS:
        if f"{tag}/pair/{field}" in expected:
            np.testing.assert_allclose(out[field], expected[f"{tag}/pair/{field}"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(out.hidden_states[-1], expected[f"{tag}/pair/last_hidden"],
                               atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("batch", ["single", "pair"])
def test_bare_bert_model_and_pooler(expected, batch):
    """The body of a sequence classifier through AutoModel: last_hidden_state and pooler_output."""
    model = minitf.AutoModel.from_pretrained(WEIGHTS / "tiny-bert-seqcls")
    assert type(model).__name__ == "BertModel"
    out = model(**inputs(expected, "tiny-bert-seqcls", batch))
    np.testing.assert_allclose(out.last_hidden_state, expected[f"bert-base/{batch}/last_hidden_state"],
                               atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(out.pooler_output, expected[f"bert-base/{batch}/pooler_output"],
                               atol=ATOL, rtol=0)
    assert list(out) == ["last_hidden_state", "pooler_output"]  # as transformers, None left out


def test_positional_arguments_as_transformers(expected):
    model = minitf.AutoModelForSequenceClassification.from_pretrained(WEIGHTS / "tiny-bert-nli")
    x = inputs(expected, "tiny-bert-nli", "pair")
    out = model(x["input_ids"], x["attention_mask"], x["token_type_ids"])
    np.testing.assert_allclose(out.logits, expected["tiny-bert-nli/pair/logits"], atol=ATOL, rtol=0)
    assert out[0] is out.logits


# -- configs -------------------------------------------------------------------------------------
def test_labels_are_kept():
    cfg = minitf.AutoConfig.from_pretrained(WEIGHTS / "tiny-bert-seqcls")
    assert cfg.id2label == {0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"} and cfg.num_labels == 3
    assert cfg.label2id["POSITIVE"] == 2
    nli = minitf.AutoConfig.from_pretrained(WEIGHTS / "tiny-bert-nli")
    assert [nli.id2label[i] for i in range(3)] == ["contradiction", "neutral", "entailment"]
    ner = minitf.AutoConfig.from_pretrained(WEIGHTS / "tiny-bert-tokcls")
    assert ner.id2label[1] == "B-PER" and ner.num_labels == 9
    assert type(minitf.AutoConfig.from_pretrained(WEIGHTS / "tiny-roberta-mlm")).__name__ == "RobertaConfig"


def test_config_defaults_and_aliases():
    d = minitf.DistilBertConfig()
    assert (d.hidden_size, d.num_hidden_layers, d.num_attention_heads) == (768, 6, 12)
    assert minitf.DistilBertConfig(hidden_size=64).dim == 64
    r = minitf.RobertaConfig()
    assert (r.vocab_size, r.pad_token_id, r.bos_token_id, r.eos_token_id) == (50265, 1, 0, 2)
    b = minitf.BertConfig(num_labels=4)
    assert b.id2label == {i: f"LABEL_{i}" for i in range(4)} and b.layer_norm_eps == 1e-12


# -- loading across heads --------------------------------------------------------------------------
def test_head_checkpoint_into_base_model(expected):
    """The QA checkpoint in a BertModel: qa_outputs dropped; it has no pooler, so a fresh one is
    drawn with a warning (as transformers does); the hidden states are the checkpoint's."""
    with pytest.warns(UserWarning, match=r"newly initialised.*pooler\.dense\.weight"):
        model = minitf.AutoModel.from_pretrained(WEIGHTS / "tiny-bert-qa")
    out = model(**inputs(expected, "tiny-bert-qa", "single"))
    np.testing.assert_allclose(out.last_hidden_state, expected["tiny-bert-qa/single/hidden_2"],
                               atol=ATOL, rtol=1e-5)


def test_base_checkpoint_into_head_model(tmp_path, expected):
    """A BertModel checkpoint (no `bert.` prefix) in a token classifier: body loaded, head fresh."""
    base = minitf.AutoModel.from_pretrained(WEIGHTS / "tiny-bert-seqcls")
    base.save_pretrained(tmp_path)  # keys: embeddings.*, encoder.*, pooler.*
    assert "embeddings.word_embeddings.weight" in load_checkpoint(tmp_path)
    with pytest.warns(UserWarning, match=r"newly initialised.*classifier\.weight"):
        model = minitf.AutoModelForTokenClassification.from_pretrained(tmp_path, num_labels=5)
    assert model.config.num_labels == 5
    x = inputs(expected, "tiny-bert-seqcls", "single")
    assert model(**x).logits.shape == x["input_ids"].shape + (5,)
    np.testing.assert_allclose(model.bert(**x).last_hidden_state,
                               expected["bert-base/single/last_hidden_state"], atol=ATOL, rtol=1e-5)


def test_other_head_is_left_out_with_a_warning():
    """An MLM checkpoint in a sequence classifier: cls.predictions.* unused, classifier fresh."""
    with pytest.warns(UserWarning) as record:
        minitf.AutoModelForSequenceClassification.from_pretrained(WEIGHTS / "tiny-bert")
    text = " ".join(str(w.message) for w in record)
    assert "cls.predictions.transform.dense.weight" in text and "classifier.weight" in text


def test_body_mismatch_is_an_error(tmp_path):
    tensors = dict(load_checkpoint(WEIGHTS / "tiny-bert-seqcls"))
    del tensors["bert.encoder.layer.1.output.dense.weight"]
    save_safetensors(tensors, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text((WEIGHTS / "tiny-bert-seqcls" / "config.json").read_text())
    with pytest.raises(CheckpointError, match=r"missing tensors.*layer\.1\.output\.dense\.weight"):
        minitf.AutoModelForSequenceClassification.from_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match=r"classifier\.weight.*shape \(3, 32\).*\(5, 32\)"):
        minitf.AutoModelForSequenceClassification.from_pretrained(WEIGHTS / "tiny-bert-seqcls",
                                                                  num_labels=5)


def test_wrong_task_for_the_family():
    with pytest.raises(ValueError, match="no model for model_type 'bert'"):
        minitf.AutoModelForCausalLM.from_pretrained(WEIGHTS / "tiny-bert")


@pytest.mark.parametrize("tag,decoder,embeddings", [
    ("tiny-bert", "cls.predictions.decoder", "bert.embeddings.word_embeddings"),
    ("tiny-distilbert-mlm", "vocab_projector", "distilbert.embeddings.word_embeddings"),
    ("tiny-roberta-mlm", "lm_head.decoder", "roberta.embeddings.word_embeddings"),
])
def test_mlm_head_is_tied_and_survives_save_and_cast(tmp_path, expected, tag, decoder, embeddings):
    model = minitf.AutoModelForMaskedLM.from_pretrained(WEIGHTS / tag)
    assert model.get_parameter(decoder + ".weight") is model.get_parameter(embeddings + ".weight")
    if tag != "tiny-distilbert-mlm":  # the decoder's bias is the head's `bias`, one array
        head = decoder.rsplit(".", 1)[0]
        assert model.get_parameter(decoder + ".bias") is model.get_parameter(head + ".bias")
    model.save_pretrained(tmp_path)
    assert decoder + ".weight" not in load_checkpoint(tmp_path)
    x = inputs(expected, tag, "single")
    again = minitf.AutoModelForMaskedLM.from_pretrained(tmp_path, dtype="float64")
    logits = again(**x).logits
    assert logits.dtype == np.float64
    np.testing.assert_allclose(logits, expected[f"{tag}/single/logits"], atol=ATOL, rtol=0)


# -- details -----------------------------------------------------------------------------------
def test_roberta_positions_skip_padding(expected):
    with pytest.warns(UserWarning, match="pooler"):  # the classifier's checkpoint has none
        model = minitf.AutoModel.from_pretrained(WEIGHTS / "tiny-roberta-seqcls")
    ids = expected["tiny-roberta-seqcls/single/input_ids"]
    pos = model.embeddings.make_position_ids(ids, *ids.shape, np)
    n = (ids != 1).sum(1)
    for row, count in zip(pos, n):
        np.testing.assert_array_equal(row[:count], np.arange(2, 2 + count))  # start at pad + 1
        assert (row[count:] == 1).all()  # padding sits at the padding index


def test_distilbert_sinusoidal_positions():
    cfg = minitf.DistilBertConfig(dim=8, n_layers=1, n_heads=2, hidden_dim=16, vocab_size=20,
                                  max_position_embeddings=10, sinusoidal_pos_embds=True)
    table = minitf.DistilBertModel(cfg).embeddings.position_embeddings.weight
    j = np.arange(8)
    want = 3 / np.power(10000.0, 2 * (j // 2) / 8)
    want = np.where(j % 2 == 0, np.sin(want), np.cos(want))
    np.testing.assert_allclose(table[3], want, atol=1e-6)


def test_full_padding_row_and_3d_mask(expected):
    model = minitf.AutoModelForSequenceClassification.from_pretrained(WEIGHTS / "tiny-bert-seqcls")
    x = inputs(expected, "tiny-bert-seqcls", "single")
    ref = model(**x).logits
    mask3 = x["attention_mask"][:, None, :] * np.ones_like(x["attention_mask"])[:, :, None]
    np.testing.assert_allclose(model(**{**x, "attention_mask": mask3}).logits, ref, atol=1e-6)
    empty = {**x, "attention_mask": np.zeros_like(x["attention_mask"])}
    out = model(**empty, output_attentions=True)  # every key masked: uniform weights, no NaN
    assert np.isfinite(out.logits).all()
    np.testing.assert_allclose(out.attentions[0], 1.0 / x["input_ids"].shape[1], atol=1e-6)


def test_head_mask_silences_a_head(expected):
    model = minitf.AutoModel.from_pretrained(WEIGHTS / "tiny-bert-seqcls")
    x = inputs(expected, "tiny-bert-seqcls", "single")
    ones = model(**x, head_mask=np.ones(4)).last_hidden_state
    np.testing.assert_allclose(ones, expected["bert-base/single/last_hidden_state"], atol=ATOL, rtol=1e-5)
    hm = np.ones((2, 4))
    hm[1, 2] = 0
    out = model(**x, head_mask=hm, output_attentions=True)
    assert (out.attentions[1][:, 2] == 0).all() and (out.attentions[0] > 0).any()


# -- bad input ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bert():
    return minitf.AutoModelForMaskedLM.from_pretrained(WEIGHTS / "tiny-bert")


def test_input_id_out_of_range(bert):
    with pytest.raises(IndexError, match=r"input_ids contains id 1000, but vocab_size=1000"):
        bert(input_ids=np.array([[2, 1000, 3]]))
    with pytest.raises(IndexError, match=r"input_ids contains id -1"):
        bert(input_ids=np.array([[2, -1, 3]]))


def test_token_type_id_out_of_range(bert):
    with pytest.raises(IndexError, match=r"token_type_ids contains id 2, but type_vocab_size=2"):
        bert(input_ids=np.array([[2, 40, 3]]), token_type_ids=np.array([[0, 1, 2]]))
    roberta = minitf.AutoModelForMaskedLM.from_pretrained(WEIGHTS / "tiny-roberta-mlm")
    with pytest.raises(IndexError, match=r"token_type_ids contains id 1, but type_vocab_size=1"):
        roberta(input_ids=np.array([[0, 40, 2]]), token_type_ids=np.array([[0, 1, 1]]))


@pytest.mark.parametrize("tag,limit", [("tiny-bert", 128), ("tiny-distilbert-mlm", 128),
                                       ("tiny-roberta-mlm", 128)])
def test_sequence_too_long(tag, limit):
    model = minitf.AutoModelForMaskedLM.from_pretrained(WEIGHTS / tag)
    ids = np.full((1, limit + 1), 7)
    with pytest.raises(ValueError, match=rf"sequence length {limit + 1} exceeds the model's limit "
                                         rf"of {limit} tokens"):
        model(input_ids=ids)
    assert model(input_ids=ids[:, :limit]).logits.shape[1] == limit  # the limit itself is fine


def test_attention_mask_shape_mismatch(bert):
    with pytest.raises(ValueError, match=r"attention_mask has shape \(1, 4\), but input_ids has "
                                         r"shape \(1, 3\)"):
        bert(input_ids=np.array([[2, 40, 3]]), attention_mask=np.ones((1, 4), np.int64))


def test_other_bad_inputs(bert):
    with pytest.raises(TypeError, match="input_ids must be integers"):
        bert(input_ids=np.array([[2.0, 3.0]]))
    with pytest.raises(ValueError, match="exactly one of input_ids or inputs_embeds"):
        bert()
    with pytest.raises(ValueError, match="token_type_ids has shape"):
        bert(input_ids=np.array([[2, 40, 3]]), token_type_ids=np.array([[0, 1]]))
    distil = minitf.AutoModelForQuestionAnswering.from_pretrained(WEIGHTS / "tiny-distilbert-qa")
    with pytest.raises(ValueError, match="DistilBERT has no token type"):
        distil(input_ids=np.array([[2, 40, 3]]), token_type_ids=np.array([[0, 1, 1]]))
    out = distil(input_ids=np.array([[2, 40, 3]]), token_type_ids=np.zeros((1, 3), np.int64))
    assert out.start_logits.shape == (1, 3)  # all-zero segments (a BERT tokenizer's) are fine


@pytest.mark.parametrize("tag", ["tiny-bert", "tiny-distilbert-mlm"])
def test_inputs_embeds_same_as_ids(expected, tag):
    model = minitf.AutoModelForMaskedLM.from_pretrained(WEIGHTS / tag)
    x = inputs(expected, tag, "single")
    table = model.get_parameter(f"{model.base_model_prefix}.embeddings.word_embeddings.weight")
    x["inputs_embeds"] = table[x.pop("input_ids")]  # [b, t] -> [b, t, d]
    np.testing.assert_allclose(model(**x).logits, expected[f"{tag}/single/logits"], atol=ATOL, rtol=0)
