"""GenerationConfig and what generate() does with it: attribute access, saving and loading,
a checkpoint's defaults (BART-style), the three-layer merge, custom processors and stopping
criteria, the do_sample warnings, set_seed, and batch invariance with pad == eos."""
import json
import random
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf import GenerationConfig
from minitf.generation import (LogitsProcessorList, RepetitionPenaltyLogitsProcessor,
                               StoppingCriteriaList, build_processors)
from minitf.generation.configuration import FIELDS

TINY = Path(__file__).resolve().parents[1] / "weights" / "tiny-gpt2"
TINY_REFORMER = Path(__file__).resolve().parents[1] / "weights" / "tiny-reformer"
BART_LIKE = dict(num_beams=4, length_penalty=2.0, no_repeat_ngram_size=3, min_length=6,
                 early_stopping=True)


def load(folder=TINY):
    return minitf.AutoModelForCausalLM.from_pretrained(folder)


@pytest.fixture(scope="module")
def model():
    return load()


@pytest.fixture(scope="module")
def tok():
    return minitf.AutoTokenizer.from_pretrained(TINY)


@pytest.fixture(scope="module")
def prompt(tok):
    return tok("The cat sat", return_tensors="np")["input_ids"]


@pytest.fixture
def bart_like(tmp_path):
    """tiny-gpt2 shipping BART's kind of decoding defaults in its generation_config.json."""
    folder = tmp_path / "bart-like"
    shutil.copytree(TINY, folder)
    gen = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**gen, **BART_LIKE}))
    return folder


# -- the config object --------------------------------------------------------------------------
def test_defaults_are_transformers_4x():
    cfg = GenerationConfig()
    assert (cfg.max_length, cfg.max_new_tokens, cfg.do_sample, cfg.num_beams) == (20, None, False, 1)
    assert (cfg.temperature, cfg.top_k, cfg.top_p, cfg.repetition_penalty) == (1.0, 50, 1.0, 1.0)
    assert (cfg.length_penalty, cfg.no_repeat_ngram_size, cfg.min_length) == (1.0, 0, 0)
    assert cfg.forced_bos_token_id is None and cfg.early_stopping is False
    assert cfg.to_diff_dict() == {}


def test_attribute_access_changes_what_generate_does(prompt):
    model = load()
    model.generation_config.max_new_tokens = 7
    assert model.generate(prompt).shape[1] == prompt.shape[1] + 7
    assert model.generate(prompt, max_new_tokens=3).shape[1] == prompt.shape[1] + 3  # kwargs win


def test_save_and_load_round_trip(tmp_path, prompt):
    model = load()
    model.generation_config.num_beams = 3
    model.generation_config.max_new_tokens = 5
    model.save_pretrained(tmp_path / "saved")
    written = json.loads((tmp_path / "saved" / "generation_config.json").read_text())
    assert written["num_beams"] == 3 and written["max_new_tokens"] == 5
    assert "top_k" not in written  # only what differs from the defaults, as transformers
    again = load(tmp_path / "saved")
    assert again.generation_config == model.generation_config
    np.testing.assert_array_equal(again.generate(prompt), model.generate(prompt))

    cfg = GenerationConfig(top_p=0.5, no_timestamps_token_id=7)  # extras are kept, as transformers
    cfg.save_pretrained(tmp_path / "cfg")
    loaded = GenerationConfig.from_pretrained(tmp_path / "cfg")
    assert loaded == cfg and loaded.no_timestamps_token_id == 7
    assert GenerationConfig.from_dict(cfg.to_dict()) == cfg


def test_config_json_options_are_read_without_generation_config_json(tmp_path):
    folder = tmp_path / "legacy"
    shutil.copytree(TINY, folder)
    (folder / "generation_config.json").unlink()
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "num_beams": 4, "no_repeat_ngram_size": 3}))
    gc = load(folder).generation_config
    assert gc.num_beams == 4 and gc.no_repeat_ngram_size == 3 and gc.eos_token_id == 0
    assert not hasattr(gc, "n_embd")  # only generation options come from config.json
    assert GenerationConfig.from_pretrained(folder) == gc


def test_update_returns_what_is_not_an_option():
    cfg = GenerationConfig()
    assert cfg.update(num_beams=2, lsh_rotations=[1]) == {"lsh_rotations": [1]}
    assert cfg.num_beams == 2


