"""What every minitf tokenizer shares, whatever its algorithm (BPE, WordPiece, ...).

A tokenizer turns text into the integer ids a model reads, in four steps (the same steps as
the Hugging Face `tokenizers` library and chapter 6 of the Hugging Face course):

1. **added tokens** -- special tokens such as ``<|endoftext|>`` (and any token added with
   ``add_tokens``) are cut out of the text first, so the algorithm never splits them;
2. **pre-tokenization + model** -- each remaining piece is split into words and each word into
   sub-word tokens; this is the algorithm-specific part (see ``bpe.py``);
3. **truncation + post-processing** -- long sequences are cut to ``max_length`` and special
   tokens are put around them from a template, e.g. RoBERTa's ``<s> A </s></s> B </s>``;
4. **padding** -- a batch is made rectangular with ``pad_token_id`` and an attention mask.

Worked example with the real GPT-2 tokenizer (``make weights`` fetches its files)::

    >>> tok = AutoTokenizer.from_pretrained("weights/real/gpt2-tokenizer")  # doctest: +SKIP
    >>> tok.pad_token = tok.eos_token     # GPT-2 has no pad token   # doctest: +SKIP
    >>> enc = tok(["Hello world", "Hi"], padding=True, return_tensors="np")  # doctest: +SKIP
    >>> enc.input_ids                     # int64, (batch, seq)       # doctest: +SKIP
    array([[15496,   995],
           [17250, 50256]])
    >>> enc.attention_mask                                            # doctest: +SKIP
    array([[1, 1],
           [1, 0]])
    >>> tok.decode([15496, 995])                                      # doctest: +SKIP
    'Hello world'

The behaviour follows `transformers` 4.x "fast" tokenizers (``PreTrainedTokenizerFast``): the
same argument names, the same defaults, the same output keys and shapes. A subclass provides
the algorithm through a handful of hooks (``_model_*``, ``_tokenize_piece``, ``_decode_tokens``).
"""
from __future__ import annotations

import abc
import json
import logging
import os
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np

logger = logging.getLogger(__name__)

# transformers' stand-in for "no maximum length" (model_max_length of a tokenizer without one).
VERY_LARGE_INTEGER = int(1e30)

# The named special tokens of transformers, in the order `all_special_tokens` lists them.
SPECIAL_TOKENS_ATTRIBUTES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                             "cls_token", "mask_token")

# Characters that the `tokenizers` library counts as whitespace (Unicode White_Space; the set
# both Oniguruma's `\s` and Rust's `char::is_whitespace` use). Note it is *not* Python's
# `str.isspace()`, which also says yes to the separators \x1c-\x1f.
WHITESPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                       "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

# Character classes as the `tokenizers` library sees them. Its regex engines (Oniguruma for the
# GPT-2 pattern, Rust's regex crate for added tokens) have newer Unicode tables (Unicode 16)
# than the `unicodedata` of Python 3.11 (Unicode 14): these code points, added by Unicode 15
# and 16, are unassigned ("Cn") for Python 3.11 but letters / numbers for them. (A newer
# Python already knows some of them; the table is only read for "Cn" characters.)
_NEW_LETTERS = (
    (0x01C89, 0x01C8A), (0x0A7CB, 0x0A7CD), (0x0A7DA, 0x0A7DC), (0x105C0, 0x105F3),
    (0x10D4A, 0x10D65), (0x10D6F, 0x10D85), (0x10EC2, 0x10EC4), (0x1123F, 0x11240),
    (0x11380, 0x11389), (0x1138B, 0x1138B), (0x1138E, 0x1138E), (0x11390, 0x113B5),
    (0x113B7, 0x113B7), (0x113D1, 0x113D1), (0x113D3, 0x113D3), (0x11BC0, 0x11BE0),
    (0x11F02, 0x11F02), (0x11F04, 0x11F10), (0x11F12, 0x11F33), (0x1342F, 0x1342F),
    (0x13441, 0x13446), (0x13460, 0x143FA), (0x16100, 0x1611D), (0x16D40, 0x16D6C),
    (0x18CFF, 0x18CFF), (0x1B132, 0x1B132), (0x1B155, 0x1B155), (0x1DF25, 0x1DF2A),
    (0x1E030, 0x1E06D), (0x1E4D0, 0x1E4EB), (0x1E5D0, 0x1E5ED), (0x1E5F0, 0x1E5F0),
    (0x2B739, 0x2B739), (0x2EBF0, 0x2EE5D), (0x31350, 0x323AF),
)
_NEW_NUMBERS = (
    (0x10D40, 0x10D49), (0x116D0, 0x116E3), (0x11BF0, 0x11BF9), (0x11F50, 0x11F59),
    (0x16130, 0x16139), (0x16D70, 0x16D79), (0x1CCF0, 0x1CCF9), (0x1D2C0, 0x1D2D3),
    (0x1E4F0, 0x1E4F9), (0x1E5F1, 0x1E5FA),
)


