"""generate(): the behaviour of each control, the KV cache switch, streaming, statistics and
the errors. Ids against transformers are checked in test_gpt2_golden.py and tests/parity."""
import io
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.generation import (PresenceFrequencyPenaltyLogitsProcessor, TextIteratorStreamer,
                               TextStreamer)

TINY = Path(__file__).resolve().parents[1] / "weights" / "tiny-gpt2"


@pytest.fixture(scope="module")
def model():
    return minitf.AutoModelForCausalLM.from_pretrained(TINY)


@pytest.fixture(scope="module")
def tok():
    return minitf.AutoTokenizer.from_pretrained(TINY)


@pytest.fixture(scope="module")
def prompt(tok):
    return tok("The cat sat", return_tensors="np")["input_ids"]


def test_sampling_is_repeatable_with_a_seed(model, prompt):
    a = model.generate(prompt, max_new_tokens=15, do_sample=True, seed=3)
    b = model.generate(prompt, max_new_tokens=15, do_sample=True, seed=3)
    c = model.generate(prompt, max_new_tokens=15, do_sample=True, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs", [
    dict(do_sample=False),
    dict(do_sample=True, seed=1, top_k=20, top_p=0.9, temperature=0.8),
    dict(do_sample=False, repetition_penalty=1.3, no_repeat_ngram_size=2),
    dict(num_beams=3, num_return_sequences=2),
    dict(num_beams=2, do_sample=True, seed=5),
])
def test_kv_cache_and_no_cache_give_the_same_tokens(model, prompt, kwargs):
    with_cache = model.generate(prompt, max_new_tokens=12, use_cache=True, **kwargs)
    without = model.generate(prompt, max_new_tokens=12, use_cache=False, **kwargs)
    np.testing.assert_array_equal(with_cache, without)


def test_top_k_1_sampling_is_greedy(model, prompt):
    greedy = model.generate(prompt, max_new_tokens=10)
    np.testing.assert_array_equal(model.generate(prompt, max_new_tokens=10, do_sample=True,
                                                 top_k=1, seed=0), greedy)


def test_low_temperature_sampling_approaches_greedy(model, prompt):
    greedy = model.generate(prompt, max_new_tokens=10)
    cold = model.generate(prompt, max_new_tokens=10, do_sample=True, temperature=1e-3, seed=0)
    np.testing.assert_array_equal(cold, greedy)


def test_num_return_sequences_with_sampling(model, prompt):
    out = model.generate(prompt, max_new_tokens=8, do_sample=True, num_return_sequences=4, seed=0)
    assert out.shape == (4, prompt.shape[1] + 8)
    assert len({tuple(r) for r in out.tolist()}) > 1
    np.testing.assert_array_equal(out[:, :prompt.shape[1]], np.repeat(prompt, 4, 0))


def test_max_length_counts_the_prompt(model, prompt):
    assert model.generate(prompt, max_length=prompt.shape[1] + 5).shape[1] == prompt.shape[1] + 5
    assert model.generate(prompt).shape[1] == prompt.shape[1] + 20  # default: 20 new tokens
    np.testing.assert_array_equal(model.generate(prompt, max_new_tokens=0), prompt)


def test_min_new_tokens_holds_back_eos(model, prompt):
    greedy = model.generate(prompt, max_new_tokens=10)[0, prompt.shape[1]:].tolist()
    i = next(i for i in range(1, 10) if greedy[i] not in greedy[:i])
    eos = greedy[i]  # greedy stops after i + 1 new tokens with this EOS
    out = model.generate(prompt, max_new_tokens=10, eos_token_id=eos)
    assert out.shape[1] == prompt.shape[1] + i + 1
    out = model.generate(prompt, max_new_tokens=10, eos_token_id=eos, min_new_tokens=6)
    assert eos not in out[0, prompt.shape[1]:prompt.shape[1] + 6].tolist()
    assert out.shape[1] >= prompt.shape[1] + 7


def test_batched_left_padding_equals_one_at_a_time(model):
    texts = ["Hello world, this is", "The cat", "In this course, we will teach you how to"]
    tok = minitf.AutoTokenizer.from_pretrained(TINY)  # its own: the shared `tok` fixture stays unchanged
    tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    enc = tok(texts, padding=True, return_tensors="np")
    batch = model.generate(enc["input_ids"], attention_mask=enc["attention_mask"], max_new_tokens=8)
    for i, t in enumerate(texts):
        alone = model.generate(tok(t, return_tensors="np")["input_ids"], max_new_tokens=8)
        np.testing.assert_array_equal(batch[i, -8:], alone[0, -8:])


def test_stop_strings(model, tok, prompt):
    full = model.generate(prompt, max_new_tokens=15)
    new_ids = full[0, prompt.shape[1]:].tolist()
    # a stop string that ends inside the 5th new token (spanning a token boundary)
    text4 = tok.decode(new_ids[:4])
    text5 = tok.decode(new_ids[:5])
    stop = text5[len(text4) - 2: len(text4) + 1] if len(text4) >= 2 else text5[-1:]
    out = model.generate(prompt, max_new_tokens=15, stop_strings=stop, tokenizer=tok)
    assert stop in tok.decode(out[0, prompt.shape[1]:].tolist())
    assert out.shape[1] <= prompt.shape[1] + 5
    np.testing.assert_array_equal(out[0], full[0, :out.shape[1]])


