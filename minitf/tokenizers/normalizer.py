"""SentencePiece's normalizer: the precompiled character map, then the whitespace rules.

Before a SentencePiece model cuts text into pieces, it rewrites the text:

1. **The character map** (``precompiled_charsmap`` in the model file). SentencePiece ships
   its rules (``nmt_nfkc``: Unicode NFKC plus a few NMT-specific ones) *compiled*: a blob
   ``<trie size: uint32 little-endian><double-array trie><normalized strings>``. The trie's
   keys are UTF-8 byte strings of the input (one character, or a sequence such as ``e`` +
   combining acute); a key's value is an offset into the strings, where its replacement
   starts (ending at a NUL byte). At each position the **longest** key that matches wins:
   ``"ｆｕｌｌ"`` -> ``"full"``, ``"ﬁ"`` -> ``"fi"``, ``"\u00a0"`` -> ``" "``, control
   characters -> ``""``. Characters without a rule stay as they are.
2. **Whitespace** (``normalizer_spec`` flags): ``remove_extra_whitespaces`` drops leading and
   trailing spaces and collapses runs into one; ``add_dummy_prefix`` puts one space in front,
   so the first word looks like every other word; ``escape_whitespaces`` writes every space
   as ``"▁"`` (U+2581), so spaces are visible characters that pieces can contain.

    >>> from minitf.tokenizers.spm_model import read_spm_model
    >>> spec = read_spm_model("weights/tiny-marian-tokenizer/source.spm").normalizer_spec
    >>> norm = Normalizer(spec.precompiled_charsmap)
    >>> norm.normalize("  ＨＥＬＬＯ   ﬁne\\u00a0day ")
    ('▁HELLO▁fine▁day', [2, 2, 3, 4, 5, 6, 7, 10, 10, 11, 12, 13, 14, 15, 16])

The second list is where each normalized character comes from in the input (both ``f`` and
``i`` of the ligature point at it), so token offsets index the user's text.
The double-array layout is that of the Darts library that SentencePiece uses; `CharsMap`
below reads it directly (no trie is rebuilt).
"""
from __future__ import annotations

import struct
from typing import Iterable

SPACE_SYMBOL = "\u2581"     # "▁", how SentencePiece writes a space
REPLACEMENT_CHARACTER = "\ufffd"


class CharsMap:
    """A precompiled character map: longest-match rewriting rules over UTF-8 bytes.

    Each 32-bit unit of the double array packs a node: bits 0-7 (and 31) the label of the
    edge into it, bit 8 "has a leaf" (a key ends here), bits 10-31 the offset to its children
    (shifted by 8 more bits when bit 9 is set). A child's index is ``parent ^ offset ^ byte``;
    the leaf of a node sits at ``node ^ offset`` and holds the value (bits 0-30).

    >>> from minitf.tokenizers.spm_model import read_spm_model
    >>> spec = read_spm_model("weights/tiny-marian-tokenizer/source.spm").normalizer_spec
    >>> table = CharsMap(spec.precompiled_charsmap)
    >>> table.longest_match("ﬁx".encode()), table.longest_match(b"abc")
    (('fi', 3), None)
    """

    def __init__(self, blob: bytes, source: str = "precompiled_charsmap"):
        if len(blob) < 4:
            raise ValueError(f"{source}: a precompiled character map needs at least 4 bytes "
                             f"(the trie size), got {len(blob)}")
        (trie_size,) = struct.unpack_from("<I", blob, 0)
        if trie_size % 4 or 4 + trie_size > len(blob):
            raise ValueError(f"{source}: trie size {trie_size} does not fit the {len(blob)}-byte "
                             f"precompiled character map (truncated file?)")
        self.units = struct.unpack_from(f"<{trie_size // 4}I", blob, 4)
        self.strings = blob[4 + trie_size:]
        self._replacements: dict[int, str] = {}     # value -> decoded replacement, on first use

    def _replacement(self, value: int) -> str:
        text = self._replacements.get(value)
        if text is None:
            end = self.strings.find(b"\0", value)
            text = self.strings[value:end if end >= 0 else len(self.strings)].decode("utf-8", "replace")
            self._replacements[value] = text
        return text

    def matches(self, data: bytes, start: int = 0) -> Iterable[tuple[int, int]]:
        """(length in bytes, value) of every key that is a prefix of ``data[start:]``."""
        units = self.units
        if not units:
            return
        node = _offset(units[0])
        for i in range(start, len(data)):
            byte = data[i]
            node ^= byte
            if node >= len(units):
                return
            unit = units[node]
            if (unit & 0x800000FF) != byte:          # the label: this edge is not in the trie
                return
            node ^= _offset(unit)
            if unit & 0x100 and node < len(units):   # a key ends here; its leaf holds the value
                yield i + 1 - start, units[node] & 0x7FFFFFFF

    def longest_match(self, data: bytes, start: int = 0) -> tuple[str, int] | None:
        """(replacement, bytes consumed) of the longest rule at `start`, or None."""
        best = None
        for length, value in self.matches(data, start):
            best = (length, value)                   # keys come shortest first
        return None if best is None else (self._replacement(best[1]), best[0])