def _in_ranges(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    k = bisect_right(ranges, (cp, 0x10FFFF)) - 1
    return k >= 0 and ranges[k][0] <= cp <= ranges[k][1]


def char_class(ch: str) -> str:
    """'L' letter (\\p{L}), 'N' number (\\p{N}), 'S' whitespace (\\s: `WHITESPACE`, not
    str.isspace) or 'P' anything else, as the regex engine of `tokenizers` classifies `ch`."""
    if ch in WHITESPACE:
        return "S"
    category = unicodedata.category(ch)
    if category[0] in "LN":
        return category[0]
    if category == "Cn":                     # unassigned for this Python, maybe not for Oniguruma
        if _in_ranges(ord(ch), _NEW_LETTERS):
            return "L"
        if _in_ranges(ord(ch), _NEW_NUMBERS):
            return "N"
    return "P"


# from_pretrained arguments of transformers that mean nothing here (minitf is always "fast").
_IGNORED_KWARGS = ("use_fast", "trust_remote_code", "revision", "cache_dir", "local_files_only",
                   "token", "use_auth_token", "force_download", "legacy")

_PADDING_CHOICES = (False, True, "longest", "max_length", "do_not_pad")
_TRUNCATION_CHOICES = (None, False, True, "longest_first", "only_first", "only_second",
                       "do_not_truncate")


# ----------------------------------------------------------------------------------------------
# Small data types
# ----------------------------------------------------------------------------------------------
@dataclass
class AddedToken:
    """A token matched in the raw text before the algorithm runs (same fields as `tokenizers`).

    special:     skipped by ``decode(..., skip_special_tokens=True)``.
    lstrip/rstrip: the match swallows the whitespace on its left/right (RoBERTa's ``<mask>``
                 has lstrip, so ``"a <mask>"`` gives ``["a", " <mask>"]``, not ``["a", " ", "<mask>"]``).
    single_word: only match when not glued to a word character on either side.
    normalized:  match on the normalized text (after the normalizer) rather than the raw text.
    """
    content: str
    special: bool = False
    lstrip: bool = False
    rstrip: bool = False
    single_word: bool = False
    normalized: bool = True

    @classmethod
    def from_any(cls, value: "str | dict | AddedToken", special: bool = True) -> "AddedToken":
        """Build from a string or the dict form used in tokenizer.json / tokenizer_config.json."""
        if isinstance(value, AddedToken):
            return value
        if isinstance(value, str):
            return cls(value, special=special, normalized=not special)
        if isinstance(value, dict) and isinstance(value.get("content"), str):
            return cls(value["content"], special=value.get("special", special),
                       lstrip=value.get("lstrip", False), rstrip=value.get("rstrip", False),
                       single_word=value.get("single_word", False),
                       normalized=value.get("normalized", not special))
        raise TypeError(f"a token must be a str or a dict with 'content', got {value!r}")

    def to_dict(self, id: int | None = None) -> dict:
        d = {"content": self.content, "single_word": self.single_word, "lstrip": self.lstrip,
             "rstrip": self.rstrip, "normalized": self.normalized, "special": self.special}
        return d if id is None else {"id": id, **d}


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


@dataclass
class TemplatePostProcessor:
    """Puts special tokens around one sequence or a pair, from a template.

    A template is a list of items: ``("A", type_id)`` / ``("B", type_id)`` for the sequences and
    ``(token_string, type_id)`` for a special token. RoBERTa's pair template is
    ``<s> A </s> </s> B </s>``, i.e. ``[("<s>",0), ("A",0), ("</s>",0), ("</s>",0), ("B",0), ("</s>",0)]``.
    GPT-2's templates are just ``[("A", 0)]`` and ``[("A", 0), ("B", 1)]``: it adds nothing.
    `trim_offsets`/`add_prefix_space` are read by byte-level tokenizers (RoBERTa and GPT-2
    processors may remove the spaces from token offsets; see ``bpe.py``).
    """
    single: list[tuple[str, int]] = field(default_factory=lambda: [("A", 0)])
    pair: list[tuple[str, int]] = field(default_factory=lambda: [("A", 0), ("B", 1)])
    trim_offsets: bool = False
    add_prefix_space: bool = False
    kind: str = "ByteLevel"     # the tokenizer.json "type" this came from (for saving)
    ids: dict[str, int] = field(default_factory=dict)   # special token -> id, when the file says

    def num_special_tokens_to_add(self, pair: bool) -> int:
        return sum(1 for name, _ in (self.pair if pair else self.single) if name not in ("A", "B"))


# ----------------------------------------------------------------------------------------------
# The base class
# ----------------------------------------------------------------------------------------------
class PreTrainedTokenizer(abc.ABC):
    """Base class: added/special tokens, __call__ with padding and truncation, decoding.

    Subclasses implement the algorithm:

    - ``_model_vocab() -> dict[str, int]`` (the algorithm's own vocabulary, no added tokens)
    - ``_tokenize_piece(text, start, end) -> (ids, tokens, offsets, word_index)``: tokenize
      ``text[start:end]``, a piece that holds no added token; offsets are character offsets
      into `text`, and `word_index` gives for each token the number of the pre-tokenized word
      it comes from, counted from 0 in this piece (for ``word_ids``)
    - ``_decode_tokens(tokens) -> str``: token strings back to text
    - optionally ``_postprocess_offsets(encoding)`` (byte-level offset trimming).
    """

    # What __call__ returns by default (a WordPiece/BERT subclass adds "token_type_ids").
    model_input_names: list[str] = ["input_ids", "attention_mask"]
    # Offsets, word ids and overflow windows are available (a "fast" tokenizer in transformers).
    is_fast: bool = True

    def __init__(self, *, added_tokens: Iterable[tuple[int, AddedToken]] = (),
                 post_processor: TemplatePostProcessor | None = None,
                 model_max_length: int | None = None, padding_side: str = "right",
                 truncation_side: str = "right", clean_up_tokenization_spaces: bool = False,
                 name_or_path: str = "", **special_tokens: Any):
        self.post_processor = post_processor or TemplatePostProcessor()
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.name_or_path = name_or_path
        # Added tokens live outside the model vocabulary: id -> AddedToken, content -> id.
        self._added: dict[int, AddedToken] = {}
        self._added_ids: dict[str, int] = {}
        self._matchers: list | None = None           # rebuilt lazily after changes
        self._full_id_to_token: dict[int, str] | None = None
        for token_id, token in added_tokens:
            self._register_added(token, token_id)
        self._special: dict[str, str | None] = {name: None for name in SPECIAL_TOKENS_ATTRIBUTES}
        self._additional_special_tokens: list[str] = []
        for name, value in special_tokens.items():
            if name == "additional_special_tokens":
                self._additional_special_tokens = [AddedToken.from_any(v).content for v in value or []]
            elif name in self._special:
                self._special[name] = None if value is None else AddedToken.from_any(value).content
            else:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {name!r}")

    # ---- hooks the algorithm provides ------------------------------------------------------
    @abc.abstractmethod
    def _model_vocab(self) -> dict[str, int]:
        """token -> id of the algorithm's own vocabulary (added tokens excluded)."""

    @abc.abstractmethod
    def _model_id_to_token(self) -> dict[int, str]:
        """id -> token, the inverse of `_model_vocab`."""

    @abc.abstractmethod
    def _tokenize_piece(self, text: str, start: int, end: int):
        """Tokens (with offsets) of one stretch of text that holds no added token."""

    @abc.abstractmethod
    def _decode_tokens(self, tokens: list[str]) -> str:
        """Text for a list of the algorithm's tokens."""

    def _postprocess_offsets(self, encoding: Encoding) -> None:
        """Adjust the offsets of one sequence before special tokens are added (default: no-op)."""

    # ---- special tokens (bos_token, pad_token_id, ... are properties, defined below the class)
    @property
    def additional_special_tokens(self) -> list[str]:
        return list(self._additional_special_tokens)

    @property
    def special_tokens_map(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in self._special.items() if v is not None}
        if self._additional_special_tokens:
            out["additional_special_tokens"] = list(self._additional_special_tokens)
        return out

    @property
    def all_special_tokens(self) -> list[str]:
        out: list[str] = []
        for token in [*self._special.values(), *self._additional_special_tokens]:
            if token is not None and token not in out:
                out.append(token)
        return out

    @property
    def all_special_ids(self) -> list[int]:
        return [self.convert_tokens_to_ids(t) for t in self.all_special_tokens]

    @property
    def pad_token_type_id(self) -> int:
        return 0

    # ---- vocabulary ------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Size of the model vocabulary, without tokens added on top (as transformers)."""
        return len(self._model_vocab())

    def __len__(self) -> int:
        """Size of the full vocabulary, added tokens included."""
        return len(self._id_to_token_map())

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self._model_vocab())
        vocab.update(self._added_ids)
        return vocab

    def get_added_vocab(self) -> dict[str, int]:
        return dict(self._added_ids)

    @property
    def added_tokens_decoder(self) -> dict[int, AddedToken]:
        return dict(sorted(self._added.items()))

    def _id_to_token_map(self) -> dict[int, str]:
        if self._full_id_to_token is None:
            table = dict(self._model_id_to_token())
            table.update({i: t.content for i, t in self._added.items()})
            self._full_id_to_token = table
        return self._full_id_to_token

    def _register_added(self, token: AddedToken, token_id: int) -> None:
        old = self._added_ids.get(token.content)
        if old is not None and old != token_id:
            self._added.pop(old, None)
        self._added[token_id] = token
        self._added_ids[token.content] = token_id
        self._matchers = None
        self._full_id_to_token = None

    def _add(self, tokens: Sequence[AddedToken]) -> int:
        """Add tokens like `tokenizers`' AddedVocabulary: known tokens keep their id, new ones
        get the next free id after the model vocabulary. Returns how many were new."""
        model_vocab = self._model_vocab()
        added = 0
        for token in tokens:
            if not token.content or self._added.get(self._added_ids.get(token.content, -1)) == token:
                continue
            token_id = self._added_ids.get(token.content, model_vocab.get(token.content))
            if token_id is None:
                token_id = max([len(model_vocab) - 1, *self._added]) + 1
                added += 1
            self._register_added(token, token_id)
        return added

    def add_tokens(self, new_tokens: str | AddedToken | Sequence[str | AddedToken],
                   special_tokens: bool = False) -> int:
        """Add tokens that the algorithm will never split; returns how many are new.

        >>> tok.add_tokens(["minitf"])          # doctest: +SKIP
        1
        """
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        tokens = []
        for t in new_tokens:
            if not isinstance(t, (str, AddedToken)):
                raise TypeError(f"add_tokens takes str or AddedToken items, got {type(t).__name__}")
            tokens.append(AddedToken.from_any(t, special=special_tokens))
        return self._add(tokens)

    def add_special_tokens(self, special_tokens_dict: dict[str, Any],
                           replace_additional_special_tokens: bool = True) -> int:
        """Set (and add to the vocabulary) special tokens, e.g. ``{"pad_token": "[PAD]"}``."""
        if not isinstance(special_tokens_dict, dict):
            raise TypeError("add_special_tokens takes a dict such as {'pad_token': '[PAD]'}, got "
                            f"{type(special_tokens_dict).__name__}")
        tokens: list[AddedToken] = []
        for key, value in special_tokens_dict.items():
            if key == "additional_special_tokens":
                if isinstance(value, (str, AddedToken)):
                    raise TypeError("additional_special_tokens must be a list of tokens")
                new = [AddedToken.from_any(v) for v in value]
                names = [t.content for t in new]
                if replace_additional_special_tokens:
                    self._additional_special_tokens = names
                else:
                    self._additional_special_tokens += [n for n in names
                                                        if n not in self._additional_special_tokens]
                tokens += new
            elif key in self._special:
                token = AddedToken.from_any(value)
                self._special[key] = token.content
                tokens.append(token)
            else:
                raise ValueError(f"add_special_tokens: unknown key {key!r}; use one of "
                                 f"{list(SPECIAL_TOKENS_ATTRIBUTES) + ['additional_special_tokens']}")
        return self._add(tokens)

    # ---- conversions -----------------------------------------------------------------------
    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int] | None:
        """Token string(s) to id(s); unknown strings give `unk_token_id` (None without one)."""
        if isinstance(tokens, str):
            token_id = self._added_ids.get(tokens)
            if token_id is None:
                token_id = self._model_vocab().get(tokens)
            if token_id is None and self._special["unk_token"] is not None \
                    and self._special["unk_token"] != tokens:
                token_id = self.convert_tokens_to_ids(self._special["unk_token"])
            return token_id
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_ids_to_tokens(self, ids: int | Sequence[int] | np.ndarray,
                              skip_special_tokens: bool = False) -> str | list[str]:
        """Id(s) to token string(s); an id outside the vocabulary is an error."""
        if _is_int(ids):
            return self._id_to_token(self._as_id_list(ids, "ids")[0])
        special = set(self.all_special_ids)
        return [self._id_to_token(i) for i in self._as_id_list(ids, "ids")
                if not (skip_special_tokens and i in special)]

    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        return self._decode_tokens(list(tokens))

    def _id_to_token(self, token_id: int) -> str:
        token = self._id_to_token_map().get(token_id)
        if token is None:
            raise ValueError(f"token id {token_id} is not in the vocabulary (vocab size {len(self)}; "
                             f"valid ids are 0..{max(self._id_to_token_map())})")
        return token

    def _as_id_list(self, ids: Any, what: str) -> list[int]:
        """Accept an int, a list/tuple of ints, or a 0-d/1-d integer array (NumPy, or any array
        with ``ndim`` and ``tolist()`` such as CuPy); check every id."""
        if _is_int(ids):
            return self._check_ids([int(ids)])
        if hasattr(ids, "ndim") and hasattr(ids, "tolist"):          # an array
            if ids.ndim > 1:
                raise ValueError(f"{what} must be 1-D, got an array of shape {tuple(ids.shape)}; "
                                 f"use batch_decode for a batch")
            if isinstance(ids, np.ndarray) and ids.size and not np.issubdtype(ids.dtype, np.integer):
                raise TypeError(f"{what} must hold integers, got an array of dtype {ids.dtype}")
            ids = ids.reshape(-1).tolist() if ids.ndim == 0 else ids.tolist()
        if not isinstance(ids, (list, tuple)):
            raise TypeError(f"{what} must be an int, a list of ints or a numpy array, got "
                            f"{type(ids).__name__}")
        bad = [x for x in ids if not _is_int(x)]
        if bad:
            raise TypeError(f"{what} must be a list of ints, got an item of type "
                            f"{type(bad[0]).__name__} ({bad[0]!r})")
        return self._check_ids([int(x) for x in ids])

    def _check_ids(self, ids: list[int]) -> list[int]:
        for i in ids:
            if i < 0:
                raise ValueError(f"token id {i} is negative; ids are 0..{len(self) - 1}")
        return ids

    # ---- added tokens: cut them out of the text first ---------------------------------------
    def _split_on_added_tokens(self, text: str) -> list[tuple[int, int, int | None]]:
        """Split `text` into pieces ``(start, end, added_token_id or None)`` covering all of it.

        Like `tokenizers`: tokens with ``normalized=False`` are found first, then the others in
        the remaining pieces. At each position the longest token wins (leftmost-longest).
        """
        if self._matchers is None:
            self._matchers = [self._build_matcher(normalized) for normalized in (False, True)]
        pieces: list[tuple[int, int, int | None]] = [(0, len(text), None)]
        for matcher in self._matchers:
            if matcher is None:
                continue
            new: list[tuple[int, int, int | None]] = []
            for start, end, token_id in pieces:
                if token_id is None:
                    new += self._find_added(text, start, end, matcher)
                else:
                    new.append((start, end, token_id))
            pieces = new
        return pieces

    def _build_matcher(self, normalized: bool) -> tuple[dict[str, int], re.Pattern] | None:
        """(content -> id, pattern) for one group of added tokens.

        The pattern is an alternation of the escaped contents, longest first: Python's `re`
        tries the alternatives in order at the leftmost position, so it finds the
        leftmost-longest match, like the Aho-Corasick automaton of `tokenizers`.
        """
        ids = {t.content: i for i, t in self._added.items() if t.normalized == normalized}
        if not ids:
            return None
        pattern = re.compile("|".join(re.escape(c) for c in sorted(ids, key=len, reverse=True)))
        return ids, pattern

    def _find_added(self, text: str, start: int, end: int,
                    matcher: tuple[dict[str, int], re.Pattern]) -> list[tuple[int, int, int | None]]:
        """Find the added tokens in ``text[start:end]``, then apply the single_word / lstrip /
        rstrip rules exactly as `tokenizers` does."""
        if start == end:
            return [(start, end, None)]
        content_ids, pattern = matcher
        out: list[tuple[int, int, int | None]] = []
        last = start                          # end of the previous kept match
        for match in pattern.finditer(text, start, end):
            m_start, m_end = match.span()
            token_id = content_ids[match.group()]
            token = self._added[token_id]
            if token.single_word:             # must not be glued to a word on either side
                glued_left = m_start > start and _is_word_char(text[m_start - 1])
                glued_right = m_end < end and _is_word_char(text[m_end])
                if glued_left or glued_right:
                    continue
            if token.lstrip:                  # swallow the whitespace on the left...
                while m_start > last and text[m_start - 1] in WHITESPACE:
                    m_start -= 1
            if token.rstrip:                  # ...and/or on the right
                while m_end < end and text[m_end] in WHITESPACE:
                    m_end += 1
            if last < m_start:
                out.append((last, m_start, None))
            out.append((m_start, m_end, token_id))
            last = m_end
        if last < end:
            out.append((last, end, None))
        return out

    # ---- encoding --------------------------------------------------------------------------
    def _encode_sequence(self, text: str, type_id: int = 0) -> Encoding:
        """Added tokens + algorithm on one text, no special tokens (steps 1 and 2)."""
        enc = Encoding()
        word = 0
        for start, end, token_id in self._split_on_added_tokens(text):
            if token_id is not None:
                enc.ids.append(token_id)
                enc.tokens.append(text[start:end])     # with any lstrip/rstrip whitespace
                enc.offsets.append((start, end))
                enc.word_ids.append(word)
                word += 1
                continue
            ids, tokens, offsets, word_index = self._tokenize_piece(text, start, end)
            enc.ids += ids
            enc.tokens += tokens
            enc.offsets += offsets
            enc.word_ids += [word + w for w in word_index]
            word += (word_index[-1] + 1) if word_index else 0
        n = len(enc.ids)
        enc.type_ids = [type_id] * n
        enc.special_tokens_mask = [0] * n
        enc.attention_mask = [1] * n
        return enc

    def _post_process(self, a: Encoding, b: Encoding | None, add_special_tokens: bool) -> Encoding:
        """Step 3b: trim offsets, then lay out special tokens + sequences from the template."""
        self._postprocess_offsets(a)
        if b is not None:
            self._postprocess_offsets(b)
        return self._apply_template(a, b, add_special_tokens)

    def _apply_template(self, a: Encoding, b: Encoding | None, add_special_tokens: bool) -> Encoding:
        """Special tokens + sequences from the post-processor's template (offsets already trimmed)."""
        if not add_special_tokens:
            template = [("A", 0)] + ([("B", 1)] if b is not None else [])
            keep_type_ids = True
        else:
            template = self.post_processor.pair if b is not None else self.post_processor.single
            keep_type_ids = False
        out = Encoding()
        for name, type_id in template:
            if name in ("A", "B"):
                seq = a if name == "A" else b
                out.ids += seq.ids
                out.tokens += seq.tokens
                out.offsets += seq.offsets
                out.word_ids += seq.word_ids
                out.type_ids += seq.type_ids if keep_type_ids else [type_id] * len(seq)
                out.special_tokens_mask += seq.special_tokens_mask
                out.sequence_ids += [0 if name == "A" else 1] * len(seq)
            else:
                token_id = self.post_processor.ids.get(name)
                out.ids.append(self.convert_tokens_to_ids(name) if token_id is None else token_id)
                out.tokens.append(name)
                out.offsets.append((0, 0))
                out.word_ids.append(None)
                out.type_ids.append(type_id)
                out.special_tokens_mask.append(1)
                out.sequence_ids.append(None)
        out.attention_mask = [1] * len(out.ids)
        return out

    def _truncate(self, a: Encoding, b: Encoding | None, max_length: int, strategy: str,
                  add_special_tokens: bool, stride: int = 0,
                  overflow: bool = False) -> tuple[list[Encoding], list[Encoding] | None]:
        """Step 3a with the rules of `tokenizers` (special tokens count towards `max_length`;
        'longest_first' shares what is left between the two sequences).

        Returns the windows of each sequence: ``[kept]`` or, with `overflow`, ``[kept, overflow
        1, overflow 2, ...]`` where consecutive windows share `stride` tokens (see
        ``Encoding.windows``); None for a missing pair.
        """
        n_special = self.post_processor.num_special_tokens_to_add(b is not None) if add_special_tokens else 0
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
                return enc.windows(n, stride, self.truncation_side)
            if n < len(enc):
                if 0 < n <= stride:             # the check `tokenizers` makes even without overflow
                    enc.windows(n, stride, self.truncation_side)
                enc.truncate(n, self.truncation_side)
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

    def _pad(self, enc: Encoding, length: int, side: str) -> None:
        n = length - len(enc)
        if n <= 0:
            return
        pad_id = self.pad_token_id
        fill = {"ids": [pad_id] * n, "tokens": [self.pad_token] * n, "offsets": [(0, 0)] * n,
                "word_ids": [None] * n, "type_ids": [self.pad_token_type_id] * n,
                "special_tokens_mask": [1] * n, "attention_mask": [0] * n, "sequence_ids": [None] * n}
        for name, values in fill.items():
            current = getattr(enc, name)
            setattr(enc, name, current + values if side == "right" else values + current)

    def _encode_with_overflow(self, first: str, second: str | None, trunc_strategy: str,
                              max_length: int | None, add_special_tokens: bool, stride: int,
                              overflow: bool) -> list[Encoding]:
        """One text (or pair) -> its encoding, followed by its overflow windows if asked.

        With a pair whose both sides overflow, the windows combine like `tokenizers` does:
        (A1, B1), then each later A window with B1 and every later B window, then A1 with
        every later B window.
        """
        a = self._encode_sequence(first, 0)
        b = self._encode_sequence(second, 1) if second is not None else None
        if trunc_strategy == "do_not_truncate":
            return [self._post_process(a, b, add_special_tokens)]
        wa, wb = self._truncate(a, b, max_length, trunc_strategy, add_special_tokens, stride, overflow)
        for w in wa + (wb or []):                # trim offsets once per window, as `tokenizers`
            self._postprocess_offsets(w)
        if wb is None:
            return [self._apply_template(w, None, add_special_tokens) for w in wa]
        pairs = [(wa[0], wb[0])]
        for extra_a in wa[1:]:
            pairs += [(extra_a, wb[0])] + [(extra_a, extra_b) for extra_b in wb[1:]]
        pairs += [(wa[0], extra_b) for extra_b in wb[1:]]
        return [self._apply_template(x, y, add_special_tokens) for x, y in pairs]

    def __call__(self, text: str | Sequence[str] | Sequence[tuple[str, str]],
                 text_pair: str | Sequence[str] | None = None, *,
                 add_special_tokens: bool = True, padding: bool | str = False,
                 truncation: bool | str | None = None, max_length: int | None = None,
                 stride: int = 0, pad_to_multiple_of: int | None = None,
                 padding_side: str | None = None, return_tensors: str | None = None,
                 return_token_type_ids: bool | None = None, return_attention_mask: bool | None = None,
                 return_overflowing_tokens: bool = False, return_special_tokens_mask: bool = False,
                 return_offsets_mapping: bool = False, return_length: bool = False,
                 verbose: bool = True) -> BatchEncoding:
        """Tokenize a text, a pair, or a batch of either (transformers 4.x semantics).

        >>> tok("Hello world")                                       # doctest: +SKIP
        {'input_ids': [15496, 995], 'attention_mask': [1, 1]}
        >>> tok(["a b c", "d"], padding=True, return_tensors="np").input_ids.shape  # doctest: +SKIP
        (2, 3)

        Long inputs: ``return_overflowing_tokens=True`` keeps what truncation would drop as
        more windows of at most `max_length` tokens, consecutive windows sharing `stride`
        tokens. With a pair and ``truncation="only_second"`` only the second text (the
        context of question answering) is windowed and every window repeats the first text.
        The output is then always a batch with one row per window, and
        ``overflow_to_sample_mapping`` gives the input each row comes from::

            >>> enc = tok(question, context, truncation="only_second", max_length=384,
            ...           stride=128, return_overflowing_tokens=True)      # doctest: +SKIP
            >>> enc.overflow_to_sample_mapping, enc.sequence_ids(1)[:3]    # doctest: +SKIP
            ([0, 0, 0], [None, 0, 0])
        """
        batched, pairs = self._check_text_input(text, text_pair)
        explicit_no_truncation = truncation is False or truncation == "do_not_truncate" or \
            (truncation is None and max_length is None)
        pad_strategy, trunc_strategy, max_length = self._resolve_strategies(
            padding, truncation, max_length, pad_to_multiple_of, verbose)
        if not _is_int(stride) or stride < 0:
            raise ValueError(f"stride must be a non-negative int, got {stride!r}")
        if return_overflowing_tokens and explicit_no_truncation:
            raise ValueError(f"return_overflowing_tokens=True needs truncation (got truncation="
                             f"{truncation!r}{'' if max_length is None else f', max_length={max_length}'}): "
                             f"pass truncation=True, 'only_first' or 'only_second' with a max_length")
        if return_tensors not in (None, "np"):
            raise ValueError(f"return_tensors={return_tensors!r} is not supported: minitf returns "
                             f"lists (return_tensors=None) or NumPy arrays (return_tensors='np')")
        side = padding_side or self.padding_side
        if side not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {side!r}")
        if self.truncation_side not in ("left", "right"):
            raise ValueError(f"truncation_side must be 'left' or 'right', got {self.truncation_side!r}")

        encodings: list[Encoding] = []
        sample_mapping: list[int] = []
        for sample, (first, second) in enumerate(pairs):
            windows = self._encode_with_overflow(first, second, trunc_strategy, max_length,
                                                 add_special_tokens, stride, return_overflowing_tokens)
            encodings += windows
            sample_mapping += [sample] * len(windows)
            if trunc_strategy == "do_not_truncate" and verbose and \
                    len(encodings[-1]) > self.model_max_length:
                logger.warning("Token indices sequence length is longer than the specified maximum "
                               "sequence length for this model (%d > %d). Running this sequence "
                               "through the model will result in indexing errors",
                               len(encodings[-1]), self.model_max_length)

        if pad_strategy != "do_not_pad":
            target = max((len(e) for e in encodings), default=0) if pad_strategy == "longest" \
                else max_length
            if pad_to_multiple_of and target % pad_to_multiple_of:
                target += pad_to_multiple_of - target % pad_to_multiple_of
            for enc in encodings:
                self._pad(enc, target, side)

        want = {
            "input_ids": True,
            "token_type_ids": ("token_type_ids" in self.model_input_names
                               if return_token_type_ids is None else return_token_type_ids),
            "attention_mask": ("attention_mask" in self.model_input_names
                               if return_attention_mask is None else return_attention_mask),
            "special_tokens_mask": return_special_tokens_mask,
            "offset_mapping": return_offsets_mapping,
        }
        source = {"input_ids": "ids", "token_type_ids": "type_ids", "attention_mask": "attention_mask",
                  "special_tokens_mask": "special_tokens_mask", "offset_mapping": "offsets"}
        data: dict[str, Any] = {}
        for key, wanted in want.items():
            if wanted:
                data[key] = [list(getattr(e, source[key])) for e in encodings]
        if return_length:
            data["length"] = [len(e) for e in encodings]
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = sample_mapping

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
        elif not batched and not return_overflowing_tokens:
            # A single text gives flat lists (but `length` stays a one-item list, as transformers;
            # with return_overflowing_tokens it stays a batch of windows).
            data = {k: (v[0] if k != "length" else v) for k, v in data.items()}
        return BatchEncoding(data, encodings)

    def _check_text_input(self, text: Any, text_pair: Any) -> tuple[bool, list[tuple[str, str | None]]]:
        """Validate the inputs; return (is_batch, [(text, text_pair_or_None), ...])."""
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

    def _resolve_strategies(self, padding, truncation, max_length, pad_to_multiple_of, verbose):
        """Map the user's padding/truncation arguments to strategies, as transformers 4.x does."""
        if not any(padding is c or (isinstance(padding, str) and padding == c) for c in _PADDING_CHOICES):
            raise ValueError(f"padding must be one of True, False, 'longest', 'max_length', "
                             f"'do_not_pad'; got {padding!r}")
        if not any(truncation is c or (isinstance(truncation, str) and truncation == c)
                   for c in _TRUNCATION_CHOICES):
            raise ValueError(f"truncation must be one of True, False, 'longest_first', 'only_first', "
                             f"'only_second', 'do_not_truncate'; got {truncation!r}")
        if max_length is not None and (not _is_int(max_length) or max_length < 0):
            raise ValueError(f"max_length must be a non-negative int or None, got {max_length!r}")
        if pad_to_multiple_of is not None and (not _is_int(pad_to_multiple_of) or pad_to_multiple_of < 1):
            raise ValueError(f"pad_to_multiple_of must be a positive int or None, got {pad_to_multiple_of!r}")

        # max_length without any truncation argument means "truncate" (with a warning).
        if max_length is not None and padding is False and truncation is None:
            if verbose:
                logger.warning("Truncation was not explicitly activated but `max_length` is provided "
                               "a specific value, please use `truncation=True` to explicitly truncate "
                               "examples to max length. Defaulting to 'longest_first' truncation strategy.")
            truncation = "longest_first"

        pad = {True: "longest", False: "do_not_pad"}.get(padding, padding) \
            if isinstance(padding, bool) else padding
        trunc = {True: "longest_first", False: "do_not_truncate", None: "do_not_truncate"}[truncation] \
            if truncation is None or isinstance(truncation, bool) else truncation

        if max_length is None:
            if pad == "max_length" or trunc != "do_not_truncate":
                if self.model_max_length >= VERY_LARGE_INTEGER:
                    if verbose:
                        logger.warning("No max_length given and the tokenizer has no model_max_length: "
                                       "no padding to max_length and no truncation.")
                    pad = "do_not_pad" if pad == "max_length" else pad
                    trunc = "do_not_truncate"
                else:
                    max_length = self.model_max_length
        if pad != "do_not_pad" and (self.pad_token is None or self.pad_token_id is None):
            raise ValueError(
                "Asking to pad but the tokenizer does not have a padding token. Please select a token "
                "to use as `pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new "
                "pad token via `tokenizer.add_special_tokens({'pad_token': '[PAD]'})`.")
        return pad, trunc, max_length

    def encode(self, text: str, text_pair: str | None = None, add_special_tokens: bool = True,
               **kwargs: Any) -> list[int]:
        """Ids of one text (or pair) as a plain list."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a str, got {type(text).__name__}; call the tokenizer "
                            f"itself for a batch")
        kwargs.pop("return_tensors", None)
        return self(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)["input_ids"]

    def tokenize(self, text: str, text_pair: str | None = None, add_special_tokens: bool = False) -> list[str]:
        """Token strings of one text (no special tokens unless asked)."""
        if not isinstance(text, str):
            raise TypeError(f"tokenize takes a str, got {type(text).__name__}")
        return self(text, text_pair, add_special_tokens=add_special_tokens).tokens()

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return self.post_processor.num_special_tokens_to_add(pair)

    # ---- decoding --------------------------------------------------------------------------
    def decode(self, token_ids: int | Sequence[int] | np.ndarray, skip_special_tokens: bool = False,
               clean_up_tokenization_spaces: bool | None = None) -> str:
        """Ids back to text. ``decode(encode(text)) == text`` for byte-level BPE."""
        ids = self._as_id_list(token_ids, "token_ids")
        if skip_special_tokens:   # as `tokenizers`: the added tokens marked special are dropped
            ids = [i for i in ids if not (i in self._added and self._added[i].special)]
        tokens = [self._id_to_token(i) for i in ids]
        text = self._decode_tokens(tokens)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        return clean_up_tokenization(text) if clean_up_tokenization_spaces else text

    def batch_decode(self, sequences: Sequence[Sequence[int]] | np.ndarray,
                     skip_special_tokens: bool = False,
                     clean_up_tokenization_spaces: bool | None = None) -> list[str]:
        if isinstance(sequences, np.ndarray) and sequences.ndim != 2:
            raise ValueError(f"batch_decode takes a 2-D array (batch, seq), got shape {sequences.shape}")
        if isinstance(sequences, BatchEncoding):
            sequences = sequences["input_ids"]
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces) for s in sequences]

    # ---- loading and saving ----------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any) -> "PreTrainedTokenizer":
        """Load from a local folder in the Hugging Face layout or a cached / downloadable Hub id."""
        from minitf.hub import resolve
        for ignored in _IGNORED_KWARGS:      # accepted for compatibility with course code
            kwargs.pop(ignored, None)
        folder = resolve(name_or_path)
        return cls._from_folder(folder, name_or_path=os.fspath(name_or_path), **kwargs)

    @classmethod
    @abc.abstractmethod
    def _from_folder(cls, folder: Path, **kwargs: Any) -> "PreTrainedTokenizer":
        """Build the tokenizer from the files of a model folder."""

    def _config_dict(self) -> dict[str, Any]:
        """What tokenizer_config.json holds for this tokenizer."""
        config: dict[str, Any] = {"tokenizer_class": getattr(self, "tokenizer_class", type(self).__name__)}
        if self.model_max_length < VERY_LARGE_INTEGER:
            config["model_max_length"] = self.model_max_length
        config.update(self.special_tokens_map)
        config["padding_side"] = self.padding_side
        config["truncation_side"] = self.truncation_side
        config["clean_up_tokenization_spaces"] = self.clean_up_tokenization_spaces
        config["added_tokens_decoder"] = {str(i): t.to_dict() for i, t in sorted(self._added.items())}
        return config

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
                f"model_max_length={self.model_max_length}, padding_side={self.padding_side!r}, "
                f"special_tokens={self.special_tokens_map})")


def _special_token_property(name: str) -> property:
    def get(self: PreTrainedTokenizer) -> str | None:
        return self._special[name]

    def set(self: PreTrainedTokenizer, value: str | AddedToken | None) -> None:
        self._special[name] = None if value is None else AddedToken.from_any(value).content

    return property(get, set, doc=f"The {name.replace('_', ' ')} (a string), or None. Settable: "
                                  f"`tok.pad_token = tok.eos_token` is the usual GPT-2 idiom.")


def _special_token_id_property(name: str) -> property:
    def get(self: PreTrainedTokenizer) -> int | None:
        token = self._special[name]
        return None if token is None else self.convert_tokens_to_ids(token)

    def set(self: PreTrainedTokenizer, value: int | None) -> None:
        self._special[name] = None if value is None else self.convert_ids_to_tokens(int(value))

    return property(get, set, doc=f"The id of the {name.replace('_', ' ')}, or None.")


# tok.bos_token, tok.bos_token_id, tok.eos_token, ... tok.mask_token_id
for _name in SPECIAL_TOKENS_ATTRIBUTES:
    setattr(PreTrainedTokenizer, _name, _special_token_property(_name))
    setattr(PreTrainedTokenizer, _name + "_id", _special_token_id_property(_name))


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------
def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_word_char(ch: str) -> bool:
    """Rust regex's Unicode `\\w` (letters, marks, decimal digits, connector punctuation, ZWJ/ZWNJ),
    used by `tokenizers` for the `single_word` rule of added tokens."""
    cat = unicodedata.category(ch)
    if cat == "Cn":
        return char_class(ch) != "P"
    return cat[0] in "LM" or cat in ("Nd", "Nl", "Pc") or ch in "\u200c\u200d"


def clean_up_tokenization(text: str) -> str:
    """transformers' clean-up of spaces before punctuation and English contractions."""
    return (text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
            .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
            .replace(" 've", "'ve").replace(" 're", "'re"))


