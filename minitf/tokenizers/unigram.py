"""The Unigram language-model tokenizer (SentencePiece's default; T5, ALBERT, XLNet, Marian).

A Unigram vocabulary is a list of pieces, each with a score: the log-probability of the piece
(``"▁the"`` -3.2, ``"s"`` -4.1, ``"▁tokeniz"`` -9.8 ...). A segmentation of a text into
pieces has the sum of their scores as its score, and the tokenizer picks the **best-scoring
segmentation** -- where BPE applies merge rules one after the other, Unigram looks at every
way of cutting the text at once.

There are exponentially many segmentations, but the best one is found in one left-to-right
pass (the **Viterbi** algorithm over the *lattice* of all pieces that occur in the text):

- ``best[i]`` is the score of the best segmentation of the first ``i`` characters, with
  ``best[0] = 0``;
- every piece ``p`` that occurs at ``i..j`` is an edge of the lattice: it offers
  ``best[i] + score(p)`` for ``best[j]``; the best offer wins and remembers where it started;
- at the end, follow the remembered starts back from ``best[n]``: those are the pieces.

A character that no piece covers gets an *unknown* edge (score: the lowest piece score minus
10, so unknowns are a last resort), and consecutive unknown characters are merged into one
unknown token. With ``byte_fallback`` an unknown character becomes its UTF-8 bytes instead,
as the pieces ``<0xE2>``, ``<0x82>`` ... that such vocabularies hold.

Worked example: the text ``"▁hug"`` with the pieces below. The edges ending at 4 are ``"g"``
from 3, ``"ug"`` from 2 and ``"▁hug"`` from 0:

- ``best[1] = -2 ("▁")``, ``best[2] = -3 ("▁h")``, ``best[3] = best[2] - 4 = -7 ("u")``;
- ``best[4] = max(best[3] - 3 "g", best[2] - 2 "ug", best[0] - 5.5 "▁hug") = max(-10, -5, -5.5)``
  ``= -5``, from 2: the pieces are ``"▁h" "ug"``.

    >>> model = Unigram([("<unk>", 0.0), ("▁", -2.0), ("▁h", -3.0), ("u", -4.0), ("g", -3.0),
    ...                  ("ug", -2.0), ("▁hug", -5.5), ("s", -2.5)], unk_id=0)
    >>> model.encode("▁hug")
    [('▁h', 2, 0, 2), ('ug', 5, 2, 4)]
    >>> model.encode("▁hugs!!")             # "!" is in no piece: one unknown token for "!!"
    [('▁h', 2, 0, 2), ('ug', 5, 2, 4), ('s', 7, 4, 5), ('!!', 0, 5, 7)]

Each step is a loop over the pieces that start at one position, found by growing a substring
while it is a prefix of some piece, so a text of ``n`` characters costs ``O(n * L)`` for pieces
of at most ``L`` characters: long paragraphs are fine.

`UnigramTokenizer` below is the tokenizer of a ``tokenizer.json`` with a ``"Unigram"`` model
(the `tokenizers` library's file); ``marian.py`` reads SentencePiece's own ``.spm`` files with
the same `Unigram` (``spm_model.py`` and ``normalizer.py``).
"""
from __future__ import annotations

import base64
import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from minitf.tokenizers.base import PreTrainedTokenizer
from minitf.tokenizers.normalizer import SPACE_SYMBOL, CharsMap
from minitf.tokenizers.post_processing import TemplatePostProcessor
from minitf.tokenizers.readers import (
    missing_files_error, read_added_tokens, read_json, read_model_type, read_tokenizer_config,
    read_tokenizer_json, tokenizer_class_name, tokenizer_settings,
)

UNK_PENALTY = 10.0      # an unknown character scores this much below the worst piece

# Piece types of SentencePiece's model file (ModelProto.SentencePiece.Type).
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def byte_piece(byte: int) -> str:
    """The byte-fallback piece of one byte: ``0xE2`` -> ``"<0xE2>"``."""
    return f"<0x{byte:02X}>"


_BYTE_PIECE = re.compile(r"<0x([0-9A-F]{2})>")


