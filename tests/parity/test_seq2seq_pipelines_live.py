"""The encoder-decoder pipelines live against transformers' (`make parity`): summarization,
text2text-generation, translation and zero-shot-classification with BART-MNLI, on the committed
tiny checkpoints, for the calls of weights/make_fixtures_seq2seq.py and a few more."""
import importlib.util
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402

pytestmark = pytest.mark.parity

ROOT = Path(__file__).resolve().parents[2]
W = ROOT / "weights"
_spec = importlib.util.spec_from_file_location("recipe", W / "make_fixtures_seq2seq.py")
recipe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recipe)

MORE = [
    ("summarization", "tiny-bart", ["The cat sat on the mat.", "Hi"], dict(max_length=10, num_beams=1)),
    ("summarization", "tiny-bart", "Paris is the capital of France.", dict(max_length=14, length_penalty=0.5)),
    ("text2text-generation", "tiny-distilbart", ["The tower is <mask> tall.", "A <mask> day."],
     dict(max_new_tokens=6)),
    ("translation", "tiny-marian", "Il fait beau aujourd'hui.", dict(max_new_tokens=8, num_beams=3,
                                                                    num_return_sequences=2)),
    ("zero-shot-classification", "tiny-bart-mnli", "Who will win the election?",
     dict(candidate_labels=["politics", "sport"], hypothesis_template="The topic is {}.")),
]
CALLS = recipe.PIPELINE_CALLS + MORE


def rounded(x):
    return recipe.round_floats(x)


@pytest.mark.parametrize("task,folder,inputs,kwargs", CALLS,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CALLS)])
def test_pipeline_live(task, folder, inputs, kwargs):
    theirs = transformers.pipeline(task, model=str(W / folder))(inputs, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = minitf.pipeline(task, model=str(W / folder))(inputs, **kwargs)
    if task == "zero-shot-classification":
        records = ours if isinstance(ours, list) else [ours]
        refs = theirs if isinstance(theirs, list) else [theirs]
        for a, b in zip(records, refs):
            assert a["labels"] == b["labels"]
            assert a["scores"] == pytest.approx(b["scores"], abs=1e-5)
    else:
        assert ours == theirs