def read_tokenizer_config(folder: Path) -> dict[str, Any]:
    """tokenizer_config.json, completed by special_tokens_map.json (the config wins on a clash)."""
    config: dict[str, Any] = {}
    if (folder / "tokenizer_config.json").is_file():
        config.update(read_json(folder / "tokenizer_config.json"))
    if (folder / "special_tokens_map.json").is_file():
        for key, value in read_json(folder / "special_tokens_map.json").items():
            config.setdefault(key, value)
    return config


def single_pre_tokenizer(data: dict) -> Any:
    """tokenizer.json's pre_tokenizer, unwrapped when it is a Sequence of just one."""
    pre = data.get("pre_tokenizer")
    if isinstance(pre, dict) and pre.get("type") == "Sequence" and len(pre.get("pretokenizers", [])) == 1:
        pre = pre["pretokenizers"][0]
    return pre


def read_json(path: Path) -> Any:
    """Read a JSON file; a syntax error names the file, line and column."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None


SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                       "mask_token")


def added_tokens_with_ids(folder: Path, config: dict[str, Any], vocab: dict[str, int],
                          default_specials: dict[str, Any], specials_normalized=None
                          ) -> list[tuple[int, AddedToken]]:
    """The added tokens of a folder without tokenizer.json, gathered as transformers does when
    it loads the files: tokenizer_config.json's `added_tokens_decoder` (with ids),
    `added_tokens.json`, then the special tokens (`default_specials` when the config names
    none). Tokens without an id take the next free ids after the vocab.
    `specials_normalized`: force the special tokens' `normalized` flag (None keeps it)."""
    added: dict[str, AddedToken] = {}
    ids: dict[str, int] = {}
    # Newer tokenizer_config.json files list every added token with its id and flags.
    for key, entry in (config.get("added_tokens_decoder") or {}).items():
        token = AddedToken.from_any(entry, special=entry.get("special", False))
        added[token.content], ids[token.content] = token, int(key)
    if (folder / "added_tokens.json").is_file():
        for content, token_id in read_json(folder / "added_tokens.json").items():
            added.setdefault(content, AddedToken(content))
            ids.setdefault(content, int(token_id))
    specials = {k: config[k] for k in SPECIAL_TOKEN_NAMES if k in config} or default_specials
    for value in [*specials.values(), *config.get("additional_special_tokens", [])]:
        if value is None:
            continue
        token = AddedToken.from_any(value)
        token.special = True
        if specials_normalized is not None:
            token.normalized = specials_normalized
        added.setdefault(token.content, token)
    next_id = max([len(vocab) - 1, *vocab.values(), *ids.values()]) + 1
    pairs = []
    for content, token in added.items():
        token_id = ids.get(content, vocab.get(content))
        if token_id is None:
            token_id, next_id = next_id, next_id + 1
        pairs.append((token_id, token))
    return pairs
