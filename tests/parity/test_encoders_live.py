"""Live parity against transformers for the encoders: BERT, DistilBERT, RoBERTa (`make parity`).

Each family, head and config variant is built and randomly initialised in transformers, saved
as safetensors, loaded by minitf's Auto classes and compared on a right-padded batch: logits
(or start/end logits), last hidden state, pooler output, every hidden state and attention map,
and every module's output through `minitf.debug.compare_with_transformers`. Then loading across
heads (a base checkpoint into a model with a head, and back), and the real all-MiniLM-L6-v2.
"""
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402
from minitf.debug import compare_with_transformers  # noqa: E402

pytestmark = pytest.mark.parity

ROOT = Path(__file__).resolve().parents[2]
MINILM = ROOT / "weights" / "real" / "all-MiniLM-L6-v2"
VOCAB = 120
HEADS = ["base", "mlm", "seqcls", "tokcls", "qa"]
AUTO = {"base": minitf.AutoModel, "mlm": minitf.AutoModelForMaskedLM,
        "seqcls": minitf.AutoModelForSequenceClassification,
        "tokcls": minitf.AutoModelForTokenClassification,
        "qa": minitf.AutoModelForQuestionAnswering}
HF_CLASS = {  # family -> head -> transformers class name
    "bert": {"base": "BertModel", "mlm": "BertForMaskedLM", "seqcls": "BertForSequenceClassification",
             "tokcls": "BertForTokenClassification", "qa": "BertForQuestionAnswering"},
    "distilbert": {"base": "DistilBertModel", "mlm": "DistilBertForMaskedLM",
                   "seqcls": "DistilBertForSequenceClassification",
                   "tokcls": "DistilBertForTokenClassification", "qa": "DistilBertForQuestionAnswering"},
    "roberta": {"base": "RobertaModel", "mlm": "RobertaForMaskedLM",
                "seqcls": "RobertaForSequenceClassification",
                "tokcls": "RobertaForTokenClassification", "qa": "RobertaForQuestionAnswering"},
}
CONFIGS = {  # name -> (family, transformers config kwargs)
    "bert": ("bert", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=64, max_position_embeddings=40)),
    "bert_variant": ("bert", dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=3,
                                  intermediate_size=80, max_position_embeddings=24, type_vocab_size=3,
                                  hidden_act="gelu_new", layer_norm_eps=1e-6,
                                  tie_word_embeddings=False)),
    "distilbert": ("distilbert", dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                                      max_position_embeddings=40)),
    "distilbert_sinusoidal": ("distilbert", dict(dim=48, n_layers=3, n_heads=6, hidden_dim=72,
                                                 max_position_embeddings=30, sinusoidal_pos_embds=True,
                                                 activation="relu")),
    "roberta": ("roberta", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=64, max_position_embeddings=42, type_vocab_size=1)),
}
LABELS = {"seqcls": 3, "tokcls": 5, "qa": 2}


def pad_id(family):
    return 1 if family == "roberta" else 0


def make_pair(tmp_path, name, head, seed=0, std=0.3):
    """(minitf model, transformers model) with the same random weights, through a saved folder."""
    family, kwargs = CONFIGS[name]
    cfg_cls = {"bert": transformers.BertConfig, "distilbert": transformers.DistilBertConfig,
               "roberta": transformers.RobertaConfig}[family]
    cfg = cfg_cls(vocab_size=VOCAB, pad_token_id=pad_id(family), num_labels=LABELS.get(head, 2), **kwargs)
    cfg._attn_implementation = "eager"  # explicit softmax weights, so attentions are returned
    torch.manual_seed(seed)
    hf = getattr(transformers, HF_CLASS[family][head])(cfg).eval()
    with torch.no_grad():  # peaked outputs: a wrong op shows, not drowned in 0.02-std noise
        for pname, p in hf.named_parameters():
            if p.ndim >= 2:
                if not (family == "distilbert" and "position_embeddings" in pname
                        and kwargs.get("sinusoidal_pos_embds")):
                    p.normal_(0.0, std)
            elif "LayerNorm.weight" in pname or "layer_norm.weight" in pname:
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.05)
    folder = tmp_path / f"{name}-{head}"
    hf.save_pretrained(folder, safe_serialization=True)
    return AUTO[head].from_pretrained(folder), hf, folder


