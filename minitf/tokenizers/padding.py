"""Truncation (with overflow windows) and padding, with the rules of transformers 4.x.

Three steps of a tokenizer call, each a plain function on `Encoding` objects:

1. `resolve_strategies`: the user's ``padding`` / ``truncation`` / ``max_length`` arguments
   become one padding strategy (``"longest"``, ``"max_length"``, ``"do_not_pad"``) and one
   truncation strategy (``"longest_first"``, ``"only_first"``, ``"only_second"``,
   ``"do_not_truncate"``), as transformers maps them (``max_length`` alone means truncate);
2. `truncate`: cut one text or a pair down to ``max_length`` minus the special tokens; with
   overflow, what is cut off comes back as more windows that overlap by ``stride`` tokens
   (`overflow_pairs` then pairs the windows of both texts as `tokenizers` does);
3. `pad`: make every row of a batch as long as the longest one (or ``max_length``), with the
   pad token, attention mask 0 and offsets (0, 0).

``"longest_first"`` shares the room between the two texts of a pair, the longer one
giving up tokens first:

    >>> a, b = Encoding(ids=list(range(6))), Encoding(ids=[10, 11])
    >>> kept_a, kept_b = truncate(a, b, 5, "longest_first", n_special=0, side="right")
    >>> kept_a[0].ids, kept_b[0].ids
    ([0, 1, 2], [10, 11])
    >>> windows, _ = truncate(Encoding(ids=list(range(6))), None, 4, "longest_first",
    ...                       n_special=0, side="right", stride=1, overflow=True)
    >>> [w.ids for w in windows]
    [[0, 1, 2, 3], [3, 4, 5]]
    >>> enc = Encoding(ids=[5, 6], attention_mask=[1, 1], sequence_ids=[0, 0], offsets=[(0, 1), (2, 3)],
    ...                tokens=["a", "b"], word_ids=[0, 1], type_ids=[0, 0], special_tokens_mask=[0, 0])
    >>> pad(enc, 4, "left", pad_id=0, pad_token="[PAD]")
    >>> enc.ids, enc.attention_mask
    ([0, 0, 5, 6], [0, 0, 1, 1])
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from minitf.tokenizers.encoding import Encoding

logger = logging.getLogger(__name__)

# transformers' stand-in for "no maximum length" (model_max_length of a tokenizer without one).
VERY_LARGE_INTEGER = int(1e30)

PADDING_CHOICES = (False, True, "longest", "max_length", "do_not_pad")
TRUNCATION_CHOICES = (None, False, True, "longest_first", "only_first", "only_second",
                      "do_not_truncate")


def is_int(x: Any) -> bool:
    """A Python or NumPy integer, and not a bool."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def resolve_strategies(padding: bool | str, truncation: bool | str | None, max_length: int | None,
                       pad_to_multiple_of: int | None, *, model_max_length: int, has_pad_token: bool,
                       verbose: bool = True) -> tuple[str, str, int | None]:
    """(padding strategy, truncation strategy, max_length) for the user's arguments, as
    transformers 4.x maps them; a bad value is an error naming the argument.

    >>> resolve_strategies(True, True, None, None, model_max_length=512, has_pad_token=True)
    ('longest', 'longest_first', 512)
    """
    if not any(padding is c or (isinstance(padding, str) and padding == c) for c in PADDING_CHOICES):
        raise ValueError(f"padding must be one of True, False, 'longest', 'max_length', "
                         f"'do_not_pad'; got {padding!r}")
    if not any(truncation is c or (isinstance(truncation, str) and truncation == c)
               for c in TRUNCATION_CHOICES):
        raise ValueError(f"truncation must be one of True, False, 'longest_first', 'only_first', "
                         f"'only_second', 'do_not_truncate'; got {truncation!r}")
    if max_length is not None and (not is_int(max_length) or max_length < 0):
        raise ValueError(f"max_length must be a non-negative int or None, got {max_length!r}")
    if pad_to_multiple_of is not None and (not is_int(pad_to_multiple_of) or pad_to_multiple_of < 1):
        raise ValueError(f"pad_to_multiple_of must be a positive int or None, got {pad_to_multiple_of!r}")

    # max_length without any truncation argument means "truncate" (with a warning).
    if max_length is not None and padding is False and truncation is None:
        if verbose:
            logger.warning("Truncation was not explicitly activated but `max_length` is provided "
                           "a specific value, please use `truncation=True` to explicitly truncate "
                           "examples to max length. Defaulting to 'longest_first' truncation strategy.")
        truncation = "longest_first"

    pad_strategy = {True: "longest", False: "do_not_pad"}.get(padding, padding) \
        if isinstance(padding, bool) else padding
    trunc = {True: "longest_first", False: "do_not_truncate", None: "do_not_truncate"}[truncation] \
        if truncation is None or isinstance(truncation, bool) else truncation

    if max_length is None:
        if pad_strategy == "max_length" or trunc != "do_not_truncate":
            if model_max_length >= VERY_LARGE_INTEGER:
                if verbose:
                    logger.warning("No max_length given and the tokenizer has no model_max_length: "
                                   "no padding to max_length and no truncation.")
                pad_strategy = "do_not_pad" if pad_strategy == "max_length" else pad_strategy
                trunc = "do_not_truncate"
            else:
                max_length = model_max_length
    if pad_strategy != "do_not_pad" and not has_pad_token:
        raise ValueError(
            "Asking to pad but the tokenizer does not have a padding token. Please select a token "
            "to use as `pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new "
            "pad token via `tokenizer.add_special_tokens({'pad_token': '[PAD]'})`.")
    return pad_strategy, trunc, max_length


