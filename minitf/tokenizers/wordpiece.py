"""WordPiece: the tokenizer of BERT, DistilBERT, ELECTRA (and the sentence-transformers MiniLM).

How ``"Héllo, WORLD!"`` becomes ``['hello', ',', 'world', '!']`` with bert-base-uncased:

1. **Normalize** (``BertNormalizer``): drop control characters, NUL and U+FFFD, turn every
   whitespace character into a plain space, put spaces around CJK ideographs (so each one is
   a word), strip accents (NFD, then drop the non-spacing marks: ``"é"`` -> ``"e"``) and
   lower-case. Each character of the normalized text remembers which character of the
   original text it came from, so offsets point into *your* string.
2. **Pre-tokenize** (``BertPreTokenizer``): split on whitespace (dropped) and make every
   punctuation character a word of its own: ``"hello, world!"`` -> ``hello`` ``,`` ``world`` ``!``.
3. **WordPiece** (greedy longest-match-first): take the longest prefix of the word that is in
   ``vocab.txt``, then the longest continuation of the rest *written with* ``##``, and so on:
   ``"tokenization"`` -> ``token`` ``##ization``. A word with no segmentation, or longer than
   ``max_input_chars_per_word`` (100) characters, becomes ``[UNK]`` as a whole.
4. **Post-process**: ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``, with ``token_type_ids``
   0 for the first part and 1 for the second.

    >>> tok = WordPieceTokenizer.from_pretrained("weights/real/all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> tok.tokenize("Héllo, WORLD! Tokenization")                         # doctest: +SKIP
    ['hello', ',', 'world', '!', 'token', '##ization']
    >>> enc = tok("Héllo, WORLD!", return_offsets_mapping=True)             # doctest: +SKIP
    >>> enc.input_ids                                                      # doctest: +SKIP
    [101, 7592, 1010, 2088, 999, 102]
    >>> enc.offset_mapping     # "hello" is "Héllo", characters 0-5 of the text  # doctest: +SKIP
    [(0, 0), (0, 5), (5, 6), (7, 12), (12, 13), (0, 0)]
    >>> tok.decode(enc.input_ids, skip_special_tokens=True)               # doctest: +SKIP
    'hello, world!'

Ids, tokens and offsets are identical to those of the Hugging Face `tokenizers` library for
the same files, on any text (the tests check a varied corpus and random text). Doing so
means using *its* Unicode tables where they differ from Python's ``unicodedata`` (see
"Character classes" below). ``WordPieceTokenizer.train`` learns a vocabulary from your text.
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from minitf.tokenizers.base import (
    SPECIAL_TOKEN_NAMES, WHITESPACE, AddedToken, Encoding, PreTrainedTokenizer,
    TemplatePostProcessor, _in_ranges, added_tokens_with_ids,
    read_json,
    read_tokenizer_config,
    single_pre_tokenizer,
)

# ----------------------------------------------------------------------------------------------
# 1. Character classes, as the `tokenizers` library sees them
# ----------------------------------------------------------------------------------------------
# `tokenizers` classifies characters with Rust crates whose Unicode tables are of different
# ages: the punctuation, control and non-spacing-mark tests (crate `unicode_categories`) are
# Unicode 8, NFD (crate `unicode-normalization-alignments`) is about Unicode 9-12, and
# lower-casing (Rust's std) is Unicode 16. Python 3.11's `unicodedata` is Unicode 14. The
# tables below are the differences, measured against `tokenizers` 0.22 on every code point
# (tests/test_tokenizer_wordpiece.py::test_character_tables_match_reference checks them).

# P* in Python 3.11 but not punctuation for the reference (added to Unicode after 8.0).
_PUNCT_MISSING = (
    (0x0061D, 0x0061D), (0x009FD, 0x009FD), (0x00A76, 0x00A76), (0x00C77, 0x00C77),
    (0x00C84, 0x00C84), (0x01B7D, 0x01B7E), (0x02E43, 0x02E4F), (0x02E52, 0x02E5D),
    (0x10EAD, 0x10EAD), (0x10F55, 0x10F59), (0x10F86, 0x10F89), (0x1144B, 0x1144F),
    (0x1145A, 0x1145B), (0x1145D, 0x1145D), (0x11660, 0x1166C), (0x116B9, 0x116B9),
    (0x1183B, 0x1183B), (0x11944, 0x11946), (0x119E2, 0x119E2), (0x11A3F, 0x11A46),
    (0x11A9A, 0x11A9C), (0x11A9E, 0x11AA2), (0x11C41, 0x11C45), (0x11C70, 0x11C71),
    (0x11EF7, 0x11EF8), (0x11FFF, 0x11FFF), (0x12FF1, 0x12FF2), (0x16E97, 0x16E9A),
    (0x16FE2, 0x16FE2), (0x1E95E, 0x1E95F),
)
# Punctuation for the reference, but no longer P* in Unicode 14 (U+166D is So, U+111C9 is Mn).
_PUNCT_EXTRA = frozenset({"\u166d", "\U000111c9"})
# Mn in Python 3.11 but kept by the reference's accent stripping (added after Unicode 8.0).
_MN_MISSING = (
    (0x007FD, 0x007FD), (0x00898, 0x0089F), (0x008CA, 0x008E1), (0x009FE, 0x009FE),
    (0x00AFA, 0x00AFF), (0x00B55, 0x00B55), (0x00C04, 0x00C04), (0x00C3C, 0x00C3C),
    (0x00D00, 0x00D00), (0x00D3B, 0x00D3C), (0x00D81, 0x00D81), (0x00EBA, 0x00EBA),
    (0x0180F, 0x0180F), (0x01885, 0x01886), (0x01ABF, 0x01ACE), (0x01DF6, 0x01DFB),
    (0x0A82C, 0x0A82C), (0x0A8C5, 0x0A8C5), (0x0A8FF, 0x0A8FF), (0x0A9BD, 0x0A9BD),
    (0x10D24, 0x10D27), (0x10EAB, 0x10EAC), (0x10F46, 0x10F50), (0x10F82, 0x10F85),
    (0x11070, 0x11070), (0x11073, 0x11074), (0x110C2, 0x110C2), (0x111C9, 0x111C9),
    (0x111CF, 0x111CF), (0x1123E, 0x1123E), (0x1133B, 0x1133B), (0x11438, 0x1143F),
    (0x11442, 0x11444), (0x11446, 0x11446), (0x1145E, 0x1145E), (0x1182F, 0x11837),
    (0x11839, 0x1183A), (0x1193B, 0x1193C), (0x1193E, 0x1193E), (0x11943, 0x11943),
    (0x119D4, 0x119D7), (0x119DA, 0x119DB), (0x119E0, 0x119E0), (0x11A01, 0x11A0A),
    (0x11A33, 0x11A38), (0x11A3B, 0x11A3E), (0x11A47, 0x11A47), (0x11A51, 0x11A56),
    (0x11A59, 0x11A5B), (0x11A8A, 0x11A96), (0x11A98, 0x11A99), (0x11C30, 0x11C36),
    (0x11C38, 0x11C3D), (0x11C3F, 0x11C3F), (0x11C92, 0x11CA7), (0x11CAA, 0x11CB0),
    (0x11CB2, 0x11CB3), (0x11CB5, 0x11CB6), (0x11D31, 0x11D36), (0x11D3A, 0x11D3A),
    (0x11D3C, 0x11D3D), (0x11D3F, 0x11D45), (0x11D47, 0x11D47), (0x11D90, 0x11D91),
    (0x11D95, 0x11D95), (0x11D97, 0x11D97), (0x11EF3, 0x11EF4), (0x16F4F, 0x16F4F),
    (0x16FE4, 0x16FE4), (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1E000, 0x1E006),
    (0x1E008, 0x1E018), (0x1E01B, 0x1E021), (0x1E023, 0x1E024), (0x1E026, 0x1E02A),
    (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF), (0x1E944, 0x1E94A),
)
_MN_EXTRA = frozenset({"\u1734"})             # Mc since Unicode 14, Mn before: stripped
# Cf in Python 3.11, not yet a control character for the reference: kept by clean_text.
_CF_MISSING = ((0x00890, 0x00891), (0x008E2, 0x008E2), (0x110CD, 0x110CD), (0x13430, 0x13438))
# Combining marks the reference's NFD does not know: combining class 0 there (never reordered).
_CCC_UNKNOWN = (
    (0x007FD, 0x007FD), (0x00898, 0x0089F), (0x008CA, 0x008D3), (0x009FE, 0x009FE),
    (0x00C3C, 0x00C3C), (0x00D3B, 0x00D3C), (0x00EBA, 0x00EBA), (0x01715, 0x01715),
    (0x01ABF, 0x01ACE), (0x01DF6, 0x01DFA), (0x0A82C, 0x0A82C), (0x10D24, 0x10D27),
    (0x10EAB, 0x10EAC), (0x10F46, 0x10F50), (0x10F82, 0x10F85), (0x11070, 0x11070),
    (0x1133B, 0x1133B), (0x1145E, 0x1145E), (0x11839, 0x1183A), (0x1193D, 0x1193E),
    (0x11943, 0x11943), (0x119E0, 0x119E0), (0x11A34, 0x11A34), (0x11A47, 0x11A47),
    (0x11A99, 0x11A99), (0x11D42, 0x11D42), (0x11D44, 0x11D45), (0x11D97, 0x11D97),
    (0x16FF0, 0x16FF1), (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF),
)
_NFD_MISSING = frozenset({"\U00011938"})       # decomposes since Unicode 13, not for the reference
# Lower-case mappings of letters added by Unicode 15 and 16 (unassigned for Python 3.11):
# (first, last, shift) -> chr(cp + shift).
_LOWER_EXTRA = (
    (0x01C89, 0x01C89, 1), (0x0A7CB, 0x0A7CB, -42343), (0x0A7CC, 0x0A7CC, 1),
    (0x0A7CE, 0x0A7CE, 1), (0x0A7D2, 0x0A7D2, 1), (0x0A7D4, 0x0A7D4, 1), (0x0A7DA, 0x0A7DA, 1),
    (0x0A7DC, 0x0A7DC, -42561), (0x10D50, 0x10D65, 32), (0x16EA0, 0x16EB8, 27),
)
# BERT's "Chinese characters": the CJK Unified Ideographs blocks. As in `tokenizers`, the
# fifth range starts at U+2B920 (Python BERT says U+2B820), so U+2B820-U+2B91F are not in it.
_CJK = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF),
        (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0x2F800, 0x2FA1F))


def is_punctuation(ch: str) -> bool:
    """BERT's punctuation: ASCII 33-47, 58-64, 91-96, 123-126 (so ``$ + < = > ^ ` | ~`` too,
    though Unicode calls them symbols) and the Unicode P* categories."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    if ch in _PUNCT_EXTRA:
        return True
    return unicodedata.category(ch)[0] == "P" and not _in_ranges(cp, _PUNCT_MISSING)