def test_presence_and_frequency_penalties():
    ids = np.array([[9, 9, 1, 1, 1, 2]])  # prompt is [9, 9]
    scores = np.zeros((1, 10), np.float32)
    out = PresenceFrequencyPenaltyLogitsProcessor(0.5, 0.25, prompt_length=2)(ids, scores)
    assert out[0, 1] == pytest.approx(-(0.5 + 3 * 0.25))
    assert out[0, 2] == pytest.approx(-(0.5 + 0.25))
    assert out[0, 9] == 0.0  # prompt tokens are not penalised
    assert out[0, 3] == 0.0


def test_penalties_change_what_is_generated(model, prompt):
    plain = model.generate(prompt, max_new_tokens=20)
    for kw in (dict(repetition_penalty=2.0), dict(presence_penalty=5.0), dict(frequency_penalty=5.0),
               dict(no_repeat_ngram_size=1)):
        out = model.generate(prompt, max_new_tokens=20, **kw)
        assert not np.array_equal(out, plain), kw
    new = model.generate(prompt, max_new_tokens=20, no_repeat_ngram_size=1)[0, prompt.shape[1]:]
    assert len(set(new.tolist()) & set(prompt[0].tolist())) == 0 and len(set(new.tolist())) == 20


def test_streamer_prints_the_same_text(model, tok, prompt):
    buf = io.StringIO()
    out = model.generate(prompt, max_new_tokens=12, streamer=TextStreamer(tok, skip_prompt=True, file=buf))
    assert buf.getvalue() == tok.decode(out[0, prompt.shape[1]:].tolist()) + "\n"


def test_iterator_streamer(model, tok, prompt):
    import threading

    streamer = TextIteratorStreamer(tok, skip_prompt=True, timeout=30)
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        out=model.generate(prompt, max_new_tokens=10, streamer=streamer)))
    thread.start()
    pieces = list(streamer)
    thread.join()
    assert "".join(pieces) == tok.decode(result["out"][0, prompt.shape[1]:].tolist())


def test_generation_stats(model, prompt):
    model.generate(prompt, max_new_tokens=10)
    s = model.generation_stats
    assert s.new_tokens == 10 and s.prompt_tokens == prompt.shape[1] and s.batch_size == 1
    assert s.time_to_first_token > 0 and s.time_per_output_token > 0 and s.tokens_per_second > 0
    assert len(s.step_times) == 9
    assert s.kv_cache_peak_bytes > 0 and s.weight_bytes == model.weight_bytes()
    text = str(s)
    for label in ("time to first token", "time per output token", "tokens per second",
                  "KV cache peak", "weights"):
        assert label in text
    model.generate(prompt, max_new_tokens=5, use_cache=False)
    assert model.generation_stats.kv_cache_peak_bytes == 0


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_beams=2, num_return_sequences=3), r"num_return_sequences \(3\) must be <= num_beams \(2\)"),
    (dict(num_return_sequences=2), r"greedy decoding gives one sequence"),
    (dict(do_sample=True, temperature=0.0), r"temperature must be a strictly positive"),
    (dict(do_sample=True, top_p=1.5), r"top_p must be a float in \[0, 1\]"),
    (dict(do_sample=True, top_k=-3), r"top_k must be a positive integer"),
    (dict(repetition_penalty=0.0), r"repetition_penalty must be a positive"),
    (dict(no_repeat_ngram_size=-1), r"no_repeat_ngram_size must be a positive int"),
    (dict(num_beams=0), r"num_beams must be a positive int"),
    (dict(max_new_tokens=-1), r"max_new_tokens must be a non-negative int"),
    (dict(max_length=2), r"max_length is 2"),
    (dict(max_new_tokens=500), r"exceeds the model's 128 positions"),
    (dict(stop_strings=["x"]), r"stop_strings needs the tokenizer"),
    (dict(early_stopping="sometimes"), r"early_stopping must be True, False or 'never'"),
])
def test_bad_arguments_are_named(model, prompt, kwargs, match):
    with pytest.raises(ValueError, match=match):
        model.generate(prompt, **kwargs)


def test_bad_inputs_are_named(model, prompt, tok):
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['top_kk'\]"):
        model.generate(prompt, top_kk=3)
    with pytest.raises(ValueError, match=r"streamer cannot be used with beam search"):
        model.generate(prompt, num_beams=2, streamer=TextStreamer(tok))
    bos = model.generation_config.bos_token_id
    np.testing.assert_array_equal(model.generate(max_new_tokens=3)[:, :1], [[bos]])  # as transformers
    model.generation_config.bos_token_id = None
    try:
        with pytest.raises(ValueError, match=r"needs input_ids"):
            model.generate()
    finally:
        model.generation_config.bos_token_id = bos
    with pytest.raises(TypeError, match=r"input_ids must be integer token ids"):
        model.generate(np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match=r"attention_mask has shape"):
        model.generate(prompt, attention_mask=np.ones((1, 1)))
    with pytest.raises(IndexError, match=r"input_ids contains id 99999, but vocab_size=557.*tokenizer and the model do not match"):
        model.generate(np.array([[1, 99999]]))
