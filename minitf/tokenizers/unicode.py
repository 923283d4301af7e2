"""Characters as the Hugging Face `tokenizers` library classifies them.

The reference tokenizers run in Rust, with Unicode tables of other ages than Python's
``unicodedata`` (Unicode 14 in Python 3.11). Ids match the reference on *any* text only if
minitf asks the same questions with the same answers, so this module holds those answers:

- the regex view (Oniguruma for the GPT-2 pattern, Rust's regex crate for added tokens):
  `WHITESPACE`, `char_class` (letter / number / whitespace / other), `is_word_char` (``\\w``);
- BERT's view (the ``BertNormalizer`` and ``BertPreTokenizer`` of `tokenizers`):
  `is_punctuation`, `is_control`, `is_nonspacing_mark`, `is_cjk`, `combining_class`, `nfd`,
  `lower`;
- `CharClassTable`, which turns any of these into a `str.translate` table, so that a whole
  text is classified at C speed (one letter per character).

Each table below lists only where the reference differs from ``unicodedata``; the tests
compare them with the reference on every code point.

    >>> [char_class(c) for c in "a1 !"], is_punctuation("$"), lower("Σ")
    (['L', 'N', 'S', 'P'], True, 'σ')
    >>> "Hi, 42!".translate(CharClassTable(char_class))
    'LLPSNNP'
"""
from __future__ import annotations

import unicodedata
from bisect import bisect_right
from typing import Callable

# ----------------------------------------------------------------------------------------------
# 1. The regex engines' view: whitespace, letters, numbers
# ----------------------------------------------------------------------------------------------
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


def in_ranges(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    """Whether code point `cp` lies in one of the sorted, disjoint (first, last) `ranges`."""
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
        if in_ranges(ord(ch), _NEW_LETTERS):
            return "L"
        if in_ranges(ord(ch), _NEW_NUMBERS):
            return "N"
    return "P"


def is_word_char(ch: str) -> bool:
    """Rust regex's Unicode `\\w` (letters, marks, decimal digits, connector punctuation, ZWJ/ZWNJ),
    used by `tokenizers` for the `single_word` rule of added tokens."""
    cat = unicodedata.category(ch)
    if cat == "Cn":
        return char_class(ch) != "P"
    return cat[0] in "LM" or cat in ("Nd", "Nl", "Pc") or ch in "\u200c\u200d"


class CharClassTable(dict):
    """code point -> class letter of `classify` (e.g. `char_class`), filled on first use.

    `str.translate` reads it, so ``text.translate(table)`` classifies a whole text at C speed
    once its characters have been seen; a scanner then matches runs of class letters with
    ordinary regular expressions (see ``bpe.pre_tokenize``).
    """

    def __init__(self, classify: Callable[[str], str]):
        super().__init__()
        self.classify = classify

    def __missing__(self, cp: int) -> str:
        self[cp] = self.classify(chr(cp))
        return self[cp]


# ----------------------------------------------------------------------------------------------
# 2. BERT's view: punctuation, control characters, accents, CJK, lower case
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
    return unicodedata.category(ch)[0] == "P" and not in_ranges(cp, _PUNCT_MISSING)


def is_control(ch: str) -> bool:
    """Removed by clean_text: Cc, Cf and Co characters (not tab, newline, carriage return)."""
    if ch in "\t\n\r":
        return False
    category = unicodedata.category(ch)
    if category == "Cf":
        return not in_ranges(ord(ch), _CF_MISSING)
    return category in ("Cc", "Co")


def is_nonspacing_mark(ch: str) -> bool:
    """Dropped by strip_accents (after NFD): the Mn category."""
    if ch in _MN_EXTRA:
        return True
    return unicodedata.category(ch) == "Mn" and not in_ranges(ord(ch), _MN_MISSING)


def is_cjk(ch: str) -> bool:
    return in_ranges(ord(ch), _CJK)


def combining_class(ch: str) -> int:
    cc = unicodedata.combining(ch)
    return 0 if cc and in_ranges(ord(ch), _CCC_UNKNOWN) else cc


def nfd(ch: str) -> str:
    """Canonical decomposition of one character."""
    return ch if ch in _NFD_MISSING or ch.isascii() else unicodedata.normalize("NFD", ch)


def lower(ch: str) -> str:
    """Lower-case one character (so a final sigma is 'σ' as in Rust, not 'ς' as str.lower)."""
    for first, last, shift in _LOWER_EXTRA:
        if first <= ord(ch) <= last:
            return chr(ord(ch) + shift)
    return ch.lower()

