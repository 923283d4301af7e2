"""The real sentence-transformers all-MiniLM-L6-v2 (a BertModel, 6 layers, 384 wide) loaded with
minitf.AutoModel, against the hidden states transformers computed for a few sentences
(tests/fixtures/minilm_expected.npz, made by weights/make_fixtures_encoders.py). No torch.

Needs the real checkpoint: `make weights` (weights/fetch.py) puts it in weights/real/."""
from pathlib import Path

import numpy as np
import pytest

import minitf

ROOT = Path(__file__).resolve().parents[1]
MINILM = ROOT / "weights" / "real" / "all-MiniLM-L6-v2"
FIXTURE = ROOT / "tests" / "fixtures" / "minilm_expected.npz"
ATOL = 2e-4


@pytest.fixture(scope="module")
def model():
    if not (MINILM / "model.safetensors").is_file():
        pytest.fail(f"the real all-MiniLM-L6-v2 is missing from {MINILM}: run `make weights` "
                    f"(python weights/fetch.py)")
    return minitf.AutoModel.from_pretrained(MINILM)


@pytest.fixture(scope="module")
def expected():
    return dict(np.load(FIXTURE))


def test_loads_as_a_bert_model(model):
    assert type(model).__name__ == "BertModel"
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads) == (6, 384, 12)
    assert model.num_parameters() == 22_713_216  # every tensor of the checkpoint, buffers aside


def test_last_hidden_state_matches_transformers(model, expected):
    inputs = {k: expected[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    assert (inputs["attention_mask"] == 0).any()  # a padded batch
    out = model(**inputs)
    assert out.last_hidden_state.dtype == np.float32
    np.testing.assert_allclose(out.last_hidden_state, expected["last_hidden_state"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(out.pooler_output, expected["pooler_output"], atol=ATOL, rtol=0)


def test_sentence_embeddings(model, expected):
    """sentence-transformers' recipe: mean over the real tokens, then L2-normalise. Same
    embeddings as from transformers' hidden states, and related sentences score higher."""
    inputs = {k: expected[k] for k in ("input_ids", "attention_mask", "token_type_ids")}

    def embed(h, mask):
        m = mask[..., None].astype(np.float32)
        e = (h * m).sum(1) / m.sum(1)
        return e / np.linalg.norm(e, axis=-1, keepdims=True)

    ours = embed(model(**inputs).last_hidden_state, inputs["attention_mask"])
    ref = embed(expected["last_hidden_state"], inputs["attention_mask"])
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    sim = ours @ ours.T
    sentences = [str(s) for s in expected["sentences"]]
    first, second = sentences.index("This is an example sentence."), sentences.index("Each sentence is converted.")
    cat = sentences.index("The cat sits outside.")
    assert sim[first, second] > sim[first, cat]  # two sentences about sentences are closer


def test_float64_and_one_sentence_at_a_time(expected):
    """Each sentence alone (no padding) gives the batch's numbers at its real positions."""
    model = minitf.AutoModel.from_pretrained(MINILM, dtype="float64")
    for i in range(len(expected["input_ids"])):
        n = int(expected["attention_mask"][i].sum())
        h = model(input_ids=expected["input_ids"][i:i + 1, :n]).last_hidden_state
        assert h.dtype == np.float64
        np.testing.assert_allclose(h[0], expected["last_hidden_state"][i, :n], atol=ATOL, rtol=0)