def piece_byte(piece: str) -> int | None:
    """``"<0xE2>"`` -> ``0xE2``; None for any other piece."""
    m = _BYTE_PIECE.fullmatch(piece)
    return int(m.group(1), 16) if m else None


def _float32(x: float) -> float:
    """`x` rounded to float32 (SentencePiece sums its scores in float32)."""
    return float(np.float32(x))


class Unigram:
    """The Unigram model: pieces with scores, and the Viterbi segmentation.

    pieces: ``[(piece, score), ...]``; a piece's id is its index.
    unk_id: the id of the unknown piece (None: an uncovered character is an error).
    types: SentencePiece's piece types (NORMAL, USER_DEFINED, ...), one per piece; None: all
      NORMAL. Only NORMAL, USER_DEFINED and UNUSED pieces are looked for in the text, and
      UNUSED ones are never chosen; a USER_DEFINED piece scores high enough to always win.
    byte_fallback: unknown characters become ``<0xNN>`` byte pieces.
    float32: add the scores in float32, as SentencePiece does (`tokenizers` adds in float64);
      this decides the rare near-ties the same way as the reference.
    """

    def __init__(self, pieces: Sequence[tuple[str, float]], unk_id: int | None = 0, *,
                 types: Sequence[int] | None = None, byte_fallback: bool = False,
                 float32: bool = False):
        if unk_id is not None and not 0 <= unk_id < len(pieces):
            raise ValueError(f"unk_id {unk_id} is not a piece id (the vocabulary has {len(pieces)} pieces)")
        self.pieces = [(str(p), float(s)) for p, s in pieces]
        self.types = list(types) if types is not None else [NORMAL] * len(self.pieces)
        self.unk_id = unk_id
        self.byte_fallback = byte_fallback
        self.float32 = float32
        self.round = _float32 if float32 else float
        self.piece_to_id: dict[str, int] = {}
        for i, (piece, _) in enumerate(self.pieces):
            self.piece_to_id.setdefault(piece, i)
        normal = [s for (_, s), t in zip(self.pieces, self.types) if t == NORMAL]
        self.min_score = self.round(min(normal, default=0.0))
        # SentencePiece starts its maximum at FLT_MIN (the smallest positive float) and falls
        # back to 0 when it never moves, which is the case for log-probabilities.
        self.max_score = self.round(max(normal, default=0.0))
        if self.max_score <= 0.0 and float32:
            self.max_score = 0.0
        self.unk_score = self.round(self.min_score - UNK_PENALTY)
        # piece -> (id, score, is user-defined), for the pieces the lattice may use
        self.lattice_pieces: dict[str, tuple[int, float, bool]] = {}
        for i, ((piece, score), kind) in enumerate(zip(self.pieces, self.types)):
            if kind in (NORMAL, USER_DEFINED) and piece and piece not in self.lattice_pieces:
                if kind == USER_DEFINED:     # SentencePiece: length in bytes * max score - 0.1
                    score = len(piece.encode("utf-8")) * self.max_score - 0.1
                self.lattice_pieces[piece] = (i, self.round(score), kind == USER_DEFINED)
        # Every prefix of a usable piece: growing a substring stops as soon as it is not one.
        self.prefixes = {p[:k] for p in self.lattice_pieces for k in range(1, len(p) + 1)}

    def __len__(self) -> int:
        return len(self.pieces)

    def viterbi(self, text: str) -> list[tuple[int, int, int]]:
        """The best segmentation of `text`: ``[(start, end, id), ...]`` (id None: unknown).

        Ties go to the edge seen first (the one that starts earlier), as in SentencePiece.
        """
        n = len(text)
        best = [0.0] * (n + 1)          # best[j]: score of the best segmentation of text[:j]
        start_of = [-1] * (n + 1)       # where the last piece of that segmentation starts
        id_of: list[int | None] = [None] * (n + 1)
        pieces, prefixes, rnd = self.lattice_pieces, self.prefixes, self.round
        for i in range(n):
            here = best[i]
            single = False              # is there a piece of exactly one character at i?
            j = i + 1
            while j <= n:
                sub = text[i:j]
                if sub not in prefixes:
                    break
                entry = pieces.get(sub)
                if entry is not None:
                    piece_id, score, user_defined = entry
                    # float32 mode: SentencePiece adds a user-defined bonus in double precision
                    offer = here + score if user_defined else rnd(here + score)
                    if start_of[j] == -1 or offer > best[j]:
                        best[j], start_of[j], id_of[j] = rnd(offer), i, piece_id
                    single = single or j == i + 1
                j += 1
            if not single:              # an unknown edge over one character
                offer = rnd(here + self.unk_score)
                if start_of[i + 1] == -1 or offer > best[i + 1]:
                    best[i + 1], start_of[i + 1], id_of[i + 1] = offer, i, None
        path = []
        j = n
        while j > 0:
            path.append((start_of[j], j, id_of[j]))
            j = start_of[j]
        return path[::-1]

    def encode(self, text: str) -> list[tuple[str, int, int, int]]:
        """``[(piece, id, start, end), ...]`` for a normalized text: the Viterbi pieces, runs of
        unknown characters merged into one unknown token (or, with byte fallback, each
        unknown character as its UTF-8 byte pieces, all with that character's span)."""
        out: list[tuple[str, int, int, int]] = []
        previous_unknown = False
        for start, end, piece_id in self.viterbi(text):
            surface = text[start:end]
            if piece_id is not None:
                out.append((surface, piece_id, start, end))
                previous_unknown = False
                continue
            if self.unk_id is None:
                raise ValueError(f"{surface!r} is in no piece and the vocabulary has no unknown piece")
            if self.byte_fallback:
                for b in surface.encode("utf-8"):
                    piece = byte_piece(b)
                    out.append((piece, self.piece_to_id.get(piece, self.unk_id), start, end))
            elif previous_unknown:      # merge with the unknown token before
                piece, piece_id, s, _ = out[-1]
                out[-1] = (piece + surface, piece_id, s, end)
            else:
                out.append((surface, self.unk_id, start, end))
            previous_unknown = True
        return out