def batch(family, seed=1, lengths=(9, 5, 12)):
    """A right-padded batch: ids, mask, and (BERT) token_type_ids marking a sentence pair."""
    rng = np.random.default_rng(seed)
    t = max(lengths)
    ids = np.full((len(lengths), t), pad_id(family), np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(3, VOCAB, n)
        mask[i, :n] = 1
        types[i, n // 2:n] = 1  # second half = sentence B
    inputs = dict(input_ids=ids, attention_mask=mask)
    if family == "bert":
        inputs["token_type_ids"] = types
    return inputs


def run_hf(hf, inputs, **kw):
    with torch.no_grad():
        return hf(**{k: torch.from_numpy(v) for k, v in inputs.items()}, **kw)


CASES = [(name, head) for name in CONFIGS for head in HEADS]


@pytest.fixture(params=CASES, ids=[f"{n}-{h}" for n, h in CASES])
def pair(request, tmp_path):
    name, head = request.param
    model, hf, folder = make_pair(tmp_path, name, head)
    return name, head, model, hf, folder


def test_outputs_hidden_states_attentions(pair):
    name, head, model, hf, _ = pair
    family = CONFIGS[name][0]
    assert type(model).__name__ == HF_CLASS[family][head]
    inputs = batch(family)
    ours = model(**inputs, output_hidden_states=True, output_attentions=True)
    ref = run_hf(hf, inputs, output_hidden_states=True, output_attentions=True)
    fields = {"base": ["last_hidden_state", "pooler_output"], "qa": ["start_logits", "end_logits"]}
    for f in fields.get(head, ["logits"]):
        if getattr(ref, f, None) is None:  # DistilBERT has no pooler
            assert getattr(ours, f) is None
            continue
        np.testing.assert_allclose(getattr(ours, f), getattr(ref, f).numpy(), atol=1e-4, rtol=0,
                                   err_msg=f)
        assert getattr(ours, f).dtype == np.float32
    assert len(ours.hidden_states) == len(ref.hidden_states) == model.config.num_hidden_layers + 1
    for a, b in zip(ours.hidden_states, ref.hidden_states, strict=True):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-4, rtol=1e-5)  # residual stream grows
    assert len(ours.attentions) == len(ref.attentions)
    for a, b in zip(ours.attentions, ref.attentions, strict=True):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5, rtol=0)


def _drop_use_cache(hf):
    """compare_with_transformers calls hf_model(..., use_cache=False), and encoder forwards
    (BertForMaskedLM, DistilBertModel ...) take no use_cache: swallow it."""
    forward = hf.forward
    hf.forward = lambda *args, use_cache=None, **kwargs: forward(*args, **kwargs)
    return hf


def test_every_module_matches(pair):
    name, head, model, hf, _ = pair
    report = compare_with_transformers(model, _drop_use_cache(hf), **batch(CONFIGS[name][0]))
    assert report.first is None, str(report)
    # embeddings, every attention / self / output / norm of every layer, and the head
    assert len(report.rows) >= 8 * model.config.num_hidden_layers, str(report)
    names = [r[0] for r in report.rows]
    prefix = "" if head == "base" else CONFIGS[name][0] + "."
    layer0 = {"distilbert": "transformer.layer.0.attention"}.get(CONFIGS[name][0],
                                                                 "encoder.layer.0.attention.self")
    assert prefix + layer0 in names, names


