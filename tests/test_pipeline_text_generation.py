"""pipeline("text-generation"): output structure and arguments as in transformers 4.x."""
from pathlib import Path

import numpy as np
import pytest

import minitf

TINY = Path(__file__).resolve().parents[1] / "weights" / "tiny-gpt2"
PROMPT = "In this course, we will teach you how to"


@pytest.fixture(scope="module")
def gen():
    return minitf.pipeline("text-generation", model=str(TINY))


def test_single_prompt_gives_a_list_of_dicts(gen):
    out = gen(PROMPT, max_new_tokens=5)
    assert isinstance(out, list) and len(out) == 1 and list(out[0]) == ["generated_text"]
    assert out[0]["generated_text"].startswith(PROMPT)
    assert len(out[0]["generated_text"]) > len(PROMPT)


def test_greedy_text_is_the_decoded_generate_output(gen):
    tok, model = gen.tokenizer, gen.model
    ids = tok(PROMPT, return_tensors="np")["input_ids"]
    want = tok.decode(model.generate(ids, max_new_tokens=6)[0], skip_special_tokens=True)
    assert gen(PROMPT, max_new_tokens=6)[0]["generated_text"] == want


def test_return_full_text_false(gen):
    full = gen(PROMPT, max_new_tokens=6)[0]["generated_text"]
    new = gen(PROMPT, max_new_tokens=6, return_full_text=False)[0]["generated_text"]
    assert full == PROMPT + new


def test_num_return_sequences_and_sampling(gen):
    out = gen(PROMPT, max_new_tokens=6, num_return_sequences=3, do_sample=True, seed=0)
    assert len(out) == 3 and all(o["generated_text"].startswith(PROMPT) for o in out)
    again = gen(PROMPT, max_new_tokens=6, num_return_sequences=3, do_sample=True, seed=0)
    assert out == again


def test_max_length_counts_prompt_tokens(gen):
    n_prompt = len(gen.tokenizer.encode(PROMPT))
    out = gen(PROMPT, max_length=n_prompt + 4, return_tensors=True)
    assert len(out[0]["generated_token_ids"]) == n_prompt + 4


def test_batched_inputs_give_a_list_per_prompt(gen):
    prompts = [PROMPT, "Hello world", "The cat sat on the"]
    one_by_one = gen(prompts, max_new_tokens=5)
    assert len(one_by_one) == 3 and all(len(r) == 1 for r in one_by_one)
    batched = gen(prompts, max_new_tokens=5, batch_size=3)  # left-padded in one generate call
    assert batched == one_by_one
    for p, r in zip(prompts, batched):
        assert r[0]["generated_text"].startswith(p)


def test_task_specific_defaults_from_config(tmp_path):
    import json
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(TINY, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["task_specific_params"] = {"text-generation": {"do_sample": True, "max_length": 14}}
    (folder / "config.json").write_text(json.dumps(cfg))
    gen = minitf.pipeline("text-generation", model=str(folder))
    out = gen("Hello", return_tensors=True)
    assert len(out[0]["generated_token_ids"]) == 14  # max_length 50-style default from the config
    out = gen("Hello", return_tensors=True, max_new_tokens=3)  # an explicit argument wins
    assert len(out[0]["generated_token_ids"]) == len(gen.tokenizer.encode("Hello")) + 3


def test_loaded_model_and_tokenizer_objects():
    model = minitf.AutoModelForCausalLM.from_pretrained(TINY)
    tok = minitf.AutoTokenizer.from_pretrained(TINY)
    gen = minitf.pipeline("text-generation", model=model, tokenizer=tok)
    assert gen("Hello", max_new_tokens=2)[0]["generated_text"].startswith("Hello")


def test_the_callers_tokenizer_is_not_changed():
    tok = minitf.AutoTokenizer.from_pretrained(TINY)
    model = minitf.AutoModelForCausalLM.from_pretrained(TINY)
    assert tok.pad_token is None
    before = (tok.pad_token, tok.pad_token_id, tok.padding_side)
    gen = minitf.pipeline("text-generation", model=model, tokenizer=tok)
    batched = gen([PROMPT, "Hello world", "The cat"], max_new_tokens=4, batch_size=3)
    assert (tok.pad_token, tok.pad_token_id, tok.padding_side) == before
    # and the batch (padded with EOS, as transformers does for GPT-2) gives each prompt's text
    assert batched == [gen(p, max_new_tokens=4) for p in [PROMPT, "Hello world", "The cat"]]


def test_errors_are_clear(gen):
    with pytest.raises(KeyError, match=r"unknown or unsupported task 'text-generator'"):
        minitf.pipeline("text-generator", model=str(TINY))
    with pytest.raises(TypeError, match=r"takes a string or a list of strings"):
        gen(42)
    with pytest.raises(ValueError, match=r"empty prompt"):
        gen("")
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) \['max_tokens'\]"):
        gen(PROMPT, max_tokens=3)
    with pytest.raises(OSError, match=r"not an existing folder|not a local folder"):
        minitf.pipeline("text-generation", model="./missing/model/folder")