# ----------------------------------------------------------------------------------------------
# The tokenizer of a tokenizer.json with a Unigram model
# ----------------------------------------------------------------------------------------------
class UnigramTokenizer(PreTrainedTokenizer):
    """A Unigram tokenizer read from a `tokenizers` ``tokenizer.json`` (T5, ALBERT, XLNet,
    mBART-style files): its normalizer (a SentencePiece character map, Replace, NFKC, ...),
    the Metaspace pre-tokenizer (spaces -> ``▁``, a ``▁`` in front, words cut before each
    ``▁``), the Unigram model, the post-processor template and the Metaspace decoder.

    The hooks of ``PreTrainedTokenizer`` it fills in: ``normalize``, ``tokenize_piece``
    (Metaspace), ``tokenize_word`` (Viterbi, cached per word), ``convert_tokens_to_string``
    and ``from_folder``.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> pieces = [["<unk>", 0.0], ["</s>", 0.0], ["▁", -2.0], ["▁h", -3.0], ["u", -4.0],
    ...           ["g", -3.0], ["ug", -2.0], ["▁hug", -5.5], ["s", -2.5]]
    >>> (folder / "tokenizer.json").write_text(json.dumps({
    ...     "added_tokens": [{"id": 0, "content": "<unk>", "special": True},
    ...                      {"id": 1, "content": "</s>", "special": True}],
    ...     "normalizer": {"type": "Lowercase"},
    ...     "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"},
    ...     "post_processor": {"type": "TemplateProcessing",
    ...         "single": [{"Sequence": {"id": "A", "type_id": 0}},
    ...                    {"SpecialToken": {"id": "</s>", "type_id": 0}}],
    ...         "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}},
    ...                  {"SpecialToken": {"id": "</s>", "type_id": 0}}],
    ...         "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
    ...     "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"},
    ...     "model": {"type": "Unigram", "unk_id": 0, "vocab": pieces}}), encoding="utf-8") > 0
    True
    >>> tok = UnigramTokenizer.from_pretrained(folder)
    >>> tok.tokenize("Hugs hug!"), tok.encode("Hugs hug!")
    (['▁h', 'ug', 's', '▁h', 'ug', '!'], [3, 6, 8, 3, 6, 0, 1])
    >>> tok.decode([3, 6, 8, 3, 6, 1], skip_special_tokens=True)
    'hugs hug'
    """

    _CACHE_SIZE = 100_000

    def __init__(self, model: Unigram, *, normalizers: Sequence[dict] = (),
                 metaspace: dict | None = None, whitespace_split: bool = False,
                 decoders: Sequence[dict] = (), tokenizer_class: str = "PreTrainedTokenizerFast",
                 **kwargs: Any):
        super().__init__({piece: i for piece, i in model.piece_to_id.items()}, **kwargs)
        self.model = model
        self.normalizers = [dict(n) for n in normalizers]
        self._charsmaps = {k: CharsMap(base64.b64decode(n.get("precompiled_charsmap") or ""))
                           for k, n in enumerate(self.normalizers)
                           if n["type"] == "Precompiled" and n.get("precompiled_charsmap")}
        self.metaspace = dict(metaspace or {})
        self.whitespace_split = whitespace_split
        self.decoders = [dict(d) for d in decoders]
        self.tokenizer_class = tokenizer_class
        self._cache: dict[str, list[tuple[int, str, int, int]]] = {}

    # ---- normalization ---------------------------------------------------------------------
    def normalize(self, text: str, start: int, end: int) -> tuple[str, list[int]]:
        """The normalizers of tokenizer.json, one after the other, keeping the origin of every
        character (a replacement's characters all come from the first one it replaces)."""
        chars = list(text[start:end])
        origin = list(range(start, end))
        for k, spec in enumerate(self.normalizers):
            kind = spec["type"]
            if kind == "Precompiled":
                if k in self._charsmaps:
                    chars, origin = _apply_charsmap(self._charsmaps[k], chars, origin)
            elif kind == "Replace":
                chars, origin = _replace(spec, chars, origin)
            elif kind in ("NFKC", "NFC", "NFD", "NFKD"):
                chars, origin = _unicode_normalize(kind, chars, origin)
            elif kind == "Lowercase":
                chars, origin = _per_char(chars, origin, str.lower)
            elif kind == "Strip":
                left = len(chars) - len("".join(chars).lstrip()) if spec.get("left", True) else 0
                right = len(chars) - len("".join(chars).rstrip()) if spec.get("right", True) else 0
                chars, origin = chars[left:len(chars) - right], origin[left:len(origin) - right]
        return "".join(chars), origin

    # ---- pre-tokenization + model ----------------------------------------------------------
    def tokenize_piece(self, text: str, origin: Sequence[int]):
        """WhitespaceSplit (when the file has it) cuts the text into words; Metaspace makes
        spaces ``▁``, puts a ``▁`` in front (prepend_scheme "always", or "first" for the start
        of the text only) and cuts before every ``▁``, so each word starts with its ``▁``;
        each word then goes through the Viterbi search."""
        origin = list(origin)
        replacement = self.metaspace.get("replacement", SPACE_SYMBOL)
        scheme = self.metaspace.get("prepend_scheme",
                                    "always" if self.metaspace.get("add_prefix_space", True) else "never")
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)] if self.whitespace_split \
            else [(0, len(text))]
        ids, tokens, offsets, word_index = [], [], [], []
        w = 0
        for start, end in spans:
            chunk, where = text[start:end], origin[start:end]
            if self.metaspace and chunk:
                chunk = chunk.replace(" ", replacement)
                if not chunk.startswith(replacement) and (
                        scheme == "always" or (scheme == "first" and where[0] == 0)):
                    chunk, where = replacement + chunk, [where[0], *where]
            for ws, we in self.pre_tokenize(chunk):
                for token_id, token, s, e in self.tokenize_word(chunk[ws:we]):
                    ids.append(token_id)
                    tokens.append(token)
                    offsets.append((where[ws + s], where[ws + e - 1] + 1))
                    word_index.append(w)
                w += 1
        return ids, tokens, offsets, word_index

    def pre_tokenize(self, text: str) -> list[tuple[int, int]]:
        """Words that start at each ``▁`` (Metaspace ``split``), or the whole text."""
        if not text:
            return []
        if not self.metaspace or not self.metaspace.get("split", True):
            return [(0, len(text))]
        replacement = self.metaspace.get("replacement", SPACE_SYMBOL)
        cuts = [0] + [m.start() for m in re.finditer(re.escape(replacement), text) if m.start() > 0]
        return list(zip(cuts, cuts[1:] + [len(text)]))

    def tokenize_word(self, word: str) -> list[tuple[int, str, int, int]]:
        """(id, token, start, end) of the pieces of one word; cached."""
        cached = self._cache.get(word)
        if cached is None:
            cached = [(i, p, s, e) for p, i, s, e in self.model.encode(word)]
            if len(self._cache) >= self._CACHE_SIZE:
                self._cache.clear()
            self._cache[word] = cached
        return cached

    # ---- decoding --------------------------------------------------------------------------
    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        """The decoders of tokenizer.json: byte pieces back to UTF-8 (ByteFallback), ``▁`` back
        to spaces and the first one dropped (Metaspace), Replace / Strip / Fuse."""
        pieces = list(tokens)
        for spec in self.decoders or [{"type": "Metaspace"}]:
            kind = spec["type"]
            if kind == "ByteFallback":
                pieces = _merge_byte_pieces(pieces)
            elif kind == "Metaspace":
                replacement = spec.get("replacement", SPACE_SYMBOL)
                scheme = spec.get("prepend_scheme", "always" if spec.get("add_prefix_space", True) else "never")
                pieces = [p.replace(replacement, " ") for p in pieces]
                if pieces and scheme != "never" and pieces[0].startswith(" "):
                    pieces[0] = pieces[0][1:]
            elif kind == "Replace":
                pattern = spec.get("pattern", {})
                if "String" in pattern:
                    pieces = [p.replace(pattern["String"], spec.get("content", "")) for p in pieces]
                else:
                    pieces = [re.sub(pattern.get("Regex", ""), spec.get("content", ""), p) for p in pieces]
            elif kind == "Fuse":
                pieces = ["".join(pieces)]
            elif kind == "Strip":
                content, left, right = spec.get("content", " "), spec.get("start", 0), spec.get("stop", 0)
                stripped = []
                for p in pieces:
                    for _ in range(left):
                        p = p[1:] if p.startswith(content) else p
                    for _ in range(right):
                        p = p[:-1] if p.endswith(content) else p
                    stripped.append(p)
                pieces = stripped
        return "".join(pieces)

    # ---- saving ----------------------------------------------------------------------------
    def vocabulary_files(self) -> dict[str, str]:
        """Nothing besides tokenizer.json (which holds the pieces and their scores)."""
        return {}

    def tokenizer_json(self) -> dict[str, Any]:
        def sequence(items: list[dict], key: str) -> dict | None:
            return None if not items else items[0] if len(items) == 1 else {"type": "Sequence", key: items}

        pre = ([{"type": "WhitespaceSplit"}] if self.whitespace_split else []) + \
            ([self.metaspace] if self.metaspace else [])
        return {"normalizer": sequence(self.normalizers, "normalizers"),
                "pre_tokenizer": sequence(pre, "pretokenizers"),
                "post_processor": self.post_processor.to_json(self.convert_tokens_to_ids, byte_level=False),
                "decoder": sequence(self.decoders, "decoders"),
                "model": {"type": "Unigram", "unk_id": self.model.unk_id,
                          "vocab": [[p, s] for p, s in self.model.pieces],
                          "byte_fallback": self.model.byte_fallback}}

    # ---- loading ---------------------------------------------------------------------------
    @classmethod
    def from_folder(cls, folder: Path, **kwargs: Any) -> "UnigramTokenizer":
        """tokenizer.json (model type "Unigram") with tokenizer_config.json's settings."""
        folder = Path(folder)
        path = folder / "tokenizer.json"
        if not path.is_file():
            raise missing_files_error(folder, "Unigram tokenizer", "tokenizer.json with a Unigram "
                                      "model (for source.spm / target.spm use MarianTokenizer)")
        args = read_unigram_tokenizer_json(path)
        config = read_tokenizer_config(folder)
        known = set(args["model"].piece_to_id) | {t.content for _, t in args["added_tokens"]}
        settings = tokenizer_settings(config, {"unk_token": "<unk>", "eos_token": "</s>",
                                               "pad_token": "<pad>"}, known)
        name = tokenizer_class_name(config, read_model_type(folder))
        if name:
            settings["tokenizer_class"] = name
        settings.update(kwargs)
        return cls(args.pop("model"), **args, **settings)


