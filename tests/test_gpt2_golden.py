"""Golden-fixture parity: minitf's GPT-2 against outputs transformers computed once
(weights/make_fixtures.py). Runs without torch."""
import json
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.backend import use_backend

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "gpt2_expected.npz"
FOLDERS = {"tiny": ROOT / "weights" / "tiny-gpt2", "variant": ROOT / "weights" / "tiny-gpt2-variant"}
ATOL = 1e-4


@pytest.fixture(scope="module")
def expected():
    return dict(np.load(FIXTURES))


@pytest.fixture(scope="module", params=["tiny", "variant"])
def case(request):
    return request.param, minitf.AutoModelForCausalLM.from_pretrained(FOLDERS[request.param])


def test_single_prompt_logits_hidden_states_attentions(case, expected):
    tag, model = case
    ids = expected[f"{tag}/single_ids"]
    out = model(input_ids=ids, output_hidden_states=True, output_attentions=True)
    np.testing.assert_allclose(out.logits, expected[f"{tag}/single_logits"], atol=ATOL, rtol=0)
    assert out.logits.dtype == np.float32
    assert len(out.hidden_states) == model.config.n_layer + 1
    for i, h in enumerate(out.hidden_states):
        np.testing.assert_allclose(h, expected[f"{tag}/single_hidden_{i}"], atol=ATOL, rtol=0)
    assert len(out.attentions) == model.config.n_layer
    for i, a in enumerate(out.attentions):
        np.testing.assert_allclose(a, expected[f"{tag}/single_attn_{i}"], atol=ATOL, rtol=0)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_left_padded_batch_logits(case, expected, backend):
    tag, model = case
    ids, mask = expected[f"{tag}/input_ids"], expected[f"{tag}/attention_mask"]
    pos = np.cumsum(mask, -1) - 1
    pos[mask == 0] = 1
    with use_backend(backend):
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits
    real = mask.astype(bool)  # padded positions are don't-cares, as in transformers' own tests
    np.testing.assert_allclose(logits[real], expected[f"{tag}/batch_logits"][real], atol=ATOL, rtol=0)


def _gen_cases(expected_path=FIXTURES):
    return list(json.loads(str(np.load(expected_path)["meta/gen_cases"])).items())


@pytest.mark.parametrize("name,kwargs", _gen_cases())
def test_generate_matches_transformers(case, expected, name, kwargs):
    tag, model = case
    kwargs = dict(kwargs)
    if kwargs.get("eos_token_id") == "PICK":
        kwargs["eos_token_id"] = int(expected[f"{tag}/pick_eos"])
    ids, mask = expected[f"{tag}/input_ids"], expected[f"{tag}/attention_mask"]
    got = model.generate(ids, attention_mask=mask, pad_token_id=model.config.eos_token_id, **kwargs)
    want = expected[f"{tag}/gen_{name}"]
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want, err_msg=f"{tag} {name} {kwargs}")
