"""The text-generation pipeline and the GPT-2 tokenizer, live against transformers."""
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402

pytestmark = pytest.mark.parity
ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "weights" / "tiny-gpt2"
REAL_TOK = ROOT / "weights" / "real" / "gpt2-tokenizer"
PROMPTS = ["In this course, we will teach you how to", "Hello world", "The cat sat on the mat and"]


@pytest.mark.parametrize("kwargs", [
    dict(max_new_tokens=8),
    dict(max_new_tokens=8, return_full_text=False),
    # (max_length is left out: transformers 4.57's pipeline also truncates the prompt to it and
    # adds a default max_new_tokens=256, which the course-era pipeline did not)
    dict(max_new_tokens=6, num_beams=3, num_return_sequences=2),
    dict(max_new_tokens=10, repetition_penalty=1.5, no_repeat_ngram_size=2),
])
def test_pipeline_outputs_equal(kwargs):
    ours = minitf.pipeline("text-generation", model=str(TINY))
    ref = transformers.pipeline("text-generation", model=str(TINY), device="cpu")
    for prompt in PROMPTS:
        assert ours(prompt, do_sample=False, **kwargs) == ref(prompt, do_sample=False, **kwargs)
    assert ours(PROMPTS, do_sample=False, **kwargs) == ref(PROMPTS, do_sample=False, **kwargs)


@pytest.mark.parametrize("folder", [TINY, REAL_TOK], ids=["tiny", "gpt2"])
def test_tokenizer_batches_equal(folder):
    ours = minitf.AutoTokenizer.from_pretrained(folder)
    ref = transformers.AutoTokenizer.from_pretrained(str(folder))
    for tok in (ours, ref):
        tok.pad_token = tok.eos_token
    texts = ["Hello world!", "  spaces   and\ttabs\n", "naïve café 😀 日本語", "don't stop"]
    for side in ("right", "left"):
        ours.padding_side = ref.padding_side = side
        a = ours(texts, padding=True, return_tensors="np", return_offsets_mapping=True)
        b = ref(texts, padding=True, return_tensors="np", return_offsets_mapping=True)
        for key in ("input_ids", "attention_mask", "offset_mapping"):
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{key} {side}")
    a = ours(texts, truncation=True, max_length=4)
    b = ref(texts, truncation=True, max_length=4)
    assert a["input_ids"] == b["input_ids"]
    ids = ref("naïve café 😀 <|endoftext|> x")["input_ids"]
    assert ours.decode(ids) == ref.decode(ids)
    assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True)
