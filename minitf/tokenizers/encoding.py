"""What a tokenizer call returns: `Encoding` (one sequence) and `BatchEncoding` (the batch).

An `Encoding` keeps, for every token of one text (or pair), everything transformers can
ask about it: id, string, character offsets, word index, type id, whether it is special,
attention mask and which text it comes from. Truncation and padding (``padding.py``) cut
and extend these lists together. `BatchEncoding` is the dict the user sees (``input_ids``,
``attention_mask``, ...), with the `Encoding` objects kept for the alignment helpers
(``word_ids``, ``token_to_chars``, ``char_to_token``, ...). `text_pairs` checks what a call
takes: a text, a pair, or a batch of either.

    >>> enc = Encoding(ids=[7592, 2088], tokens=["hello", "world"], offsets=[(0, 5), (6, 11)],
    ...                word_ids=[0, 1], type_ids=[0, 0], special_tokens_mask=[0, 0],
    ...                attention_mask=[1, 1], sequence_ids=[0, 0])
    >>> batch = BatchEncoding.from_encodings([enc], ["input_ids", "attention_mask"], flat=True)
    >>> batch
    {'input_ids': [7592, 2088], 'attention_mask': [1, 1]}
    >>> batch.input_ids, batch.tokens(), batch.token_to_chars(1), batch.char_to_token(7)
    ([7592, 2088], ['hello', 'world'], CharSpan(start=6, end=11), 1)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

import numpy as np

_ENCODING_FIELDS = ("ids", "tokens", "offsets", "word_ids", "type_ids", "special_tokens_mask",
                    "attention_mask", "sequence_ids")


@dataclass
class Encoding:
    """One encoded sequence (or pair), before it is put into a `BatchEncoding`.

    ``sequence_ids`` says where each token comes from: 0 for the first text, 1 for the
    second (``text_pair``), None for special and padding tokens.
    """
    ids: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    offsets: list[tuple[int, int]] = field(default_factory=list)   # character offsets
    word_ids: list[int | None] = field(default_factory=list)
    type_ids: list[int] = field(default_factory=list)
    special_tokens_mask: list[int] = field(default_factory=list)
    attention_mask: list[int] = field(default_factory=list)
    sequence_ids: list[int | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def window(self, start: int, stop: int) -> "Encoding":
        """A new Encoding with tokens ``start:stop`` of this one."""
        return Encoding(**{name: getattr(self, name)[start:stop] for name in _ENCODING_FIELDS})

    def truncate(self, n: int, side: str) -> None:
        """Keep `n` tokens, dropping from the right (default) or the left."""
        keep = slice(0, n) if side == "right" else slice(len(self.ids) - n, len(self.ids))
        for name in _ENCODING_FIELDS:
            setattr(self, name, getattr(self, name)[keep])

    def windows(self, n: int, stride: int, side: str) -> list["Encoding"]:
        """Cut into windows of `n` tokens that overlap by `stride` tokens, as `tokenizers` does
        for ``return_overflowing_tokens``: the first window is what plain truncation keeps, the
        others are the overflow, in order (from the end of the text backwards when truncating
        on the left).

        >>> enc = Encoding(ids=list(range(7)))
        >>> [w.ids for w in enc.windows(4, 2, "right")]       # windows start every 4 - 2 tokens
        [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6]]
        >>> [w.ids for w in enc.windows(4, 1, "left")]
        [[3, 4, 5, 6], [0, 1, 2, 3]]
        """
        length = len(self.ids)
        if n >= length:
            return [self]
        if n == 0:                          # nothing kept: the whole sequence overflows
            return [self.window(0, 0), self]
        if stride >= n:
            raise ValueError(f"stride={stride} must be smaller than the {n} tokens left for this "
                             f"sequence by max_length (minus the special tokens, and for a pair minus "
                             f"the other sequence); use a smaller stride or a larger max_length")
        step = n - stride
        spans = []
        if side == "right":
            for start in range(0, length, step):
                spans.append((start, min(start + n, length)))
                if start + n >= length:
                    break
        else:
            for stop in range(length, 0, -step):
                spans.append((max(stop - n, 0), stop))
                if stop - n <= 0:
                    break
        return [self.window(a, b) for a, b in spans]


# The output keys of a tokenizer call -> the Encoding field each one reads.
OUTPUT_FIELDS = {"input_ids": "ids", "token_type_ids": "type_ids", "attention_mask": "attention_mask",
                 "special_tokens_mask": "special_tokens_mask", "offset_mapping": "offsets"}


class CharSpan(NamedTuple):
    """Character span ``text[start:end]`` of a token or word (as transformers' CharSpan)."""
    start: int
    end: int


class TokenSpan(NamedTuple):
    """Token span ``start:end`` of a word (as transformers' TokenSpan)."""
    start: int
    end: int


class BatchEncoding(dict):
    """The dict a tokenizer call returns; keys are also attributes (``enc.input_ids``).

    The alignment helpers of transformers' fast tokenizers take the sequence `i` of the batch
    (0 for a single text; with ``return_overflowing_tokens`` each window is one sequence):

    - ``enc.tokens(i)``, ``enc.word_ids(i)``: the token strings, the word index of each token;
    - ``enc.sequence_ids(i)``: 0 / 1 for tokens of the first / second text, None for special
      tokens and padding (the question-answering pipeline finds the context with it);
    - ``token_to_word``, ``token_to_sequence``, ``token_to_chars``, ``char_to_token``,
      ``word_to_tokens``, ``word_to_chars``: ``enc.token_to_chars(3)`` (batch 0) or
      ``enc.token_to_chars(i, 3)``, as in transformers.
    """

    def __init__(self, data: dict | None = None, encodings: list[Encoding] | None = None):
        super().__init__(data or {})
        self._encodings = encodings

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"BatchEncoding has no key {name!r}; it has {list(self)}") from None

    @classmethod
    def from_encodings(cls, encodings: list[Encoding], keys: Sequence[str], *,
                       extra: dict[str, list[int]] | None = None, return_tensors: str | None = None,
                       flat: bool = False) -> "BatchEncoding":
        """The dict of a tokenizer call: under each of `keys` (names of `OUTPUT_FIELDS`) one row
        per encoding; `extra` adds lists with one item per encoding (``length``,
        ``overflow_to_sample_mapping``). ``return_tensors="np"`` makes int64 arrays of shape
        (batch, seq) (offsets: (batch, seq, 2)), which needs rows of one length. `flat` drops the
        batch level for a single text (``length`` stays a one-item list, as in transformers).
        """
        data: dict[str, Any] = {key: [list(getattr(e, OUTPUT_FIELDS[key])) for e in encodings]
                                for key in keys}
        data.update(extra or {})
        if return_tensors == "np":
            lengths = {len(e) for e in encodings}
            if len(lengths) > 1:
                raise ValueError(
                    f"return_tensors='np' needs sequences of one length, got lengths {sorted(lengths)}; "
                    f"pass padding=True (or padding='max_length') and/or truncation=True")
            for key, value in data.items():
                if key == "offset_mapping":
                    data[key] = np.array(value, dtype=np.int64).reshape(len(encodings), -1, 2)
                else:
                    data[key] = np.array(value, dtype=np.int64)
        elif flat:
            data = {k: (v[0] if k != "length" else v) for k, v in data.items()}
        return cls(data, encodings)

    @property
    def encodings(self) -> list[Encoding] | None:
        return self._encodings

    def _encoding(self, batch_index: int) -> Encoding:
        if not self._encodings:
            raise ValueError("this BatchEncoding holds no encodings (it was built by hand)")
        if not -len(self._encodings) <= batch_index < len(self._encodings):
            raise IndexError(f"batch index {batch_index} is out of range: this BatchEncoding holds "
                             f"{len(self._encodings)} sequence(s)")
        return self._encodings[batch_index]

    def _locate(self, batch_or_index: int, index: int | None) -> tuple[Encoding, int]:
        """transformers' convention: ``f(i)`` is item i of sequence 0, ``f(b, i)`` of sequence b."""
        batch, index = (0, batch_or_index) if index is None else (batch_or_index, index)
        enc = self._encoding(batch)
        return enc, index

    def tokens(self, batch_index: int = 0) -> list[str]:
        return list(self._encoding(batch_index).tokens)

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        return list(self._encoding(batch_index).word_ids)

    def words(self, batch_index: int = 0) -> list[int | None]:
        return self.word_ids(batch_index)

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        return list(self._encoding(batch_index).sequence_ids)

    def token_to_sequence(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        enc, t = self._locate(batch_or_token_index, token_index)
        return enc.sequence_ids[t]

    def token_to_word(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        enc, t = self._locate(batch_or_token_index, token_index)
        return None if enc.sequence_ids[t] is None else enc.word_ids[t]

    def token_to_chars(self, batch_or_token_index: int, token_index: int | None = None) -> CharSpan | None:
        """Characters of a token; None for special tokens."""
        enc, t = self._locate(batch_or_token_index, token_index)
        return None if enc.sequence_ids[t] is None else CharSpan(*enc.offsets[t])

    def _sequence_range(self, enc: Encoding, sequence_index: int) -> range:
        where = [k for k, s in enumerate(enc.sequence_ids) if s == sequence_index]
        return range(where[0], where[-1] + 1) if where else range(0)

    def char_to_token(self, batch_or_char_index: int, char_index: int | None = None,
                      sequence_index: int = 0) -> int | None:
        """The token whose characters include `char_index` of text `sequence_index` (None if the
        character is whitespace or was dropped)."""
        enc, c = self._locate(batch_or_char_index, char_index)
        for k in self._sequence_range(enc, sequence_index):
            start, end = enc.offsets[k]
            if start <= c < end:
                return k
        return None

    def word_to_tokens(self, batch_or_word_index: int, word_index: int | None = None,
                       sequence_index: int = 0) -> TokenSpan | None:
        enc, w = self._locate(batch_or_word_index, word_index)
        span = self._sequence_range(enc, sequence_index)
        hits = [k for k in span if enc.word_ids[k] == w]
        return TokenSpan(hits[0], hits[-1] + 1) if hits else None

    def word_to_chars(self, batch_or_word_index: int, word_index: int | None = None,
                      sequence_index: int = 0) -> CharSpan | None:
        enc, _ = self._locate(batch_or_word_index, word_index)
        tokens = self.word_to_tokens(batch_or_word_index, word_index, sequence_index)
        if tokens is None:
            return None
        return CharSpan(enc.offsets[tokens.start][0], enc.offsets[tokens.end - 1][1])


def text_pairs(text: Any, text_pair: Any) -> tuple[bool, list[tuple[str, str | None]]]:
    """The inputs of a tokenizer call, checked: (is_batch, [(text, text_pair or None), ...]).

    >>> text_pairs(["a", ("b", "c")], None)
    (True, [('a', None), ('b', 'c')])
    """
    if isinstance(text, str):
        if text_pair is not None and not isinstance(text_pair, str):
            raise TypeError(f"text_pair must be a str when text is a str, got {type(text_pair).__name__}")
        return False, [(text, text_pair)]
    if isinstance(text, np.ndarray):
        text = text.tolist()
    if not isinstance(text, (list, tuple)):
        raise TypeError(f"text must be a str or a list of str, got {type(text).__name__}")
    if text_pair is not None:
        if isinstance(text_pair, str) or not isinstance(text_pair, (list, tuple)):
            raise TypeError(f"text_pair must be a list of str when text is a list, got "
                            f"{type(text_pair).__name__}")
        if len(text_pair) != len(text):
            raise ValueError(f"text has {len(text)} items but text_pair has {len(text_pair)}")
        items = list(zip(text, text_pair))
    else:
        items = [tuple(t) if isinstance(t, (list, tuple)) else (t, None) for t in text]
    out = []
    for k, item in enumerate(items):
        if len(item) != 2:
            raise ValueError(f"text[{k}] must be a str or a (text, text_pair) pair, got {len(item)} items")
        for part, value in zip(("text", "text_pair"), item):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{part}[{k}] must be a str, got {type(value).__name__} ({value!r})")
        if item[0] is None:
            raise TypeError(f"text[{k}] must be a str, got NoneType")
        out.append((item[0], item[1]))
    return True, out