def test_sdpa_reference_gives_the_same_logits(tmp_path):
    """transformers' default attention (SDPA, a fused kernel) against minitf on a padded batch."""
    for name in ("bert", "distilbert", "roberta"):
        model, _, folder = make_pair(tmp_path, name, "mlm")
        family = CONFIGS[name][0]
        hf = getattr(transformers, HF_CLASS[family]["mlm"]).from_pretrained(folder).eval()
        inputs = batch(family, seed=7)
        np.testing.assert_allclose(model(**inputs).logits, run_hf(hf, inputs).logits.numpy(),
                                   atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_base_checkpoint_into_head_and_back(tmp_path, name):
    family = CONFIGS[name][0]
    inputs = batch(family, seed=3)
    # a base checkpoint in a model with a head: the body is the checkpoint's, the head is fresh
    base, hf_base, base_dir = make_pair(tmp_path, name, "base")
    with pytest.warns(UserWarning, match="newly initialised"):
        clf = minitf.AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=4)
    assert clf(**inputs).logits.shape == (3, 4)
    body = getattr(clf, clf.base_model_prefix)
    np.testing.assert_allclose(body(**inputs).last_hidden_state,
                               run_hf(hf_base, inputs).last_hidden_state.numpy(), atol=1e-4, rtol=0)
    # a head checkpoint in a base model: the head is dropped, the body matches transformers'
    _, hf_tok, tok_dir = make_pair(tmp_path, name, "tokcls", seed=5)
    if family == "distilbert":  # no pooler: nothing is missing
        ours = minitf.AutoModel.from_pretrained(tok_dir)
    else:  # a token classifier has no pooler, so the base model draws one, as transformers does
        with pytest.warns(UserWarning, match="pooler.dense.weight"):
            ours = minitf.AutoModel.from_pretrained(tok_dir)
    with torch.no_grad():
        ref = getattr(transformers, HF_CLASS[family]["base"]).from_pretrained(tok_dir).eval()
    np.testing.assert_allclose(ours(**inputs).last_hidden_state,
                               run_hf(ref, inputs).last_hidden_state.numpy(), atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", ["bert", "distilbert", "roberta"])
def test_head_mask(tmp_path, name):
    model, hf, _ = make_pair(tmp_path, name, "base")
    inputs = batch(CONFIGS[name][0])
    hm = np.ones((2, 4), np.float32)
    hm[0, 1] = hm[1, 3] = 0  # silence head 1 of layer 0 and head 3 of layer 1
    ours = model(**inputs, head_mask=hm, output_attentions=True)
    ref = run_hf(hf, inputs, head_mask=torch.from_numpy(hm), output_attentions=True)
    np.testing.assert_allclose(ours.last_hidden_state, ref.last_hidden_state.numpy(), atol=1e-4, rtol=0)
    for a, b in zip(ours.attentions, ref.attentions, strict=True):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5, rtol=0)


def test_roberta_position_ids_skip_padding(tmp_path):
    model, hf, _ = make_pair(tmp_path, "roberta", "base")
    ids = np.array([[0, 17, 18, 2, 1, 1], [0, 20, 21, 22, 23, 2]])
    want = transformers.models.roberta.modeling_roberta.create_position_ids_from_input_ids(
        torch.from_numpy(ids), padding_idx=1).numpy()
    np.testing.assert_array_equal(model.embeddings.make_position_ids(ids, 2, 6, np), want)
    np.testing.assert_array_equal(want[0], [2, 3, 4, 5, 1, 1])


def test_first_divergence_is_reported(tmp_path):
    model, hf, _ = make_pair(tmp_path, "bert", "seqcls")
    dense = model.bert.encoder.layer[1].intermediate.dense
    dense.bias = dense.bias + 0.01  # a bug planted in layer 1's feed-forward block
    report = compare_with_transformers(model, _drop_use_cache(hf), **batch("bert"))
    assert report.first[0] == "bert.encoder.layer.1.intermediate.dense", str(report)


def test_real_minilm_matches_transformers():
    if not (MINILM / "model.safetensors").is_file():
        pytest.fail(f"the real all-MiniLM-L6-v2 is missing from {MINILM}: run `make weights`")
    tok = transformers.AutoTokenizer.from_pretrained(MINILM)
    enc = tok(["This is an example sentence.", "Each sentence is converted",
               "minitf reads the same weights as transformers, in NumPy."],
              padding=True, return_tensors="np")
    inputs = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    ours = minitf.AutoModel.from_pretrained(MINILM)
    hf = transformers.AutoModel.from_pretrained(MINILM).eval()
    a, b = ours(**inputs), run_hf(hf, inputs)
    np.testing.assert_allclose(a.last_hidden_state, b.last_hidden_state.numpy(), atol=2e-4, rtol=0)
    np.testing.assert_allclose(a.pooler_output, b.pooler_output.numpy(), atol=2e-4, rtol=0)
    report = compare_with_transformers(ours, _drop_use_cache(hf), **inputs)
    assert report.first is None, str(report)
