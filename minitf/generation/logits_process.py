"""Logits processors: each one rewrites the next-token scores before a token is chosen.

Every processor is a small callable ``(input_ids [batch, cur_len], scores [batch, vocab]) ->
scores`` that returns a new array (the caller's scores are never changed in place). They run
in the order transformers uses, processors first and then the sampling "warpers":

    repetition penalty -> presence/frequency penalty -> no-repeat n-gram -> min length
    -> temperature -> top-k -> top-p

    >>> import numpy as np
    >>> scores = np.log(np.array([[0.5, 0.3, 0.2]], np.float32))
    >>> TopKLogitsWarper(2)(np.zeros((1, 1), np.int64), scores)
    array([[-0.6931472, -1.2039728,       -inf]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from .. import ops

NEG_INF = -np.inf  # what transformers' warpers use as `filter_value`


class LogitsProcessorList(list):
    """Applies its processors in order."""

    def __call__(self, input_ids, scores):
        for proc in self:
            scores = proc(input_ids, scores)
        return scores


class RepetitionPenaltyLogitsProcessor:
    """CTRL's repetition penalty (Keskar et al. 2019): for every token already in the sequence
    (prompt included), divide a positive score by `penalty` and multiply a negative one, so the
    token becomes less likely either way. penalty > 1 discourages repeats; 1 does nothing."""

    def __init__(self, penalty: float):
        if not penalty > 0:
            raise ValueError(f"repetition_penalty must be a positive float (got {penalty!r})")
        self.penalty = penalty

    def __call__(self, input_ids, scores):
        scores = scores.copy()
        rows = np.arange(scores.shape[0])[:, None]  # [b, 1]
        seen = scores[rows, input_ids]  # [b, cur_len], repeats read the same value
        scores[rows, input_ids] = np.where(seen < 0, seen * self.penalty, seen / self.penalty)
        return scores


class PresenceFrequencyPenaltyLogitsProcessor:
    """OpenAI-style penalties over the *generated* tokens (the prompt is not penalised):

        score -= presence_penalty * [count > 0] + frequency_penalty * count

    Presence pushes towards new topics; frequency damps tokens in proportion to how often they
    were produced. (transformers has no such processor; this follows the OpenAI API definition.)
    """

    def __init__(self, presence_penalty: float, frequency_penalty: float, prompt_length: int):
        self.presence = presence_penalty
        self.frequency = frequency_penalty
        self.prompt_length = prompt_length

    def __call__(self, input_ids, scores):
        generated = input_ids[:, self.prompt_length:]  # [b, n_new]
        counts = np.zeros(scores.shape, dtype=scores.dtype)  # [b, vocab]
        for row, ids in enumerate(generated):
            np.add.at(counts[row], ids, 1)
        return scores - (self.presence * (counts > 0) + self.frequency * counts).astype(scores.dtype)


class NoRepeatNGramLogitsProcessor:
    """Forbid any token that would repeat an n-gram already present in the sequence
    (Paulus et al. 2017): if the last n-1 tokens appeared before followed by token x, x is banned."""

    def __init__(self, ngram_size: int):
        if not isinstance(ngram_size, int) or ngram_size <= 0:
            raise ValueError(f"no_repeat_ngram_size must be a positive int (got {ngram_size!r})")
        self.n = ngram_size

    def __call__(self, input_ids, scores):
        cur_len = input_ids.shape[1]
        if cur_len + 1 < self.n:
            return scores
        scores = scores.copy()
        for row, ids in enumerate(input_ids.tolist()):
            prefix = tuple(ids[cur_len - self.n + 1:])  # the n-1 tokens the next one would extend
            banned = {ids[i + self.n - 1] for i in range(cur_len - self.n + 1)
                      if tuple(ids[i:i + self.n - 1]) == prefix}
            scores[row, list(banned)] = NEG_INF
        return scores


class MinNewTokensLogitsProcessor:
    """Forbid EOS until `min_new_tokens` tokens were generated after the prompt."""

    def __init__(self, prompt_length: int, min_new_tokens: int, eos_token_ids):
        self.prompt_length = prompt_length
        self.min_new_tokens = min_new_tokens
        self.eos = list(eos_token_ids)

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] - self.prompt_length < self.min_new_tokens:
            scores = scores.copy()
            scores[:, self.eos] = NEG_INF
        return scores


class TemperatureLogitsWarper:
    """Divide the scores by the temperature: < 1 sharpens the distribution, > 1 flattens it."""

    def __init__(self, temperature: float):
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(f"temperature must be a strictly positive float (got {temperature!r}); "
                             f"for greedy decoding use do_sample=False")
        self.temperature = float(temperature)

    def __call__(self, input_ids, scores):
        return scores / scores.dtype.type(self.temperature)


class TopKLogitsWarper:
    """Keep the k highest scores (ties with the k-th kept too), set the rest to -inf."""

    def __init__(self, top_k: int, min_tokens_to_keep: int = 1):
        if not isinstance(top_k, (int, np.integer)) or top_k <= 0:
            raise ValueError(f"top_k must be a positive integer (got {top_k!r})")
        self.top_k = max(int(top_k), min_tokens_to_keep)

    def __call__(self, input_ids, scores):
        k = min(self.top_k, scores.shape[-1])
        kth = np.partition(scores, -k, axis=-1)[:, -k][:, None]  # [b, 1], the k-th largest
        return np.where(scores < kth, scores.dtype.type(NEG_INF), scores)


class TopPLogitsWarper:
    """Nucleus sampling (Holtzman et al. 2019): keep the smallest set of most likely tokens whose
    probabilities add up to at least `top_p`; remove the rest."""

    def __init__(self, top_p: float, min_tokens_to_keep: int = 1):
        if not (0.0 <= float(top_p) <= 1.0):
            raise ValueError(f"top_p must be a float in [0, 1] (got {top_p!r})")
        self.top_p = float(top_p)
        self.min_keep = min_tokens_to_keep

    def __call__(self, input_ids, scores):
        order = np.argsort(scores, axis=-1, kind="stable")  # ascending, [b, vocab]
        sorted_scores = np.take_along_axis(scores, order, axis=-1)
        cum = np.cumsum(ops.softmax(sorted_scores), axis=-1)  # [b, vocab], ends at 1
        remove_sorted = cum <= (1.0 - self.top_p)  # the low tail whose mass is <= 1 - p
        remove_sorted[:, -self.min_keep:] = False  # always keep the best min_keep tokens
        remove = np.zeros_like(remove_sorted)
        np.put_along_axis(remove, order, remove_sorted, axis=-1)
        return np.where(remove, scores.dtype.type(NEG_INF), scores)


def build_processors(*, prompt_length: int, eos_token_ids, repetition_penalty=1.0,
                     presence_penalty=0.0, frequency_penalty=0.0, no_repeat_ngram_size=0,
                     min_new_tokens=0, do_sample=False, temperature=1.0, top_k=None, top_p=1.0,
                     num_beams=1) -> LogitsProcessorList:
    """The processor list for one generate() call, in transformers' order."""
    procs = LogitsProcessorList()
    if top_p is not None and not 0.0 <= float(top_p) <= 1.0:
        raise ValueError(f"top_p must be a float in [0, 1] (got {top_p!r})")
    if repetition_penalty is not None and repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(repetition_penalty))
    if presence_penalty or frequency_penalty:
        procs.append(PresenceFrequencyPenaltyLogitsProcessor(presence_penalty, frequency_penalty,
                                                             prompt_length))
    if no_repeat_ngram_size:
        procs.append(NoRepeatNGramLogitsProcessor(no_repeat_ngram_size))
    if min_new_tokens and eos_token_ids:
        procs.append(MinNewTokensLogitsProcessor(prompt_length, min_new_tokens, eos_token_ids))
    if do_sample:
        keep = 2 if num_beams > 1 else 1  # beam sampling needs two candidates per beam
        if temperature is not None and temperature != 1.0:
            procs.append(TemperatureLogitsWarper(temperature))
        if top_k:
            procs.append(TopKLogitsWarper(top_k, keep))
        if top_p is not None and top_p < 1.0:
            procs.append(TopPLogitsWarper(top_p, keep))
    elif temperature is not None and temperature <= 0:
        raise ValueError(f"temperature must be strictly positive (got {temperature!r})")
    return procs