# tokenizer.json normalizers and decoders this class applies.
_NORMALIZERS = {"Precompiled", "Replace", "NFKC", "NFC", "NFD", "NFKD", "Lowercase", "Strip"}
_DECODERS = {"Metaspace", "ByteFallback", "Replace", "Fuse", "Strip"}


def read_unigram_tokenizer_json(path: Path) -> dict[str, Any]:
    """The parts of a tokenizer.json with a Unigram model, checked; errors name the file."""
    data = read_tokenizer_json(path, "Unigram")
    model = data["model"]
    vocab = model.get("vocab")
    if not isinstance(vocab, list) or not all(
            isinstance(e, (list, tuple)) and len(e) == 2 and isinstance(e[0], str)
            and isinstance(e[1], (int, float)) for e in vocab):
        raise ValueError(f"{path}: a Unigram model's 'vocab' must be a list of [piece, score] pairs")
    unk_id = model.get("unk_id")
    if unk_id is not None and not (isinstance(unk_id, int) and 0 <= unk_id < len(vocab)):
        raise ValueError(f"{path}: unk_id {unk_id!r} is not an index into the {len(vocab)}-piece vocab")
    normalizers = _flatten(data.get("normalizer"), "normalizers")
    for spec in normalizers:
        if spec.get("type") not in _NORMALIZERS:
            raise ValueError(f"{path}: normalizer {spec.get('type')!r} is not supported by minitf's "
                             f"Unigram tokenizer (supported: {sorted(_NORMALIZERS)})")
        if spec["type"] == "Precompiled" and spec.get("precompiled_charsmap"):
            try:
                CharsMap(base64.b64decode(spec["precompiled_charsmap"]), f"{path}: precompiled_charsmap")
            except (ValueError, TypeError) as err:
                raise ValueError(f"{path}: bad precompiled_charsmap ({err})") from None
    metaspace, whitespace_split = None, False
    for spec in _flatten(data.get("pre_tokenizer"), "pretokenizers"):
        if spec.get("type") == "Metaspace":
            metaspace = spec
        elif spec.get("type") == "WhitespaceSplit":
            whitespace_split = True
        else:
            raise ValueError(f"{path}: pre_tokenizer {spec.get('type')!r} is not supported by minitf's "
                             f"Unigram tokenizer (Metaspace, WhitespaceSplit)")
    decoders = _flatten(data.get("decoder"), "decoders")
    for spec in decoders:
        if spec.get("type") not in _DECODERS:
            raise ValueError(f"{path}: decoder {spec.get('type')!r} is not supported by minitf's "
                             f"Unigram tokenizer (supported: {sorted(_DECODERS)})")
    return {"model": Unigram([(p, s) for p, s in vocab], unk_id,
                             byte_fallback=bool(model.get("byte_fallback", False))),
            "normalizers": normalizers, "metaspace": metaspace, "whitespace_split": whitespace_split,
            "decoders": decoders, "added_tokens": read_added_tokens(data, path),
            "post_processor": TemplatePostProcessor.from_json(data.get("post_processor"), path)}