def test_bad_files_and_types_are_named(tmp_path, model):
    (tmp_path / "generation_config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"generation_config.json is not valid JSON"):
        GenerationConfig.from_pretrained(tmp_path)
    with pytest.raises(OSError, match=r"neither generation_config.json nor config.json"):
        GenerationConfig.from_pretrained(tmp_path / "..")
    with pytest.raises(TypeError, match=r"generation_config must be a minitf.GenerationConfig"):
        model.generate(np.array([[1, 2]]), generation_config={"num_beams": 2})
    with pytest.raises(TypeError, match=r"from_dict takes a dict"):
        GenerationConfig.from_dict([("num_beams", 2)])


# -- a checkpoint's defaults and the merge --------------------------------------------------------
def test_checkpoint_defaults_are_honoured(bart_like, model, prompt):
    shipped = load(bart_like)
    got = shipped.generate(prompt, max_new_tokens=8)
    want = model.generate(prompt, max_new_tokens=8, **BART_LIKE)
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, model.generate(prompt, max_new_tokens=8))  # they matter here


def test_explicit_arguments_override_checkpoint_defaults(bart_like, model, prompt):
    shipped = load(bart_like)
    with pytest.warns(UserWarning, match=r"`num_beams` is set to 1. However, `length_penalty`"):
        got = shipped.generate(prompt, max_new_tokens=8, num_beams=1)
    want = model.generate(prompt, max_new_tokens=8, no_repeat_ngram_size=3, min_length=6)
    np.testing.assert_array_equal(got, want)


def test_generation_config_argument_merges_with_the_models(bart_like, model, prompt):
    shipped = load(bart_like)
    # options left at the global defaults take the model's (num_beams=4 ...), as 4.x does
    got = shipped.generate(prompt, generation_config=GenerationConfig(max_new_tokens=8))
    np.testing.assert_array_equal(got, model.generate(prompt, max_new_tokens=8, **BART_LIKE))
    # a set option wins over the model's, and a keyword argument over both
    got = shipped.generate(prompt, generation_config=GenerationConfig(max_new_tokens=8, num_beams=2),
                           no_repeat_ngram_size=2)
    want = model.generate(prompt, max_new_tokens=8, **{**BART_LIKE, "num_beams": 2,
                                                       "no_repeat_ngram_size": 2})
    np.testing.assert_array_equal(got, want)
    assert shipped.generation_config.num_beams == 4  # the model's config is not changed by a call


def test_forced_bos_and_eos(model):
    start = np.array([[7]])
    out = model.generate(start, max_new_tokens=5, forced_bos_token_id=42, forced_eos_token_id=9)
    assert out[0, 1] == 42 and out[0, -1] == 9 and out.shape[1] == 6
    out = model.generate(start, max_new_tokens=5, suppress_tokens=[int(out[0, 2])],
                         begin_suppress_tokens=[42])
    assert out[0, 1] != 42


def test_min_length_counts_the_prompt(model, prompt):
    greedy = model.generate(prompt, max_new_tokens=10)[0, prompt.shape[1]:].tolist()
    eos = greedy[1] if greedy[1] not in greedy[:1] else greedy[0]
    first = greedy.index(eos)
    out = model.generate(prompt, max_new_tokens=10, eos_token_id=eos,
                         min_length=prompt.shape[1] + first + 3)
    assert eos not in out[0, prompt.shape[1]:prompt.shape[1] + first + 3].tolist()


def test_default_is_20_new_tokens_capped_by_positions(model):
    long_prompt = np.ones((1, 120), np.int64)
    assert model.generate(long_prompt).shape[1] == 128  # 20 new tokens would pass n_positions
    with pytest.raises(ValueError, match=r"exceeds the model's 128 positions"):
        model.generate(long_prompt, max_new_tokens=20)
    with pytest.warns(UserWarning, match=r"max_new_tokens takes precedence"):
        out = model.generate(np.ones((1, 3), np.int64), max_new_tokens=2, max_length=10)
    assert out.shape[1] == 5


# -- custom processors and criteria ----------------------------------------------------------------
def test_custom_logits_processor_runs_after_the_built_in_ones(model, prompt):
    seen = []

    def force_5(ids, scores):
        seen.append(scores.copy())
        forced = np.full_like(scores, -np.inf)
        forced[:, 5] = 0
        return forced

    out = model.generate(prompt, max_new_tokens=4, logits_processor=[force_5])
    assert out[0, prompt.shape[1]:].tolist() == [5, 5, 5, 5]
    # it sees the scores after the repetition penalty, before the sampling warpers
    seen.clear()
    model.generate(prompt, max_new_tokens=1, repetition_penalty=2.0, logits_processor=[force_5])
    logits = model(input_ids=prompt).logits[:, -1]
    want = RepetitionPenaltyLogitsProcessor(2.0)(prompt, logits)
    np.testing.assert_allclose(seen[0], want, rtol=0, atol=1e-5)
    out = model.generate(prompt, max_new_tokens=3, num_beams=2, logits_processor=LogitsProcessorList([force_5]))
    assert out[0, prompt.shape[1]:].tolist() == [5, 5, 5]


