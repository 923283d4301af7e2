"""Live parity against transformers for Longformer (`make parity`).

Random configs (per-layer and single windows, several widths and head counts) are built in
transformers, randomly initialised, saved as safetensors and loaded by minitf's Auto classes.
Both run on random batches with padding, lengths that are not multiples of the window and
global tokens at different positions and in different numbers per row; every output is
compared (logits / last hidden state / pooler, every hidden state, every local and global
attention map), then every module through `minitf.debug.compare_with_transformers`, and the
less common inputs (inputs_embeds, position_ids, token_type_ids, head_mask, a longer document).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402
from minitf.debug import compare_with_transformers  # noqa: E402

pytestmark = pytest.mark.parity

VOCAB, PAD = 120, 1
AUTO = {"base": minitf.AutoModel, "mlm": minitf.AutoModelForMaskedLM,
        "seqcls": minitf.AutoModelForSequenceClassification}
HF_CLASS = {"base": "LongformerModel", "mlm": "LongformerForMaskedLM",
            "seqcls": "LongformerForSequenceClassification"}
CONFIGS = {  # name -> transformers LongformerConfig kwargs
    "windows_4_8": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, attention_window=[4, 8]),
    "window_6": dict(hidden_size=24, num_hidden_layers=3, num_attention_heads=2,
                     intermediate_size=40, attention_window=6, type_vocab_size=1),
    "windows_16_8_4": dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=6,
                           intermediate_size=64, attention_window=[16, 8, 4], hidden_act="gelu_new",
                           layer_norm_eps=1e-5),
}
CASES = [(name, head) for name in CONFIGS for head in AUTO]


def make_pair(tmp_path, name, head, seed=0, std=0.3):
    """(minitf model, transformers model) with the same random weights, through a saved folder."""
    cfg = transformers.LongformerConfig(vocab_size=VOCAB, pad_token_id=PAD, max_position_embeddings=300,
                                        num_labels=3, **CONFIGS[name])
    torch.manual_seed(seed)
    hf = getattr(transformers, HF_CLASS[head])(cfg).eval()
    with torch.no_grad():  # peaked outputs: a wrong op shows, not drowned in 0.02-std noise
        for pname, p in hf.named_parameters():
            if p.ndim >= 2:
                p.normal_(0.0, std)
            elif "LayerNorm.weight" in pname or "layer_norm.weight" in pname:
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.05)
    folder = tmp_path / f"{name}-{head}"
    hf.save_pretrained(folder, safe_serialization=True)
    return AUTO[head].from_pretrained(folder), hf


def batch(seed=1, lengths=(11, 7, 17), n_global=(1, 3, 0)):
    """Right-padded random ids with `n_global[i]` global tokens at random real positions of row i."""
    rng = np.random.default_rng(seed)
    t = max(lengths)
    ids = np.full((len(lengths), t), PAD, np.int64)
    mask = np.zeros_like(ids)
    glob = np.zeros_like(ids)
    for i, (n, g) in enumerate(zip(lengths, n_global)):
        ids[i, :n] = rng.integers(3, VOCAB, n)
        mask[i, :n] = 1
        glob[i, rng.choice(n, size=g, replace=False)] = 1
    return dict(input_ids=ids, attention_mask=mask, global_attention_mask=glob)


def run_hf(hf, inputs, **kw):
    with torch.no_grad():
        return hf(**{k: torch.from_numpy(v) for k, v in inputs.items()}, **kw)


def assert_same(ours, ref, t, what=""):
    """Every output field, with transformers' global attentions cut to the input length t."""
    for f in ("logits", "last_hidden_state", "pooler_output"):
        if getattr(ref, f, None) is not None:
            np.testing.assert_allclose(getattr(ours, f), getattr(ref, f).numpy(), atol=1e-4, rtol=0,
                                       err_msg=f"{what} {f}")
    if ref.hidden_states is not None:
        assert len(ours.hidden_states) == len(ref.hidden_states)
        for a, b in zip(ours.hidden_states, ref.hidden_states):
            np.testing.assert_allclose(a, b.numpy(), atol=1e-4, rtol=0, err_msg=f"{what} hidden")
    if ref.attentions is not None:
        for a, b in zip(ours.attentions, ref.attentions, strict=True):
            np.testing.assert_allclose(a, b.numpy(), atol=1e-4, rtol=0, err_msg=f"{what} attentions")
    if ref.global_attentions is None:
        assert ours.global_attentions is None
    else:
        for a, b in zip(ours.global_attentions, ref.global_attentions, strict=True):
            np.testing.assert_allclose(a, b.numpy()[:, :, :t], atol=1e-4, rtol=0,
                                       err_msg=f"{what} global_attentions")