def truncate(a: Encoding, b: Encoding | None, max_length: int, strategy: str, *, n_special: int,
             side: str, stride: int = 0, overflow: bool = False
             ) -> tuple[list[Encoding], list[Encoding] | None]:
    """Cut one text `a` (or the pair `a`, `b`) to `max_length` tokens, `n_special` of which are
    the special tokens still to be added, with the rules of `tokenizers` ('longest_first'
    shares what is left between the two sequences; `side` "left" drops tokens at the start).

    Returns the windows of each sequence: ``[kept]`` or, with `overflow`, ``[kept, overflow
    1, overflow 2, ...]`` where consecutive windows share `stride` tokens (see
    ``Encoding.windows``); None for a missing pair.
    """
    budget = max_length - n_special
    if budget < 0:
        raise ValueError(f"max_length={max_length} is smaller than the {n_special} special tokens "
                         f"this tokenizer adds")
    if stride and stride >= max(budget, 1):
        raise ValueError(f"stride={stride} must be smaller than max_length={max_length} minus the "
                         f"{n_special} special tokens added{' to a pair' if b is not None else ''} "
                         f"(= {budget}): the windows of return_overflowing_tokens overlap by "
                         f"`stride` tokens")

    def cut(enc: Encoding, n: int) -> list[Encoding]:
        if overflow:
            return enc.windows(n, stride, side)
        if n < len(enc):
            if 0 < n <= stride:             # the check `tokenizers` makes even without overflow
                enc.windows(n, stride, side)
            enc.truncate(n, side)
        return [enc]

    keep_b: list[Encoding] | None = None if b is None else [b]
    total = len(a) + (len(b) if b is not None else 0)
    if budget == 0:                          # nothing left for the texts (as `tokenizers`)
        return cut(a, 0), (None if b is None else cut(b, 0))
    if total <= budget:
        return [a], keep_b
    if strategy == "longest_first":
        if b is None:
            return cut(a, budget), None
        # Cut the longer one down to what the shorter leaves, or both to half when both are long.
        n1, n2 = sorted((len(a), len(b)))
        n2 = n1 if n1 > budget else max(n1, budget - n1)
        if n1 + n2 > budget:
            n1 = budget // 2
            n2 = n1 + budget % 2
        if len(a) > len(b):
            n1, n2 = n2, n1
        return cut(a, n1), cut(b, n2)
    if strategy == "only_second" and b is None:
        raise ValueError("truncation='only_second' needs a text_pair to truncate; use "
                         "truncation=True (longest_first) or 'only_first' for a single text")
    target = a if strategy == "only_first" else b
    other = b if strategy == "only_first" else a
    to_remove = total - budget
    if len(target) <= to_remove:
        which, other_name = ("first", "second") if target is a else ("second", "first")
        n_other = len(other) if other is not None else 0
        room = budget - n_other
        raise ValueError(
            f"truncation={strategy!r} cannot fit max_length={max_length}: the {other_name} "
            f"sequence has {n_other} tokens and {n_special} special tokens are added, which "
            f"leaves {'no room' if room <= 0 else f'only {room} tokens'} for the {which} sequence "
            f"({len(target)} tokens, truncated to at least 1); use a larger max_length, a shorter "
            f"{other_name} text, or truncation='longest_first'")
    windows = cut(target, len(target) - to_remove)
    return (windows, keep_b) if target is a else ([a], windows)


def overflow_pairs(wa: list[Encoding], wb: list[Encoding]) -> list[tuple[Encoding, Encoding]]:
    """The rows of a pair whose both sides overflow, in the order of `tokenizers`: (A1, B1),
    then each later A window with B1 and every later B window, then A1 with every later B window.

    >>> A1, A2, B1, B2 = (Encoding(tokens=[name]) for name in ("A1", "A2", "B1", "B2"))
    >>> [x.tokens + y.tokens for x, y in overflow_pairs([A1, A2], [B1, B2])]
    [['A1', 'B1'], ['A2', 'B1'], ['A2', 'B2'], ['A1', 'B2']]
    """
    pairs = [(wa[0], wb[0])]
    for extra_a in wa[1:]:
        pairs += [(extra_a, wb[0])] + [(extra_a, extra_b) for extra_b in wb[1:]]
    pairs += [(wa[0], extra_b) for extra_b in wb[1:]]
    return pairs


def padded_length(encodings: list[Encoding], strategy: str, max_length: int | None,
                  pad_to_multiple_of: int | None) -> int:
    """The row length of a padded batch: the longest row or `max_length`, rounded up to a
    multiple of `pad_to_multiple_of`."""
    target = max((len(e) for e in encodings), default=0) if strategy == "longest" else max_length
    if pad_to_multiple_of and target % pad_to_multiple_of:
        target += pad_to_multiple_of - target % pad_to_multiple_of
    return target


def pad(enc: Encoding, length: int, side: str, *, pad_id: int, pad_token: str,
        pad_type_id: int = 0) -> None:
    """Extend `enc` in place to `length` tokens on `side` ("right" or "left") with padding."""
    n = length - len(enc)
    if n <= 0:
        return
    fill = {"ids": [pad_id] * n, "tokens": [pad_token] * n, "offsets": [(0, 0)] * n,
            "word_ids": [None] * n, "type_ids": [pad_type_id] * n,
            "special_tokens_mask": [1] * n, "attention_mask": [0] * n, "sequence_ids": [None] * n}
    for name, values in fill.items():
        current = getattr(enc, name)
        setattr(enc, name, current + values if side == "right" else values + current)