def is_control(ch: str) -> bool:
    """Removed by clean_text: Cc, Cf and Co characters (not tab, newline, carriage return)."""
    if ch in "\t\n\r":
        return False
    category = unicodedata.category(ch)
    if category == "Cf":
        return not _in_ranges(ord(ch), _CF_MISSING)
    return category in ("Cc", "Co")


def is_nonspacing_mark(ch: str) -> bool:
    """Dropped by strip_accents (after NFD): the Mn category."""
    if ch in _MN_EXTRA:
        return True
    return unicodedata.category(ch) == "Mn" and not _in_ranges(ord(ch), _MN_MISSING)


def is_cjk(ch: str) -> bool:
    return _in_ranges(ord(ch), _CJK)


def combining_class(ch: str) -> int:
    cc = unicodedata.combining(ch)
    return 0 if cc and _in_ranges(ord(ch), _CCC_UNKNOWN) else cc


def nfd(ch: str) -> str:
    """Canonical decomposition of one character."""
    return ch if ch in _NFD_MISSING or ch.isascii() else unicodedata.normalize("NFD", ch)


def lower(ch: str) -> str:
    """Lower-case one character (so a final sigma is 'σ' as in Rust, not 'ς' as str.lower)."""
    for first, last, shift in _LOWER_EXTRA:
        if first <= ord(ch) <= last:
            return chr(ord(ch) + shift)
    return ch.lower()


