"""summarization, translation, text2text-generation and zero-shot-classification (BART-MNLI) on
the committed tiny encoder-decoders, against what transformers' pipelines return
(tests/fixtures/seq2seq_pipelines_expected.json, made by weights/make_fixtures_seq2seq.py),
and the errors a student meets."""
from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.pipelines import TASKS, normalize_task

ROOT = Path(__file__).resolve().parents[1]
W = ROOT / "weights"
CALLS = json.loads((ROOT / "tests" / "fixtures" / "seq2seq_pipelines_expected.json").read_text())


def approx_equal(got, expected):
    if isinstance(expected, float):
        return got == pytest.approx(expected, abs=1e-4)
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(
            approx_equal(got[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(
            approx_equal(g, e) for g, e in zip(got, expected))
    return got == expected


@pytest.mark.parametrize("call", CALLS, ids=[f"{c['task']}-{c['folder']}-{i}" for i, c in enumerate(CALLS)])
def test_pipeline_returns_what_transformers_returns(call):
    pipe = minitf.pipeline(call["task"], model=str(W / call["folder"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = pipe(call["inputs"], **call["kwargs"])
    assert approx_equal(got, call["expected"]), (got, call["expected"])


def test_defaults_and_task_names():
    assert TASKS["zero-shot-classification"]["default"] == "facebook/bart-large-mnli"
    assert TASKS["summarization"]["default"] == "sshleifer/distilbart-cnn-12-6"
    assert TASKS["translation"]["default"] == "Helsinki-NLP/opus-mt-fr-en"
    assert normalize_task("translation_fr_to_en") == "translation"
    pipe = minitf.pipeline("translation_en_to_fra", model=str(W / "tiny-marian"))
    assert pipe.task == "translation_en_to_fra"
    out = pipe("Hello", max_new_tokens=3, return_tensors=True)
    # a multilingual Marian: the pipeline puts >>fra<< in front of the text
    ids = pipe.tokenizer(">>fra<< Hello", return_tensors="np")
    assert out == [{"translation_token_ids": pipe.model.generate(
        ids["input_ids"], attention_mask=ids["attention_mask"], max_new_tokens=3)[0].tolist()}]


def test_text_equals_generate_then_decode():
    pipe = minitf.pipeline("summarization", model=str(W / "tiny-bart"))
    text = "The cat sat on the mat."
    out = pipe(text, max_length=10, num_beams=2, return_tensors=True)
    ids = pipe.tokenizer(text, return_tensors="np")
    expected = pipe.model.generate(ids["input_ids"], attention_mask=ids["attention_mask"],
                                   max_length=10, num_beams=2)
    assert out == [{"summary_token_ids": expected[0].tolist()}]
    assert pipe(text, max_length=10, num_beams=2) == [
        {"summary_text": pipe.tokenizer.decode(expected[0], skip_special_tokens=True)}]


def test_batches_give_the_same_as_one_at_a_time():
    pipe = minitf.pipeline("summarization", model=str(W / "tiny-bart"))
    texts = ["The cat sat on the mat.", "Paris is the capital of France, and Berlin of Germany.", "Hi"]
    one = [pipe(t, max_length=10)[0] for t in texts]
    assert pipe(texts, max_length=10, batch_size=3) == one
    assert pipe(texts, max_length=10, batch_size=2) == one


def test_too_long_input_is_truncated_with_a_warning():
    pipe = minitf.pipeline("summarization", model=str(W / "tiny-bart"))
    long = "word " * 200
    with pytest.warns(UserWarning, match=r"longer than the specified maximum sequence length.*truncated to 64"):
        out = pipe(long, max_length=10)
    assert list(out[0]) == ["summary_text"]
    with pytest.raises(ValueError, match=r"reads at most 64; pass truncation=True"):
        pipe(long, max_length=10, truncation=False)


def test_summarization_warns_when_max_length_exceeds_the_input(caplog):
    pipe = minitf.pipeline("summarization", model=str(W / "tiny-bart"))
    with caplog.at_level(logging.WARNING):
        pipe("Short text.", max_length=20)
    assert "Your max_length is set to 20, but your input_length is only" in caplog.text


def test_bad_input_is_named():
    summarizer = minitf.pipeline("summarization", model=str(W / "tiny-bart"))
    with pytest.raises(ValueError, match=r"summarization got an empty text"):
        summarizer("")
    with pytest.raises(ValueError, match=r"max_length=10 is below min_length=30"):
        summarizer("The cat sat on the mat.", min_length=30, max_length=10)
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) \['max_lenght'\]"):
        summarizer("The cat sat on the mat.", max_lenght=10)
    with pytest.raises(TypeError, match=r"takes a string or a list of strings"):
        summarizer(42)


def test_a_target_language_the_model_does_not_have():
    translator = minitf.pipeline("translation", model=str(W / "tiny-marian"))
    with pytest.raises(ValueError, match=r"does not translate into 'de': its target languages are "
                                         r"\['deu', 'fra', 'spa'\]"):
        translator("Bonjour", tgt_lang="de")
    bad = minitf.pipeline("translation_en_to_ita", model=str(W / "tiny-marian"))
    with pytest.raises(ValueError, match=r"does not translate into 'ita'"):
        bad("Hello")


def test_zero_shot_with_bart_mnli_uses_its_entailment_column():
    zs = minitf.pipeline("zero-shot-classification", model=str(W / "tiny-bart-mnli"))
    assert zs.entailment_id == 2
    out = zs(["I love this course", "The weather is bad"], candidate_labels="positive, negative")
    assert [sorted(o["labels"]) for o in out] == [["negative", "positive"]] * 2
    assert all(abs(sum(o["scores"]) - 1) < 1e-6 for o in out)
    single = zs("I love this course", candidate_labels=["positive"])
    assert 0.0 <= single["scores"][0] <= 1.0
    np.testing.assert_allclose(  # one label: entailment vs contradiction, as multi_label
        single["scores"][0], zs("I love this course", candidate_labels=["positive"], multi_label=True)["scores"][0])
