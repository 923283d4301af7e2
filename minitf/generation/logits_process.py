"""Logits processors: each one rewrites the next-token scores before a token is chosen.

Every processor is a small callable ``(input_ids [batch, cur_len], scores [batch, vocab]) ->
scores`` that returns a new array (the caller's scores are never changed in place). They run
in the order transformers 4.x uses, processors first, then any the caller passes
(`generate(logits_processor=...)`), then the sampling "warpers":

    repetition penalty -> presence/frequency penalty -> no-repeat n-gram -> min length
    -> min new tokens -> forced BOS -> forced EOS -> suppress tokens -> suppress at begin
    -> the caller's -> temperature -> top-k -> top-p

Padding is not text: processors that look at the tokens so far take `prompt_mask`
([batch, prompt_len], 0 on the left padding of a batched prompt) and skip those positions, so
a row of a padded batch is processed exactly as the same prompt alone.

    >>> import numpy as np
    >>> scores = np.log(np.array([[0.5, 0.3, 0.2]], np.float32))
    >>> TopKLogitsWarper(2)(np.zeros((1, 1), np.int64), scores)
    array([[-0.6931472, -1.2039728,       -inf]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from .. import ops

NEG_INF = -np.inf  # what transformers' warpers use as `filter_value`


def text_mask(prompt_mask, input_ids):
    """[rows, cur_len] bool, True where `input_ids` holds text: the prompt's mask, then every
    generated token. All True without a prompt mask."""
    if prompt_mask is None:
        return np.ones(input_ids.shape, dtype=bool)
    rows, cur = input_ids.shape
    if prompt_mask.shape[0] != rows or prompt_mask.shape[1] > cur:
        raise ValueError(f"prompt_mask has shape {prompt_mask.shape}, but the sequences are "
                         f"{input_ids.shape}: it must be (rows, prompt_len) for these rows")
    generated = np.ones((rows, cur - prompt_mask.shape[1]), dtype=bool)
    return np.concatenate([prompt_mask.astype(bool), generated], axis=1)  # [rows, cur_len]


class LogitsProcessorList(list):
    """Applies its processors in order."""

    def __call__(self, input_ids, scores):
        for proc in self:
            scores = proc(input_ids, scores)
        return scores


class RepetitionPenaltyLogitsProcessor:
    """CTRL's repetition penalty (Keskar et al. 2019): for every token already in the text
    (prompt included, its padding not), divide a positive score by `penalty` and multiply a
    negative one, so the token becomes less likely either way. penalty > 1 discourages
    repeats; 1 does nothing. (transformers 4.x also penalises the pad id; 5.x does not.)"""

    def __init__(self, penalty: float, prompt_mask=None):
        if not penalty > 0:
            raise ValueError(f"repetition_penalty must be a positive float (got {penalty!r})")
        self.penalty = penalty
        self.prompt_mask = prompt_mask

    def __call__(self, input_ids, scores):
        r, c = np.nonzero(text_mask(self.prompt_mask, input_ids))  # text positions
        seen = np.zeros(scores.shape, dtype=bool)  # [b, vocab]
        seen[r, input_ids[r, c]] = True
        penalised = np.where(scores < 0, scores * self.penalty, scores / self.penalty)
        return np.where(seen, penalised, scores)


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
    """Forbid any token that would repeat an n-gram already present in the text
    (Paulus et al. 2017): if the last n-1 tokens appeared before followed by token x, x is
    banned. N-grams are taken over the text only: padding neither forms nor breaks one."""

    def __init__(self, ngram_size: int, prompt_mask=None):
        if not isinstance(ngram_size, (int, np.integer)) or ngram_size <= 0:
            raise ValueError(f"no_repeat_ngram_size must be a positive int (got {ngram_size!r})")
        self.n = int(ngram_size)
        self.prompt_mask = prompt_mask

    def __call__(self, input_ids, scores):
        text = text_mask(self.prompt_mask, input_ids)
        out = None
        for row, (ids, keep) in enumerate(zip(input_ids.tolist(), text.tolist())):
            ids = [t for t, k in zip(ids, keep) if k]
            cur_len = len(ids)
            if cur_len + 1 < self.n:
                continue
            prefix = tuple(ids[cur_len - self.n + 1:])  # the n-1 tokens the next one would extend
            banned = {ids[i + self.n - 1] for i in range(cur_len - self.n + 1)
                      if tuple(ids[i:i + self.n - 1]) == prefix}
            if banned:
                out = scores.copy() if out is None else out
                out[row, list(banned)] = NEG_INF
        return scores if out is None else out


class MinLengthLogitsProcessor:
    """Forbid EOS while a row has fewer than `min_length` tokens of text (prompt included; its
    padding is not text, so a padded row waits as long as it would alone)."""

    def __init__(self, min_length: int, eos_token_ids, prompt_mask=None):
        if not isinstance(min_length, (int, np.integer)) or min_length < 0:
            raise ValueError(f"min_length must be a non-negative int (got {min_length!r})")
        self.min_length = int(min_length)
        self.eos = list(eos_token_ids)
        self.prompt_mask = prompt_mask

    def __call__(self, input_ids, scores):
        short = text_mask(self.prompt_mask, input_ids).sum(axis=1) < self.min_length  # [b]
        if not short.any():
            return scores
        scores = scores.copy()
        scores[np.ix_(np.nonzero(short)[0], self.eos)] = NEG_INF
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


class NoBadWordsLogitsProcessor:
    """Never generate the sequences in `bad_words_ids`: a one-token entry is banned everywhere;
    for a longer one, its last token is banned where the sequence ends with the rest."""

    def __init__(self, bad_words_ids):
        if not isinstance(bad_words_ids, (list, tuple)) or not all(
                isinstance(w, (list, tuple)) and w and all(isinstance(i, (int, np.integer)) and i >= 0 for i in w)
                for w in bad_words_ids):
            raise ValueError(f"bad_words_ids must be a list of non-empty lists of token ids "
                             f"(got {bad_words_ids!r})")
        self.single = sorted({int(w[0]) for w in bad_words_ids if len(w) == 1})
        self.longer = [[int(i) for i in w] for w in bad_words_ids if len(w) > 1]

    def __call__(self, input_ids, scores):
        scores = scores.copy()
        vocab = scores.shape[-1]
        for token in self.single + [w[-1] for w in self.longer]:
            if token >= vocab:
                raise ValueError(f"bad_words_ids holds token id {token}, but the model's vocabulary "
                                 f"has {vocab} entries")
        if self.single:
            scores[:, self.single] = NEG_INF
        for word in self.longer:
            prefix = word[:-1]
            if input_ids.shape[1] >= len(prefix):
                hit = (input_ids[:, input_ids.shape[1] - len(prefix):] == prefix).all(axis=1)  # [rows]
                scores[hit, word[-1]] = NEG_INF
        return scores


class ForcedBOSTokenLogitsProcessor:
    """Make `bos_token_id` the only possible token when the sequence has one token (an
    encoder-decoder's decoder start: mBART's target-language token)."""

    def __init__(self, bos_token_id: int):
        self.bos = int(bos_token_id)

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] != 1:
            return scores
        forced = np.full_like(scores, NEG_INF)
        forced[:, self.bos] = 0
        return forced


class ForcedEOSTokenLogitsProcessor:
    """Make EOS (one of `eos_token_ids`) the only possible token when the next one reaches
    `max_length`, so every sequence ends with it."""

    def __init__(self, max_length: int, eos_token_ids):
        self.max_length = max_length
        self.eos = [int(e) for e in (eos_token_ids if isinstance(eos_token_ids, (list, tuple))
                                     else [eos_token_ids])]

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] != self.max_length - 1:
            return scores
        forced = np.full_like(scores, NEG_INF)
        forced[:, self.eos] = 0
        return forced


class SuppressTokensLogitsProcessor:
    """Never generate `suppress_tokens` (Whisper's non-speech symbols)."""

    def __init__(self, suppress_tokens):
        self.tokens = [int(t) for t in suppress_tokens]

    def __call__(self, input_ids, scores):
        scores = scores.copy()
        scores[:, self.tokens] = NEG_INF
        return scores


class SuppressTokensAtBeginLogitsProcessor:
    """Do not generate `begin_suppress_tokens` as the first new token (the sequence is
    `begin_index` long then): Whisper must not start with a blank or EOS."""

    def __init__(self, begin_suppress_tokens, begin_index: int):
        self.tokens = [int(t) for t in begin_suppress_tokens]
        self.begin_index = begin_index

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] != self.begin_index:
            return scores
        scores = scores.copy()
        scores[:, self.tokens] = NEG_INF
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