def _offset(unit: int) -> int:
    return (unit >> 10) << ((unit & 0x200) >> 6)


class Normalizer:
    """SentencePiece's ``Normalizer::Normalize``: the character map, then the whitespace rules.

    `user_defined_symbols` (pieces of type USER_DEFINED) are copied through unchanged, as
    SentencePiece does, so the map cannot break them apart.
    """

    def __init__(self, precompiled_charsmap: bytes = b"", *, add_dummy_prefix: bool = True,
                 remove_extra_whitespaces: bool = True, escape_whitespaces: bool = True,
                 treat_whitespace_as_suffix: bool = False,
                 user_defined_symbols: Iterable[str] = (), source: str = "precompiled_charsmap"):
        self.charsmap = CharsMap(precompiled_charsmap, source) if precompiled_charsmap else None
        self.add_dummy_prefix = add_dummy_prefix
        self.remove_extra_whitespaces = remove_extra_whitespaces
        self.escape_whitespaces = escape_whitespaces
        self.treat_whitespace_as_suffix = treat_whitespace_as_suffix
        # Longest first, so that "<sep2>" wins over "<sep>".
        self.user_defined = sorted({s.encode("utf-8") for s in user_defined_symbols if s},
                                   key=len, reverse=True)

    def normalize_prefix(self, data: bytes, pos: int) -> tuple[str, int]:
        """(replacement, bytes consumed) at byte `pos`: a user-defined symbol as it is, else
        the longest rule of the map, else one character unchanged."""
        for symbol in self.user_defined:
            if data.startswith(symbol, pos):
                return symbol.decode("utf-8"), len(symbol)
        if self.charsmap is not None:
            match = self.charsmap.longest_match(data, pos)
            if match is not None:
                return match
        length = _utf8_length(data[pos])
        try:
            return data[pos:pos + length].decode("utf-8"), length
        except UnicodeDecodeError:              # a lone surrogate (from 'surrogatepass')
            return REPLACEMENT_CHARACTER, length

    def normalize(self, text: str) -> tuple[str, list[int]]:
        """(normalized text, index in `text` of the character each normalized one comes from)."""
        data = text.encode("utf-8", "surrogatepass")
        if len(data) == len(text):               # ASCII: byte offsets are character offsets
            char_of = range(len(text) + 1)
        else:
            char_of = [0] * (len(data) + 1)
            pos = 0
            for k, ch in enumerate(text):
                n = len(ch.encode("utf-8", "surrogatepass"))
                char_of[pos:pos + n] = [k] * n
                pos += n
            char_of[len(data)] = len(text)
        space = SPACE_SYMBOL if self.escape_whitespaces else " "
        out: list[str] = []
        origin: list[int] = []
        pos = 0
        if self.remove_extra_whitespaces:        # leading whitespace goes
            while pos < len(data):
                replacement, length = self.normalize_prefix(data, pos)
                if replacement != " ":
                    break
                pos += length
        if pos == len(data):
            return "", []
        if self.add_dummy_prefix and not self.treat_whitespace_as_suffix:
            out.append(space)
            origin.append(char_of[pos])
        previous_is_space = self.remove_extra_whitespaces
        while pos < len(data):
            replacement, length = self.normalize_prefix(data, pos)
            if previous_is_space:                # collapse a run of spaces into one
                replacement = replacement.lstrip(" ")
            if replacement:
                out.extend(replacement.replace(" ", space))
                origin.extend([char_of[pos]] * len(replacement))
                previous_is_space = replacement.endswith(" ")
            pos += length
            if not self.remove_extra_whitespaces:
                previous_is_space = False
        if self.remove_extra_whitespaces:        # trailing whitespace goes
            while out and out[-1] == space:
                out.pop()
                origin.pop()
        if self.add_dummy_prefix and self.treat_whitespace_as_suffix:
            out.append(space)
            origin.append(min(char_of[pos], len(text) - 1))
        return "".join(out), origin


def _utf8_length(first_byte: int) -> int:
    """Bytes in the UTF-8 sequence that starts with `first_byte`."""
    if first_byte < 0x80:
        return 1
    if first_byte >= 0xF0:
        return 4
    if first_byte >= 0xE0:
        return 3
    return 2