# ----------------------------------------------------------------------------------------------
# 2. The normalizer, keeping track of where each character comes from
# ----------------------------------------------------------------------------------------------
@dataclass
class BertNormalizer:
    """BERT's text normalization (the ``BertNormalizer`` of tokenizer.json).

    ``normalize(text, start, end)`` returns the normalized form of ``text[start:end]`` and,
    for each of its characters, the index in `text` of the character it comes from: e.g.
    ``"Ça\\tva"`` (lower-cased, accents stripped) -> ``("ca va", [0, 1, 2, 3, 4])``.
    strip_accents=None means "strip when lower-casing", as in the original BERT.
    """
    clean_text: bool = True
    handle_chinese_chars: bool = True
    strip_accents: bool | None = None
    lowercase: bool = True

    def __post_init__(self) -> None:
        self._cache: dict[str, tuple[str, int, int] | None] = {}

    @property
    def strips_accents(self) -> bool:
        return self.lowercase if self.strip_accents is None else bool(self.strip_accents)

    def to_json(self) -> dict[str, Any]:
        return {"type": "BertNormalizer", "clean_text": self.clean_text,
                "handle_chinese_chars": self.handle_chinese_chars,
                "strip_accents": self.strip_accents, "lowercase": self.lowercase}

    def normalize_str(self, text: str) -> str:
        return self.normalize(text, 0, len(text))[0]

    def _char(self, ch: str) -> tuple[str, int, int] | None:
        """All the steps on one character: (output, combining class of the first and of the last
        character of its NFD before the marks are dropped), or None if clean_text drops it."""
        out = self._cache.get(ch)
        if out is not None or ch in self._cache:
            return out
        first_cc = last_cc = 0
        if self.clean_text and (ch == "\x00" or ch == "\ufffd" or is_control(ch)):
            out = None
        else:
            s = " " if self.clean_text and (ch in WHITESPACE or ch in "\t\n\r") else ch
            if self.handle_chinese_chars and is_cjk(s):
                s = " " + s + " "
            if self.strips_accents:
                decomposed = nfd(s)
                first_cc, last_cc = combining_class(decomposed[0]), combining_class(decomposed[-1])
                s = "".join(c for c in decomposed if not is_nonspacing_mark(c))
            if self.lowercase:
                s = "".join(map(lower, s))
            out = (s, first_cc, last_cc)
        self._cache[ch] = out
        return out

    def normalize(self, text: str, start: int = 0, end: int | None = None) -> tuple[str, list[int]]:
        """(normalized text, index in `text` of the source of each normalized character)."""
        end = len(text) if end is None else end
        piece = text[start:end]
        if piece.isascii() and not (self.clean_text and _ASCII_CONTROL.search(piece)):
            # The common case: nothing dropped, one character for one.
            if self.clean_text:
                piece = piece.translate(_ASCII_WHITESPACE)
            return (piece.lower() if self.lowercase else piece), list(range(start, end))
        parts: list[str] = []
        origin: list[int] = []
        last_cc = 0
        cache = self._cache
        for i, ch in enumerate(piece, start):
            entry = cache[ch] if ch in cache else self._char(ch)
            if entry is None:
                continue
            s, first_cc, char_last_cc = entry
            if first_cc and last_cc > first_cc:
                # Combining marks out of canonical order across characters: NFD reorders them,
                # which moves characters between sources. Rare; do it step by step, exactly.
                return self._normalize_exact(text, start, end)
            last_cc = char_last_cc
            parts.append(s)
            origin += [i] * len(s)
        return "".join(parts), origin

    def _normalize_exact(self, text: str, start: int, end: int) -> tuple[str, list[int]]:
        """The four steps one after the other on (character, source index) items, replaying how
        `tokenizers` re-aligns characters in NFD: after the combining marks are sorted, the
        k-th character that starts a decomposition takes the source of the k-th input
        character, and the other characters the source of the last such one."""
        items = [(ch, i) for i, ch in enumerate(text[start:end], start)]
        if self.clean_text:
            items = [(" " if ch in WHITESPACE or ch in "\t\n\r" else ch, i) for ch, i in items
                     if not (ch == "\x00" or ch == "\ufffd" or is_control(ch))]
        if self.handle_chinese_chars:
            items = [x for ch, i in items
                     for x in ([(" ", i), (ch, i), (" ", i)] if is_cjk(ch) else [(ch, i)])]
        if self.strips_accents:
            decomposed = [(c, k == 0) for ch, _ in items for k, c in enumerate(nfd(ch))]
            decomposed = _canonical_order(decomposed)
            sources = iter(i for _, i in items)
            aligned, source = [], start
            for c, starts_char in decomposed:
                if starts_char:
                    source = next(sources)
                aligned.append((c, source))
            items = [(c, i) for c, i in aligned if not is_nonspacing_mark(c)]
        if self.lowercase:
            items = [(c, i) for ch, i in items for c in lower(ch)]
        return "".join(c for c, _ in items), [i for _, i in items]


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")     # dropped by clean_text
_ASCII_WHITESPACE = str.maketrans("\t\n\r", "   ")