def build_processors(config, *, prompt_length: int, eos_token_ids, max_length: int,
                     prompt_mask=None, custom=None) -> LogitsProcessorList:
    """The processor list for one generate() call with GenerationConfig `config`, in
    transformers 4.x's order; `custom` processors go after the built-in ones, before the
    sampling warpers. `prompt_mask` [rows, prompt_len] marks the prompt's padding (0)."""
    c = config
    procs = LogitsProcessorList()
    if c.top_p is not None and not 0.0 <= float(c.top_p) <= 1.0:
        raise ValueError(f"top_p must be a float in [0, 1] (got {c.top_p!r})")
    if c.repetition_penalty is not None and c.repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(c.repetition_penalty, prompt_mask))
    if c.presence_penalty or c.frequency_penalty:
        procs.append(PresenceFrequencyPenaltyLogitsProcessor(c.presence_penalty or 0.0,
                                                             c.frequency_penalty or 0.0, prompt_length))
    if c.no_repeat_ngram_size:
        procs.append(NoRepeatNGramLogitsProcessor(c.no_repeat_ngram_size, prompt_mask))
    if c.bad_words_ids:
        procs.append(NoBadWordsLogitsProcessor(c.bad_words_ids))
    if c.min_length and eos_token_ids:
        procs.append(MinLengthLogitsProcessor(c.min_length, eos_token_ids, prompt_mask))
    if c.min_new_tokens and eos_token_ids:
        procs.append(MinNewTokensLogitsProcessor(prompt_length, c.min_new_tokens, eos_token_ids))
    if c.forced_bos_token_id is not None:
        procs.append(ForcedBOSTokenLogitsProcessor(c.forced_bos_token_id))
    if c.forced_eos_token_id is not None:
        procs.append(ForcedEOSTokenLogitsProcessor(max_length, c.forced_eos_token_id))
    if c.suppress_tokens is not None:
        procs.append(SuppressTokensLogitsProcessor(c.suppress_tokens))
    if c.begin_suppress_tokens is not None:
        # after a forced BOS the first free token comes one later (transformers' rule)
        begin = prompt_length if (prompt_length > 1 or c.forced_bos_token_id is None) else prompt_length + 1
        procs.append(SuppressTokensAtBeginLogitsProcessor(c.begin_suppress_tokens, begin))
    procs.extend(merge_custom(procs, custom, "logits processor", "logits_processor"))
    if c.do_sample:
        # beam sampling keeps a non-EOS candidate per beam (transformers' min_tokens_to_keep)
        keep = max(2, len(eos_token_ids) + 1) if c.num_beams > 1 else 1
        if c.temperature is not None and c.temperature != 1.0:
            procs.append(TemperatureLogitsWarper(c.temperature))
        if c.top_k:
            procs.append(TopKLogitsWarper(c.top_k, keep))
        if c.top_p is not None and c.top_p < 1.0:
            procs.append(TopPLogitsWarper(c.top_p, keep))
    elif c.temperature is not None and c.temperature <= 0:
        raise ValueError(f"temperature must be strictly positive (got {c.temperature!r})")
    return procs


def merge_custom(built, custom, what: str, argument: str) -> list:
    """The caller's processors or criteria, checked: each must be callable, and not of a type
    generate() already built from the options (transformers raises the same way)."""
    if custom is None:
        return []
    if callable(custom) and not isinstance(custom, (list, tuple)):
        custom = [custom]
    if not isinstance(custom, (list, tuple)):
        raise TypeError(f"{argument} must be a list of callables (got {type(custom).__name__})")
    for item in custom:
        if not callable(item):
            raise TypeError(f"{argument} holds {item!r}, which is not callable")
        for own in built:
            if type(own) is type(item):
                raise ValueError(f"a custom {what} of type {type(item).__name__} was passed to "
                                 f"generate(), but generate() also built one from its options; "
                                 f"remove it from {argument}= or set the option instead")
    return list(custom)
