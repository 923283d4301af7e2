"""Reformer generation live against transformers (`make parity`): the committed tiny causal
Reformer (weights/tiny-reformer), greedy and beam search, same ids.

minitf's Reformer has no cache: every step recomputes the whole sequence. The reference is
therefore transformers' `use_cache=False` path; its cached path (which gathers past keys by LSH
bucket) decodes differently and is not what minitf computes. LSH rotations are random in
transformers; with `hash_seed` set, every LSH layer reseeds and draws the same rotations on
every call, so they are captured once and given to minitf through `lsh_rotations=`.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402

pytestmark = pytest.mark.parity

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "weights" / "tiny-reformer"
_spec = importlib.util.spec_from_file_location("make_fixtures_reformer",
                                               ROOT / "weights" / "make_fixtures_reformer.py")
recipe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recipe)
HASH_SEED = 7


@pytest.fixture(scope="module")
def pair():
    hf = transformers.ReformerModelWithLMHead.from_pretrained(str(TINY), hash_seed=HASH_SEED).eval()
    with recipe.captured_rotations() as drawn, torch.no_grad():
        hf(torch.arange(1, 17)[None])  # longer than a chunk, so the LSH layers hash
    rotations = [drawn[i] for i in sorted(drawn)]
    assert len(rotations) == 2
    ours = minitf.AutoModelForCausalLM.from_pretrained(TINY, hash_seed=HASH_SEED)
    return ours, hf, rotations


@pytest.mark.parametrize("kwargs", [
    dict(max_new_tokens=30),
    dict(max_new_tokens=20, repetition_penalty=1.3, no_repeat_ngram_size=2),
    dict(max_new_tokens=12, num_beams=3, num_return_sequences=2),
], ids=["greedy", "greedy_penalties", "beam3"])
@pytest.mark.parametrize("prompt", [[5, 7, 9, 11, 3, 40, 22], [12, 30, 4, 4, 61, 9, 17, 33, 8, 50, 21]],
                         ids=["7_tokens", "11_tokens"])
def test_generate_same_ids(pair, kwargs, prompt):
    ours, hf, rotations = pair
    ids = np.array([prompt])
    got = ours.generate(ids, lsh_rotations=rotations, **kwargs)
    with torch.no_grad():
        want = hf.generate(torch.from_numpy(ids), attention_mask=torch.ones(ids.shape, dtype=torch.long),
                           do_sample=False, use_cache=False, **kwargs).numpy()
    np.testing.assert_array_equal(got, want, err_msg=str(kwargs))