def test_custom_processor_of_a_built_in_type_is_refused(model, prompt):
    with pytest.raises(ValueError, match=r"RepetitionPenaltyLogitsProcessor .* also built one"):
        model.generate(prompt, repetition_penalty=1.2,
                       logits_processor=[RepetitionPenaltyLogitsProcessor(1.5)])
    with pytest.raises(TypeError, match=r"logits_processor holds 3, which is not callable"):
        model.generate(prompt, logits_processor=[3])


def test_custom_stopping_criteria(model, prompt):
    calls = []

    def three_new(ids, scores):
        calls.append(scores is not None and scores.shape == (ids.shape[0], model.config.vocab_size))
        return np.full(ids.shape[0], ids.shape[1] >= prompt.shape[1] + 3)

    out = model.generate(prompt, max_new_tokens=10, stopping_criteria=StoppingCriteriaList([three_new]))
    assert out.shape[1] == prompt.shape[1] + 3 and all(calls)
    out = model.generate(prompt, max_new_tokens=10, num_beams=2, stopping_criteria=[three_new])
    assert out.shape[1] == prompt.shape[1] + 3
    with pytest.raises(ValueError, match=r"must return bools, one per row"):
        model.generate(prompt, stopping_criteria=[lambda ids, scores: np.zeros(5)])


def test_unknown_keyword_arguments_are_named(model, prompt):
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['num_beam'\]: they are "
                                        r"neither generation options"):
        model.generate(prompt, num_beam=2)


# -- warnings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,value", [("temperature", 0.7), ("top_p", 0.9), ("top_k", 10)])
def test_sampling_options_without_do_sample_warn(model, prompt, name, value):
    with pytest.warns(UserWarning, match=rf"`do_sample` is set to `False`. However, `{name}` is set "
                                         rf"to `{value}` -- this flag is only used in sample-based"):
        greedy = model.generate(prompt, max_new_tokens=4, **{name: value})
    np.testing.assert_array_equal(greedy, model.generate(prompt, max_new_tokens=4))  # ignored
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.generate(prompt, max_new_tokens=4, do_sample=True, seed=0, **{name: value})


def test_beam_options_without_beams_warn(model, prompt):
    with pytest.warns(UserWarning, match=r"`num_beams` is set to 1. However, `length_penalty` is set to `2.0`"):
        model.generate(prompt, max_new_tokens=2, length_penalty=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.generate(prompt, max_new_tokens=2, num_beams=2, length_penalty=2.0)


# -- randomness ----------------------------------------------------------------------------------
def test_set_seed_makes_sampling_repeatable(model, prompt):
    minitf.set_seed(0)
    a = model.generate(prompt, max_new_tokens=15, do_sample=True)
    draws = (np.random.rand(), random.random())
    minitf.set_seed(0)
    b = model.generate(prompt, max_new_tokens=15, do_sample=True)
    np.testing.assert_array_equal(a, b)
    assert (np.random.rand(), random.random()) == draws  # numpy's and python's generators too
    minitf.set_seed(1)
    assert not np.array_equal(model.generate(prompt, max_new_tokens=15, do_sample=True), a)
    with pytest.raises(TypeError, match=r"set_seed takes an int"):
        minitf.set_seed("0")
    with pytest.raises(ValueError, match=r"non-negative"):
        minitf.set_seed(-1)


# -- batch invariance ----------------------------------------------------------------------------
TEXTS = ["Hello world, this is", "The cat", "In this course, we will teach you how to", "A"]
PAD_EOS = 456  # a token the tiny model often generates: padding with EOS must not change rows


@pytest.mark.parametrize("kwargs", [
    dict(), dict(repetition_penalty=1.5), dict(repetition_penalty=0.7),
    dict(presence_penalty=1.0, frequency_penalty=0.5), dict(no_repeat_ngram_size=1),
    dict(no_repeat_ngram_size=2), dict(min_length=12), dict(num_beams=2),
    dict(do_sample=True, seed=3, top_k=0),
], ids=["greedy", "rep1.5", "rep0.7", "presence_frequency", "ngram1", "ngram2", "min_length",
        "beam2", "sample"])
def test_padded_row_generates_what_it_generates_alone(model, tok, kwargs):
    """pad == eos: a row of a left-padded batch gives exactly the ids of its prompt alone."""
    prompts = [tok(t)["input_ids"] for t in TEXTS]
    width = max(len(p) for p in prompts)
    ids = np.full((len(prompts), width), PAD_EOS, np.int64)
    mask = np.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, width - len(p):], mask[i, width - len(p):] = p, 1
    common = dict(max_new_tokens=12, eos_token_id=PAD_EOS, pad_token_id=PAD_EOS, **kwargs)
    if kwargs.get("do_sample"):  # one row at a time, so each row draws the same random numbers
        ids, mask, prompts = ids[1:2], mask[1:2], prompts[1:2]
    batch = model.generate(ids, attention_mask=mask, **common)
    stopped_early = 0
    for i, p in enumerate(prompts):
        alone = model.generate(np.array([p]), **common)[0, len(p):].tolist()
        row = batch[i, width:].tolist()
        assert row[:len(alone)] == alone, (i, kwargs)
        assert all(t == PAD_EOS for t in row[len(alone):])  # then only the fill
        stopped_early += len(alone) < 12
    if not kwargs:
        assert stopped_early  # EOS (= the padding) is in play: rows stop at different points