def _canonical_order(chars: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Sort each run of combining marks by combining class (stable), as NFD does; the flags
    travel with their characters."""
    out: list[tuple[str, bool]] = []
    run: list[tuple[str, bool]] = []
    for item in chars:
        if combining_class(item[0]):
            run.append(item)
            continue
        out += sorted(run, key=lambda x: combining_class(x[0]))
        run = []
        out.append(item)
    return out + sorted(run, key=lambda x: combining_class(x[0]))


# ----------------------------------------------------------------------------------------------
# 3. The pre-tokenizer
# ----------------------------------------------------------------------------------------------
class _ClassTable(dict):
    """code point -> 'S' whitespace, 'P' punctuation, 'W' anything else; filled on first use
    and read by str.translate, so a text is classified at C speed."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        self[cp] = "S" if ch in WHITESPACE else "P" if is_punctuation(ch) else "W"
        return self[cp]


_CLASS_TABLE = _ClassTable()
_WORD = re.compile(r"W+|P")


def pre_tokenize(text: str) -> list[tuple[int, int]]:
    """BertPreTokenizer: split on whitespace (dropped), each punctuation character alone.

    >>> text = "Hi!! it's 3.5"
    >>> [text[s:e] for s, e in pre_tokenize(text)]
    ['Hi', '!', '!', 'it', "'", 's', '3', '.', '5']
    """
    return [m.span() for m in _WORD.finditer(text.translate(_CLASS_TABLE))]


# ----------------------------------------------------------------------------------------------
# 4. The tokenizer
# ----------------------------------------------------------------------------------------------
# transformers' fast classes that re-build the normalizer from tokenizer_config.json
# (do_lower_case, strip_accents, tokenize_chinese_chars; defaults True, None, True).
_BERT_LIKE_CLASSES = ("BertTokenizer", "DistilBertTokenizer", "ElectraTokenizer", "ConvBertTokenizer",
                      "FunnelTokenizer", "LayoutLMTokenizer", "LxmertTokenizer", "MobileBertTokenizer",
                      "SqueezeBertTokenizer")
# ... and those whose models take no token_type_ids.
_NO_TOKEN_TYPE_IDS = ("DistilBertTokenizer", "MPNetTokenizer")
_MODEL_TYPE_CLASSES = {"bert": "BertTokenizer", "distilbert": "DistilBertTokenizer",
                       "electra": "ElectraTokenizer", "mpnet": "MPNetTokenizer",
                       "mobilebert": "MobileBertTokenizer", "squeezebert": "SqueezeBertTokenizer",
                       "funnel": "FunnelTokenizer", "convbert": "ConvBertTokenizer",
                       "layoutlm": "LayoutLMTokenizer", "lxmert": "LxmertTokenizer"}
_BERT_SPECIALS = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                  "cls_token": "[CLS]", "mask_token": "[MASK]"}


