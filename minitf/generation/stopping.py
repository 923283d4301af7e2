"""Stopping criteria: after each new token, decide per sequence whether it is done.

A criterion is ``(input_ids [batch, cur_len], scores [batch, vocab] or None) -> bool [batch]``,
as in transformers; `generate(stopping_criteria=[...])` adds the caller's after the built-in
ones (max length, EOS, stop strings). `scores` are the processed scores of the step that chose
the newest token (None in beam search, whose candidates come from many rows' scores).
"""
from __future__ import annotations

import numpy as np


class StoppingCriteriaList(list):
    def __call__(self, input_ids, scores=None):
        rows = input_ids.shape[0]
        done = np.zeros(rows, dtype=bool)
        for crit in self:
            verdict = np.asarray(crit(input_ids, scores))
            if verdict.dtype != bool or verdict.shape not in ((), (rows,)):
                raise ValueError(f"stopping criterion {crit!r} returned {verdict.dtype} of shape "
                                 f"{verdict.shape}; it must return bools, one per row ({rows},)")
            done |= verdict
        return done


class MaxLengthCriteria:
    """Stop when the sequence (prompt included) reaches `max_length` tokens."""

    def __init__(self, max_length: int):
        self.max_length = max_length

    def __call__(self, input_ids, scores=None):
        return np.full(input_ids.shape[0], input_ids.shape[1] >= self.max_length)


class EosTokenCriteria:
    """Stop a sequence whose last token is one of the end-of-sequence ids."""

    def __init__(self, eos_token_ids):
        self.eos = np.asarray(list(eos_token_ids), dtype=np.int64)

    def __call__(self, input_ids, scores=None):
        return np.isin(input_ids[:, -1], self.eos)


class StopStringCriteria:
    """Stop when a stop string appears in the decoded text and overlaps the newest token.

    As in transformers, "stop" matches ["st", "op"], ["stop"], ["st", "opera"] and
    ["las", "topper"] at the end of the sequence, but not ["stop", "at"]: a stop string that lies
    wholly in earlier tokens was already checked when those tokens were new.
    """

    def __init__(self, tokenizer, stop_strings):
        if tokenizer is None:
            raise ValueError("stop_strings needs the tokenizer to decode tokens: pass tokenizer=tok "
                             "to generate()")
        if isinstance(stop_strings, str):
            stop_strings = [stop_strings]
        if not stop_strings or not all(isinstance(s, str) and s for s in stop_strings):
            raise ValueError(f"stop_strings must be a non-empty string or list of non-empty strings "
                             f"(got {stop_strings!r})")
        self.tokenizer = tokenizer
        self.stop_strings = list(stop_strings)
        # Enough trailing tokens to spell the longest stop string (a token is >= 1 character,
        # plus slack for tokens that are partial UTF-8 bytes).
        self.window = max(len(s) for s in self.stop_strings) + 4

    def __call__(self, input_ids, scores=None):
        done = np.zeros(input_ids.shape[0], dtype=bool)
        for row, ids in enumerate(input_ids[:, -self.window:].tolist()):
            text = self.tokenizer.decode(ids)
            before = self.tokenizer.decode(ids[:-1])
            for s in self.stop_strings:
                # an occurrence that ends inside the newest token's text
                if text.find(s, max(0, len(before) - len(s) + 1)) != -1:
                    done[row] = True
                    break
        return done