@pytest.fixture(params=CASES, ids=[f"{n}-{h}" for n, h in CASES])
def pair(request, tmp_path):
    name, head = request.param
    model, hf = make_pair(tmp_path, name, head)
    return name, head, model, hf


@pytest.mark.parametrize("lengths,n_global", [((11, 7, 17), (1, 3, 0)), ((16, 16), (2, 5)),
                                              ((5, 23), (0, 0))])
def test_outputs_hidden_states_attentions(pair, lengths, n_global):
    name, head, model, hf = pair
    assert type(model).__name__ == HF_CLASS[head]
    inputs = batch(seed=sum(lengths), lengths=lengths, n_global=n_global)
    kw = dict(output_hidden_states=True, output_attentions=True)
    ours, ref = model(**inputs, **kw), run_hf(hf, inputs, **kw)
    assert_same(ours, ref, max(lengths), f"{name}-{head}")
    if head == "seqcls":  # no global_attention_mask: transformers makes the first token global
        del inputs["global_attention_mask"]
        assert_same(model(**inputs, **kw), run_hf(hf, inputs, **kw), max(lengths), "default global")


def test_every_module_matches(pair):
    name, head, model, hf = pair
    report = compare_with_transformers(model, hf, **batch(seed=3))
    # transformers runs the six projections on [seq, batch, d] (transposed): their outputs are
    # checked through the attention's output, which has the usual [batch, seq, d]
    projections = ("query", "key", "value", "query_global", "key_global", "value_global")
    rows = [r for r in report.rows if r[0].rsplit(".", 1)[-1] not in projections]
    bad = [r for r in rows if not report.ok(r)]
    assert not bad, str(report)
    names = [r[0] for r in rows]
    prefix = "" if head == "base" else "longformer."
    assert prefix + "encoder.layer.0.attention.self" in names, names
    assert len(rows) >= 8 * model.config.num_hidden_layers, str(report)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_inputs_embeds_position_ids_token_types(tmp_path, name):
    model, hf = make_pair(tmp_path, name, "base", seed=4)
    inputs = batch(seed=5)
    emb = model.embeddings.word_embeddings.weight[inputs["input_ids"]]  # [b, t, d]
    by_embeds = {**inputs, "inputs_embeds": emb.copy()}
    del by_embeds["input_ids"]
    assert_same(model(**by_embeds), run_hf(hf, by_embeds), 17, "inputs_embeds")
    b, t = inputs["input_ids"].shape
    positions = {**inputs, "position_ids": np.tile(np.arange(2, 2 + t), (b, 1))}
    assert_same(model(**positions), run_hf(hf, positions), t, "position_ids")
    if model.config.type_vocab_size > 1:
        types = {**inputs, "token_type_ids": (np.arange(t)[None, :] >= t // 2).astype(np.int64)
                 * inputs["attention_mask"]}
        assert_same(model(**types), run_hf(hf, types), t, "token_type_ids")


def test_head_mask(tmp_path):
    model, hf = make_pair(tmp_path, "windows_16_8_4", "base", seed=6)
    inputs = batch(seed=7)
    hm = np.ones((3, 6), np.float32)
    hm[0, 1] = hm[2, [0, 5]] = 0
    kw = dict(output_attentions=True)
    assert_same(model(**inputs, head_mask=hm, **kw),
                run_hf(hf, {**inputs, "head_mask": hm}, **kw), 17, "head_mask")


def test_a_longer_document_with_several_global_tokens(tmp_path):
    model, hf = make_pair(tmp_path, "windows_16_8_4", "mlm", seed=8)
    inputs = batch(seed=9, lengths=(250, 190), n_global=(6, 2))
    kw = dict(output_attentions=True)
    assert_same(model(**inputs, **kw), run_hf(hf, inputs, **kw), 250, "long")