def _flatten(spec: dict | None, key: str) -> list[dict]:
    """A tokenizer.json component as a list: [] for null, the members of a Sequence."""
    if spec is None:
        return []
    if spec.get("type") == "Sequence":
        return [s for member in spec.get(key, []) for s in _flatten(member, key)]
    return [spec]


def _apply_charsmap(table: CharsMap, chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """The `tokenizers` library's Precompiled normalizer, which differs from SentencePiece's
    longest match on purpose (to match the outputs its authors checked): the text is cut into
    grapheme clusters; a cluster of fewer than 6 UTF-8 bytes with a rule for some prefix is
    replaced whole by the *shortest* such rule (so ``"Ｃ"`` + combining acute becomes ``"C"``);
    otherwise each of its characters is rewritten alone."""
    out, out_origin = [], []
    k = 0
    for cluster in _graphemes("".join(chars)):
        data = cluster.encode("utf-8")
        first = next(iter(table.matches(data)), None) if len(data) < 6 else None
        if first is not None:
            replacement = table._replacement(first[1])
            out.extend(replacement)
            out_origin.extend([origin[k]] * len(replacement))
        else:
            for n, ch in enumerate(cluster):
                match = next((m for m in table.matches(ch.encode("utf-8")) if m[0] == len(ch.encode("utf-8"))), None)
                replacement = ch if match is None else table._replacement(match[1])
                out.extend(replacement)
                out_origin.extend([origin[k + n]] * len(replacement))
        k += len(cluster)
    return out, out_origin


def _graphemes(text: str) -> list[str]:
    """Extended grapheme clusters (Unicode UAX #29), the rules that occur in text: CR LF, a
    character with its combining marks / variation selectors / emoji modifiers / ZWJ, emoji
    joined by ZWJ, pairs of regional-indicator flags; a control character stands alone."""
    clusters, i, n = [], 0, len(text)
    while i < n:
        j = i + 1
        if text[i] == "\r" and text[j:j + 1] == "\n":
            j += 1
        elif not _is_control(text[i]):
            if _is_regional(text[i]) and j < n and _is_regional(text[j]):
                j += 1
            while j < n and (_is_extend(text[j]) or (text[j - 1] == "\u200d" and _is_pictographic(text[j]))):
                j += 1
        clusters.append(text[i:j])
        i = j
    return clusters


def _is_control(ch: str) -> bool:
    return ch not in "\u200c\u200d" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _is_extend(ch: str) -> bool:
    cp = ord(ch)
    return (unicodedata.category(ch) in ("Mn", "Me", "Mc") or ch in "\u200c\u200d"
            or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F)


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _is_pictographic(ch: str) -> bool:
    return unicodedata.category(ch) == "So" or 0x1F000 <= ord(ch) <= 0x1FAFF


def _replace(spec: dict, chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """tokenizer.json's Replace normalizer (a string or a regex pattern)."""
    pattern = spec.get("pattern", {})
    regex = re.compile(re.escape(pattern["String"]) if "String" in pattern else pattern.get("Regex", ""))
    content = spec.get("content", "")
    text = "".join(chars)
    out, out_origin, pos = [], [], 0
    for m in regex.finditer(text):
        if m.end() == m.start():
            continue
        out.extend(text[pos:m.start()])
        out_origin.extend(origin[pos:m.start()])
        out.extend(content)
        out_origin.extend([origin[m.start()]] * len(content))
        pos = m.end()
    out.extend(text[pos:])
    out_origin.extend(origin[pos:])
    return out, out_origin


def _per_char(chars: list[str], origin: list[int], fn) -> tuple[list[str], list[int]]:
    out, out_origin = [], []
    for ch, o in zip(chars, origin):
        new = fn(ch)
        out.extend(new)
        out_origin.extend([o] * len(new))
    return out, out_origin


def _unicode_normalize(form: str, chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """NFC / NFKC / NFD / NFKD of the whole text. Origins: the text is cut before every
    character of combining class 0 (a starter and its marks compose together); each cut's
    output characters come from its first character."""
    text = "".join(chars)
    result = unicodedata.normalize(form, text)
    cuts = [k for k, ch in enumerate(text) if k == 0 or unicodedata.combining(ch) == 0] + [len(text)]
    out_origin: list[int] = []
    for a, b in zip(cuts, cuts[1:]):
        out_origin.extend([origin[a]] * len(unicodedata.normalize(form, text[a:b])))
    if len(out_origin) != len(result):       # composition across starters (Hangul jamo)
        out_origin = [origin[min(k * len(text) // max(len(result), 1), len(text) - 1)]
                      for k in range(len(result))]
    return list(result), out_origin


def _merge_byte_pieces(pieces: Iterable[str]) -> list[str]:
    """Runs of ``<0xNN>`` pieces -> their UTF-8 text (invalid bytes -> U+FFFD)."""
    out: list[str] = []
    run = bytearray()
    for p in pieces:
        b = piece_byte(p)
        if b is not None:
            run.append(b)
            continue
        if run:
            out.append(run.decode("utf-8", "replace"))
            run = bytearray()
        out.append(p)
    if run:
        out.append(run.decode("utf-8", "replace"))
    return out