def test_penalties_counting_padding_would_change_a_row(model, tok):
    """The check above can fail: with the padding counted as text (transformers 4.x), the EOS
    that pads a row is penalised and that row no longer stops where it stops alone."""
    p = tok(TEXTS[1])["input_ids"]
    padded = np.array([[PAD_EOS] * 8 + p])
    counted = build_processors(GenerationConfig(repetition_penalty=1.5), prompt_length=padded.shape[1],
                               eos_token_ids=[PAD_EOS], max_length=30)  # no prompt_mask: pads count
    skipped = build_processors(GenerationConfig(repetition_penalty=1.5), prompt_length=padded.shape[1],
                               eos_token_ids=[PAD_EOS], max_length=30,
                               prompt_mask=(padded != PAD_EOS).astype(np.int64))
    scores = np.zeros((1, model.config.vocab_size), np.float32) + 1.0
    assert counted(padded, scores)[0, PAD_EOS] < skipped(padded, scores)[0, PAD_EOS] == 1.0


# -- the CLI and the pipeline take the same option list -------------------------------------------
def test_cli_has_a_flag_for_every_option():
    from minitf.cli import build_parser

    args = build_parser().parse_args(["generate", "x"])
    for name in FIELDS:
        assert getattr(args, name) is None, name  # not given: the model's generation_config decides
    args = build_parser().parse_args(["generate", "x", "--no-cache", "--do-sample", "--eos-token-id", "3",
                                      "4", "--early-stopping", "never", "--stop", "a", "--stop", "b"])
    assert (args.use_cache, args.do_sample, args.eos_token_id) == (False, True, [3, 4])
    assert args.early_stopping == "never" and args.stop_strings == ["a", "b"]


def test_cli_honours_the_checkpoint_defaults(bart_like, capsys, model, tok, prompt):
    from minitf.cli import main

    assert main(["generate", "The cat sat", "--model", str(bart_like), "--max-new-tokens", "8"]) == 0
    want = model.generate(prompt, max_new_tokens=8, **BART_LIKE)[0]
    assert capsys.readouterr().out == tok.decode(want, skip_special_tokens=True) + "\n"


def test_pipeline_takes_every_option(model, tok):
    gen = minitf.pipeline("text-generation", model=model, tokenizer=tok)
    ids = tok("The cat sat", return_tensors="np")["input_ids"]
    want = model.generate(ids, max_new_tokens=5, min_length=7, forced_eos_token_id=9)
    out = gen("The cat sat", max_new_tokens=5, min_length=7, forced_eos_token_id=9, return_tensors=True)
    assert out[0]["generated_token_ids"] == want[0].tolist()


# -- Reformer generates ----------------------------------------------------------------------------
def test_reformer_greedy_is_the_argmax_of_full_forwards():
    model = minitf.AutoModelForCausalLM.from_pretrained(TINY_REFORMER)
    assert isinstance(model, minitf.ReformerModelWithLMHead)
    seq = np.array([[5, 7, 9, 11, 3, 40, 22]])
    out = model.generate(seq, max_new_tokens=12, num_hashes=1)  # a forward argument, every step
    for _ in range(out.shape[1] - seq.shape[1]):
        nxt = model(input_ids=seq, num_hashes=1).logits[:, -1].argmax(-1)
        if nxt[0] == model.config.eos_token_id:
            break
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    np.testing.assert_array_equal(out[:, :seq.shape[1]], seq)
    assert model.generation_stats.kv_cache_peak_bytes == 0  # no cache: each step recomputes
    beams = model.generate(seq[:, :7], max_new_tokens=6, num_beams=3, num_return_sequences=2)
    assert beams.shape[0] == 2