class WordPieceTokenizer(PreTrainedTokenizer):
    """BERT's WordPiece tokenizer (alias ``BertTokenizer``; DistilBERT and ELECTRA use it too).

    vocab:          token -> id, e.g. ``{"[PAD]": 0, ..., "hello": 7592, "##ization": 3989}``
    do_lower_case:  lower-case the text (uncased models)
    strip_accents:  drop accents; None (default) means "when lower-casing"
    tokenize_chinese_chars: make every CJK ideograph a word of its own
    clean_text:     drop control characters, normalise whitespace to spaces
    continuing_subword_prefix: marks a piece that continues a word (``##``)
    max_input_chars_per_word: longer words become ``[UNK]`` without trying
    """

    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
    _CACHE_SIZE = 100_000

    def __init__(self, vocab: dict[str, int], *, do_lower_case: bool = True,
                 strip_accents: bool | None = None, tokenize_chinese_chars: bool = True,
                 clean_text: bool = True, continuing_subword_prefix: str = "##",
                 max_input_chars_per_word: int = 100, wordpiece_unk_token: str | None = None,
                 decoder_cleanup: bool = True, tokenizer_class: str = "BertTokenizer",
                 added_tokens: Iterable[tuple[int, AddedToken]] | None = None,
                 post_processor: TemplatePostProcessor | None = None,
                 clean_up_tokenization_spaces: bool = True, **kwargs: Any):
        for name, value in _BERT_SPECIALS.items():
            kwargs.setdefault(name, value)
        self.vocab = dict(vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.normalizer = BertNormalizer(clean_text, tokenize_chinese_chars, strip_accents, do_lower_case)
        self.continuing_subword_prefix = continuing_subword_prefix
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.decoder_cleanup = decoder_cleanup
        self.tokenizer_class = tokenizer_class
        if tokenizer_class in _NO_TOKEN_TYPE_IDS:
            self.model_input_names = ["input_ids", "attention_mask"]
        unk = wordpiece_unk_token      # the model's unknown token; by default the unk_token
        if unk is None and kwargs["unk_token"] is not None:
            unk = AddedToken.from_any(kwargs["unk_token"]).content
        if unk is None or unk not in self.vocab:
            raise ValueError(f"the vocabulary has no unknown token {unk!r}: WordPiece needs one for "
                             f"the words it cannot split (add it to vocab.txt, or pass unk_token=... "
                             f"naming a token of the vocabulary)")
        self.wordpiece_unk_token = unk
        self._unk_id = self.vocab[unk]
        self._max_token_chars = max((len(t) for t in self.vocab), default=1)
        self._cache: dict[str, list[tuple[int, str, int, int]]] = {}
        if added_tokens is None:             # the special tokens, with their vocabulary ids
            added_tokens = []
            next_id = max(self.vocab.values(), default=-1) + 1
            for name in SPECIAL_TOKEN_NAMES:
                value = kwargs.get(name)
                if value is None:
                    continue
                token = AddedToken.from_any(value)
                token.special, token.normalized = True, False
                if token.content not in self.vocab:
                    added_tokens.append((next_id, token))
                    next_id += 1
                elif all(t.content != token.content for _, t in added_tokens):
                    added_tokens.append((self.vocab[token.content], token))
        if post_processor is None:
            cls_tok = AddedToken.from_any(kwargs["cls_token"]).content if kwargs["cls_token"] else None
            sep_tok = AddedToken.from_any(kwargs["sep_token"]).content if kwargs["sep_token"] else None
            post_processor = bert_template(cls_tok, sep_tok)
        super().__init__(added_tokens=added_tokens, post_processor=post_processor,
                         clean_up_tokenization_spaces=clean_up_tokenization_spaces, **kwargs)

    # ---- settings ---------------------------------------------------------------------------
    @property
    def do_lower_case(self) -> bool:
        return self.normalizer.lowercase

    # ---- hooks for the base class ----------------------------------------------------------
    def _model_vocab(self) -> dict[str, int]:
        return self.vocab

    def _model_id_to_token(self) -> dict[int, str]:
        return self.id_to_token

    def _decode_tokens(self, tokens: list[str]) -> str:
        """The WordPiece decoder: ``##`` pieces glue to the previous token, the others get a
        space in front; with `decoder_cleanup` each piece is cleaned like transformers'
        ``clean_up_tokenization`` (``" ."`` -> ``"."``, ``" n't"`` -> ``"n't"``, ...)."""
        prefix = self.continuing_subword_prefix
        out = []
        for i, token in enumerate(tokens):
            if i:
                token = token[len(prefix):] if prefix and token.startswith(prefix) else " " + token
            out.append(_cleanup(token) if self.decoder_cleanup else token)
        return "".join(out)

    def _build_matcher(self, normalized: bool):
        """Added tokens with ``normalized=True`` are looked for in the normalized text, so their
        own text is normalized first (``"Hello"`` matches ``"HELLO"`` when lower-casing)."""
        if not normalized:
            return super()._build_matcher(False)
        ids: dict[str, int] = {}
        for token_id, token in self._added.items():
            if token.normalized:
                content = self.normalizer.normalize_str(token.content)
                if content:
                    ids.setdefault(content, token_id)
        if not ids:
            return None
        return ids, re.compile("|".join(re.escape(c) for c in sorted(ids, key=len, reverse=True)))

    # ---- one word --------------------------------------------------------------------------
    def wordpiece(self, word: str) -> list[tuple[int, str, int, int]]:
        """Greedy longest-match-first segmentation of one normalized word: a list of
        (id, token, start, end) with character positions in the word; cached.

        >>> tok = WordPieceTokenizer({"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4})
        >>> [t for _, t, _, _ in tok.wordpiece("unaffable")]
        ['un', '##aff', '##able']
        >>> tok.wordpiece("unaffablex")     # "x" is not in the vocabulary: the whole word is unknown
        [(0, '[UNK]', 0, 10)]
        """
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        out: list[tuple[int, str, int, int]] = []
        n = len(word)
        if n > self.max_input_chars_per_word:
            out = [(self._unk_id, self.wordpiece_unk_token, 0, n)]
        else:
            vocab, prefix = self.vocab, self.continuing_subword_prefix
            start = 0
            while start < n:
                # The longest piece in the vocabulary (no token is longer than the longest one).
                end = min(n, start + self._max_token_chars)
                while end > start:
                    piece = word[start:end] if start == 0 else prefix + word[start:end]
                    if piece in vocab:
                        out.append((vocab[piece], piece, start, end))
                        break
                    end -= 1
                if end == start:                 # no piece fits: the whole word is unknown
                    out = [(self._unk_id, self.wordpiece_unk_token, 0, n)]
                    break
                start = end
        if len(self._cache) >= self._CACHE_SIZE:
            self._cache.clear()
        self._cache[word] = out
        return out

    # ---- text -> tokens with offsets ---------------------------------------------------------
    def _tokenize_normalized(self, norm: str, start: int, end: int, origin: list[int]):
        """Pre-tokenize ``norm[start:end]`` and run WordPiece on each word; offsets go back to
        the original text through `origin`."""
        ids: list[int] = []
        tokens: list[str] = []
        offsets: list[tuple[int, int]] = []
        word_index: list[int] = []
        for w, (ws, we) in enumerate(pre_tokenize(norm[start:end])):
            base = start + ws
            for token_id, token, s, e in self.wordpiece(norm[base:start + we]):
                ids.append(token_id)
                tokens.append(token)
                offsets.append((origin[base + s], origin[base + e - 1] + 1))
                word_index.append(w)
        return ids, tokens, offsets, word_index

    def _tokenize_piece(self, text: str, start: int, end: int):
        norm, origin = self.normalizer.normalize(text, start, end)
        return self._tokenize_normalized(norm, 0, len(norm), origin)

    def _encode_sequence(self, text: str, type_id: int = 0) -> Encoding:
        """Like the base class, with the normalizer in the middle: added tokens with
        ``normalized=False`` (BERT's special tokens) are cut out of the raw text, the rest is
        normalized, then tokens with ``normalized=True`` are cut out of the normalized text."""
        if self._matchers is None:
            self._matchers = [self._build_matcher(False), self._build_matcher(True)]
        raw_matcher, norm_matcher = self._matchers
        enc = Encoding()
        word = 0

        def add(ids, tokens, offsets, word_index):
            nonlocal word
            enc.ids.extend(ids)
            enc.tokens.extend(tokens)
            enc.offsets.extend(offsets)
            enc.word_ids.extend(word + w for w in word_index)
            word += (word_index[-1] + 1) if word_index else 0

        pieces = self._find_added(text, 0, len(text), raw_matcher) if raw_matcher \
            else [(0, len(text), None)]
        for start, end, token_id in pieces:
            if token_id is not None:
                add([token_id], [text[start:end]], [(start, end)], [0])
                continue
            norm, origin = self.normalizer.normalize(text, start, end)
            sub = self._find_added(norm, 0, len(norm), norm_matcher) if norm_matcher and norm \
                else [(0, len(norm), None)]
            for s, e, sub_id in sub:
                if sub_id is not None:
                    add([sub_id], [norm[s:e]], [(origin[s], origin[e - 1] + 1)], [0])
                else:
                    add(*self._tokenize_normalized(norm, s, e, origin))
        n = len(enc.ids)
        enc.type_ids = [type_id] * n
        enc.special_tokens_mask = [0] * n
        enc.attention_mask = [1] * n
        return enc

    # ---- training ----------------------------------------------------------------------------
    @classmethod
    def train(cls, text_or_iterable: str | Iterable[str], vocab_size: int,
              special_tokens: Iterable[str] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
              do_lower_case: bool = True, strip_accents: bool | None = None,
              continuing_subword_prefix: str = "##", **kwargs: Any) -> "WordPieceTokenizer":
        """Learn a WordPiece vocabulary from text (the recipe of the Hugging Face course, ch. 6).

        Normalize and pre-tokenize the text as BERT does and count the words. Spell every word
        with its characters, all but the first marked as continuations: ``hugs`` ->
        ``h ##u ##g ##s``; the vocabulary starts as `special_tokens` + these symbols. Then,
        repeatedly, merge the adjacent pair (a, b) with the best score

            score(a, b) = count(a b) / (count(a) * count(b))

        (counts weighted by word frequency) into one symbol (``h`` + ``##u`` -> ``hu``,
        ``##g`` + ``##s`` -> ``##gs``), until there are `vocab_size` tokens or no pair left.
        Unlike BPE's raw frequency, the score favours pairs whose parts are rarely seen
        apart. Ties go to the lexicographically smallest pair, so training is deterministic.

        Worked example, the course's corpus: ``hug`` x10, ``pug`` x5, ``pun`` x12, ``bun`` x4,
        ``hugs`` x5, i.e. ``h ##u ##g`` x10, ``p ##u ##g`` x5, ... The alphabet (sorted, so the
        ``##`` symbols come first) has 7 symbols.

        1. ``##u`` is in every word (count 36), so all its pairs score low; ``##g`` (count 20)
           and ``##s`` (5) meet 5 times: 5 / (20 * 5) = 1/20 is the best score -> ``##gs``.
        2. Now every pair scores 1/36 (e.g. ``h ##u``: 15 / (15 * 36)); the tie goes to the
           smallest pair, ``("##u", "##g")`` -> ``##ug``. (The course's loop keeps the first
           pair it meets instead, and merges ``hu``.)
        3. ``##u ##gs``, ``##u ##n`` and ``b ##u`` tie at 1/21 -> ``##ugs``.

        >>> words = ["hug"] * 10 + ["pug"] * 5 + ["pun"] * 12 + ["bun"] * 4 + ["hugs"] * 5
        >>> tok = WordPieceTokenizer.train(" ".join(words), vocab_size=5 + 7 + 3)
        >>> list(tok.vocab)[5:]        # after the 5 special tokens: the alphabet, then merges
        ['##g', '##n', '##s', '##u', 'b', 'h', 'p', '##gs', '##ug', '##ugs']
        >>> tok.tokenize("hugs bugs mug")      # no "m" in the alphabet: "mug" is unknown
        ['h', '##ugs', 'b', '##ugs', '[UNK]']
        """
        special_tokens = list(special_tokens)
        if isinstance(text_or_iterable, str):
            text_or_iterable = [text_or_iterable]
        defaults = {k: v for k, v in _BERT_SPECIALS.items() if v in special_tokens}
        if "unk_token" not in kwargs and "[UNK]" not in special_tokens:
            raise ValueError("special_tokens must include '[UNK]' (or pass unk_token=... naming one "
                             "of them): WordPiece needs an unknown token")
        defaults.update(kwargs)
        prefix = continuing_subword_prefix
        normalizer = BertNormalizer(True, True, strip_accents, do_lower_case)
        splitter = cls({t: i for i, t in enumerate(special_tokens)}, do_lower_case=do_lower_case,
                       strip_accents=strip_accents, **defaults)

        word_counts: Counter[str] = Counter()
        for k, text in enumerate(text_or_iterable):
            if not isinstance(text, str):
                raise TypeError(f"train takes str texts, got {type(text).__name__} at item {k}")
            matcher = splitter._build_matcher(False)
            pieces = splitter._find_added(text, 0, len(text), matcher) if matcher else [(0, len(text), None)]
            for start, end, token_id in pieces:
                if token_id is None:
                    norm = normalizer.normalize(text, start, end)[0]
                    word_counts.update(norm[s:e] for s, e in pre_tokenize(norm))

        words = [[w[0]] + [prefix + c for c in w[1:]] for w in word_counts]
        freqs = list(word_counts.values())
        alphabet = sorted({s for w in words for s in w})
        vocab = {t: i for i, t in enumerate(special_tokens)}
        for symbol in alphabet:
            vocab.setdefault(symbol, len(vocab))
        if len(vocab) > vocab_size:
            raise ValueError(f"vocab_size={vocab_size} is too small: the {len(special_tokens)} special "
                             f"tokens and the {len(alphabet)} characters of the text already make "
                             f"{len(vocab)} tokens")

        symbol_counts: Counter[str] = Counter()
        pair_counts: Counter[tuple[str, str]] = Counter()
        where: defaultdict[tuple[str, str], set[int]] = defaultdict(set)   # pair -> word indices

        def count(k: int, sign: int) -> None:
            for s in words[k]:
                symbol_counts[s] += sign * freqs[k]
            for pair in zip(words[k], words[k][1:]):
                pair_counts[pair] += sign * freqs[k]
                if sign > 0:
                    where[pair].add(k)
                elif pair_counts[pair] <= 0:
                    del pair_counts[pair]

        def score(pair: tuple[str, str]) -> float:
            return pair_counts[pair] / (symbol_counts[pair[0]] * symbol_counts[pair[1]])

        for k in range(len(words)):
            count(k, +1)
        while len(vocab) < vocab_size and pair_counts:
            best = min(pair_counts, key=lambda pair: (-score(pair), pair))    # ties: smallest pair
            a, b = best
            merged = a + (b[len(prefix):] if b.startswith(prefix) else b)
            for k in where.pop(best):
                if best not in zip(words[k], words[k][1:]):
                    continue                          # stale: merged away earlier
                count(k, -1)
                new, i, symbols = [], 0, words[k]
                while i < len(symbols):
                    if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                        new.append(merged)
                        i += 2
                    else:
                        new.append(symbols[i])
                        i += 1
                words[k] = new
                count(k, +1)
            vocab.setdefault(merged, len(vocab))
        return cls(vocab, do_lower_case=do_lower_case, strip_accents=strip_accents,
                   continuing_subword_prefix=prefix, **defaults)

    # ---- loading -----------------------------------------------------------------------------
    @classmethod
    def _from_folder(cls, folder: Path, **kwargs: Any) -> "WordPieceTokenizer":
        folder = Path(folder)
        config = read_tokenizer_config(folder)
        tokenizer_class = str(config.get("tokenizer_class") or "").removesuffix("Fast")
        if not tokenizer_class and (folder / "config.json").is_file():
            model_type = str(read_json(folder / "config.json").get("model_type", ""))
            tokenizer_class = _MODEL_TYPE_CLASSES.get(model_type, "")

        if (folder / "tokenizer.json").is_file():
            args = _read_tokenizer_json(folder / "tokenizer.json")
            # transformers' BERT-like fast classes re-build the normalizer from their arguments.
            if tokenizer_class in _BERT_LIKE_CLASSES:
                args.update({"do_lower_case": config.get("do_lower_case", True),
                             "strip_accents": config.get("strip_accents"),
                             "tokenize_chinese_chars": config.get("tokenize_chinese_chars", True)})
            clean_up_default = False            # as transformers' fast tokenizers
        elif (folder / "vocab.txt").is_file():
            args = {"vocab": read_vocab_txt(folder / "vocab.txt"),
                    "do_lower_case": config.get("do_lower_case", True),
                    "strip_accents": config.get("strip_accents"),
                    "tokenize_chinese_chars": config.get("tokenize_chinese_chars", True)}
            added = added_tokens_with_ids(folder, config, args["vocab"], _BERT_SPECIALS,
                                           specials_normalized=False)
            if added:
                args["added_tokens"] = added
            clean_up_default = True             # BertTokenizer's default (converted from it)
        else:
            present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            raise OSError(f"no WordPiece tokenizer files in {folder}: looked for vocab.txt or "
                          f"tokenizer.json (found: {present or 'nothing'})")

        settings: dict[str, Any] = {name: config[name] for name in (*SPECIAL_TOKEN_NAMES, "additional_special_tokens")
                                    if name in config}
        if not any(name in config for name in SPECIAL_TOKEN_NAMES):
            known = set(args["vocab"]) | {t.content for _, t in args.get("added_tokens", [])}
            settings.update({k: (v if v in known else None) for k, v in _BERT_SPECIALS.items()})
        for key in ("model_max_length", "padding_side", "truncation_side"):
            if key in config:
                settings[key] = config[key]
        if settings.get("model_max_length") is not None and settings["model_max_length"] >= int(1e29):
            settings["model_max_length"] = None
        settings["clean_up_tokenization_spaces"] = config.get("clean_up_tokenization_spaces", clean_up_default)
        settings["tokenizer_class"] = tokenizer_class or "BertTokenizer"
        for name in ("do_lower_case", "strip_accents", "tokenize_chinese_chars"):
            if name in kwargs:
                args[name] = kwargs.pop(name)
        settings.update(kwargs)
        if "unk_token" in args and "unk_token" not in config and "unk_token" not in kwargs:
            settings["unk_token"] = args["unk_token"]
        args.pop("unk_token", None)
        return cls(args.pop("vocab"), **args, **settings)

    # ---- saving ------------------------------------------------------------------------------
    def save_pretrained(self, folder: str | os.PathLike) -> list[str]:
        """Write vocab.txt, tokenizer_config.json, special_tokens_map.json and tokenizer.json
        (loadable by `tokenizers` and by transformers)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []

        def write(name: str, text: str) -> None:
            (folder / name).write_text(text, encoding="utf-8")
            written.append(str(folder / name))

        ids = sorted(self.id_to_token)
        if ids != list(range(len(ids))):
            missing = next(i for i in range(len(ids) + 1) if i not in self.id_to_token)
            raise ValueError(f"cannot write vocab.txt: the vocabulary ids are not 0..{len(ids) - 1} "
                             f"(id {missing} is missing); vocab.txt gives token k the id k")
        write("vocab.txt", "".join(self.id_to_token[i] + "\n" for i in ids))
        config = self._config_dict()
        config.update({"do_lower_case": self.normalizer.lowercase,
                       "strip_accents": self.normalizer.strip_accents,
                       "tokenize_chinese_chars": self.normalizer.handle_chinese_chars})
        write("tokenizer_config.json", json.dumps(config, ensure_ascii=False, indent=2))
        write("special_tokens_map.json", json.dumps(self.special_tokens_map, ensure_ascii=False, indent=2))
        tokenizer_json = {
            "version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [t.to_dict(i) for i, t in sorted(self._added.items())],
            "normalizer": self.normalizer.to_json(),
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": _template_to_json(self.post_processor, self),
            "decoder": {"type": "WordPiece", "prefix": self.continuing_subword_prefix,
                        "cleanup": self.decoder_cleanup},
            "model": {"type": "WordPiece", "unk_token": self.wordpiece_unk_token,
                      "continuing_subword_prefix": self.continuing_subword_prefix,
                      "max_input_chars_per_word": self.max_input_chars_per_word,
                      "vocab": self.vocab},
        }
        write("tokenizer.json", json.dumps(tokenizer_json, ensure_ascii=False, indent=2))
        return written


BertTokenizer = WordPieceTokenizer


def bert_template(cls_token: str | None, sep_token: str | None) -> TemplatePostProcessor:
    """``[CLS] A [SEP]`` and ``[CLS] A [SEP] B [SEP]`` (type ids 0 ... 0 1 ... 1)."""
    if cls_token is None or sep_token is None:
        return TemplatePostProcessor(kind="TemplateProcessing")
    return TemplatePostProcessor(
        single=[(cls_token, 0), ("A", 0), (sep_token, 0)],
        pair=[(cls_token, 0), ("A", 0), (sep_token, 0), ("B", 1), (sep_token, 1)],
        kind="TemplateProcessing")


def _cleanup(text: str) -> str:
    """The WordPiece decoder's clean-up of one piece (`tokenizers`' list, " do not" included)."""
    for old, new in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
                     (" n't", "n't"), (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"),
                     (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(old, new)
    return text


# ----------------------------------------------------------------------------------------------
# 5. Reading the files
# ----------------------------------------------------------------------------------------------
def read_vocab_txt(path: Path) -> dict[str, int]:
    """vocab.txt: one token per line, the id is the line number from 0. A token listed twice
    is an error that names it and both lines (transformers would silently skip an id)."""
    vocab: dict[str, int] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for number, line in enumerate(f):
            token = line.rstrip("\n")
            if token in vocab:
                raise ValueError(f"{path}, line {number + 1}: token {token!r} is already on line "
                                 f"{vocab[token] + 1}; every token of vocab.txt must be unique "
                                 f"(its id is its line number, from 0)")
            vocab[token] = number
    if not vocab:
        raise ValueError(f"{path} is empty: vocab.txt lists one token per line")
    return vocab


def _read_tokenizer_json(path: Path) -> dict[str, Any]:
    """The parts of a `tokenizers` tokenizer.json that WordPiece uses, checked."""
    from minitf.tokenizers.bpe import _check_vocab, _post_processor_from_json

    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise ValueError(f"{path}: not a tokenizer.json (no 'model' object)")
    model = data["model"]
    if model.get("type") != "WordPiece":
        raise ValueError(f"{path}: model type {model.get('type')!r} is not WordPiece")
    normalizer = data.get("normalizer")
    if normalizer is None:
        norm = {"clean_text": False, "tokenize_chinese_chars": False, "strip_accents": False,
                "do_lower_case": False}
    elif normalizer.get("type") == "BertNormalizer":
        norm = {"clean_text": bool(normalizer.get("clean_text", True)),
                "tokenize_chinese_chars": bool(normalizer.get("handle_chinese_chars", True)),
                "strip_accents": normalizer.get("strip_accents"),
                "do_lower_case": bool(normalizer.get("lowercase", True))}
    else:
        raise ValueError(f"{path}: normalizer {normalizer.get('type')!r} is not supported by minitf's "
                         f"WordPiece (it knows BertNormalizer)")
    pre = single_pre_tokenizer(data)
    if not isinstance(pre, dict) or pre.get("type") != "BertPreTokenizer":
        raise ValueError(f"{path}: pre_tokenizer {pre and pre.get('type')!r} is not supported; "
                         f"minitf's WordPiece needs a BertPreTokenizer")
    decoder = data.get("decoder") or {}
    if decoder and decoder.get("type") != "WordPiece":
        raise ValueError(f"{path}: decoder {decoder.get('type')!r} is not supported; minitf's "
                         f"WordPiece needs a WordPiece decoder")
    vocab = _check_vocab(model.get("vocab"), path)
    added = []
    for k, entry in enumerate(data.get("added_tokens") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), int):
            raise ValueError(f"{path}: added_tokens[{k}] needs an integer 'id' and a 'content', got {entry!r}")
        added.append((entry["id"], AddedToken.from_any(entry, special=entry.get("special", False))))
    post = data.get("post_processor")
    processor = _post_processor_from_json(post, path) if post is not None \
        else TemplatePostProcessor(kind="None")
    if post is not None and post.get("type") == "TemplateProcessing":
        processor.kind = "TemplateProcessing"
    return {"vocab": vocab, **norm, "added_tokens": added, "post_processor": processor,
            "unk_token": model.get("unk_token", "[UNK]"),
            "wordpiece_unk_token": model.get("unk_token", "[UNK]"),
            "continuing_subword_prefix": model.get("continuing_subword_prefix", "##"),
            "max_input_chars_per_word": model.get("max_input_chars_per_word", 100),
            "decoder_cleanup": bool(decoder.get("cleanup", True)) if decoder else False}


def _template_to_json(proc: TemplatePostProcessor, tok: PreTrainedTokenizer) -> dict | None:
    """A post-processor as tokenizer.json writes it."""
    from minitf.tokenizers.bpe import _post_processor_to_json

    if proc.kind in ("None", "RobertaProcessing"):
        return _post_processor_to_json(proc, tok)

    def token_id(name: str) -> int:
        return proc.ids.get(name, tok.convert_tokens_to_ids(name))

    def items(template: list[tuple[str, int]]) -> list[dict]:
        return [{"Sequence": {"id": n, "type_id": t}} if n in ("A", "B")
                else {"SpecialToken": {"id": n, "type_id": t}} for n, t in template]

    names = sorted({n for n, _ in proc.single + proc.pair if n not in ("A", "B")})
    return {"type": "TemplateProcessing", "single": items(proc.single), "pair": items(proc.pair),
            "special_tokens": {n: {"id": n, "ids": [token_id(n)], "tokens": [n]} for n in names}}
