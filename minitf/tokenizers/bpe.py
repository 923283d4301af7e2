"""Byte-level BPE: the tokenizer of GPT-2, RoBERTa, BART and Whisper.

How ``"Hello world"`` becomes ``['Hello', 'Ġworld']`` and ids ``[15496, 995]``:

1. **Pre-tokenize.** The GPT-2 pattern
   ``'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+``
   cuts the text into words, each keeping the space in front of it:
   ``"Hello world"`` -> ``["Hello", " world"]``. So BPE never merges across words, and
   ``" world"`` (with its space) is a different token from ``"world"``.
   (``pre_tokenize`` below is a small hand-written scanner for that pattern.)
2. **Bytes, shown as printable characters.** Each word is UTF-8 encoded and every byte is
   shown as one printable character (``bytes_to_unicode``): printable ASCII and Latin-1
   stand for themselves, the others are shifted to U+0100 and up, e.g. the space byte 0x20
   becomes ``Ġ`` (U+0120) and newline ``Ċ``. ``" world"`` -> ``"Ġworld"``; ``"é"`` (bytes C3 A9)
   -> ``"Ã©"``. With 256 base symbols any text can be encoded: there is no unknown token.
3. **Merge.** Start from single characters ``Ġ w o r l d`` and repeatedly merge the adjacent
   pair that comes *first* in ``merges.txt`` (lowest rank), until no pair is in the list:
   ``Ġ w o r l d`` -> ``Ġw o r l d`` -> ... -> ``Ġworld``. Look the tokens up in
   ``vocab.json``: ``Hello`` -> 15496, ``Ġworld`` -> 995.
4. **Decode** goes backwards: ids -> token strings -> bytes -> UTF-8 text.

    >>> tok = ByteLevelBPETokenizer.from_pretrained("weights/real/gpt2-tokenizer")
    >>> tok.tokenize("Hello world")
    ['Hello', 'Ġworld']
    >>> tok.encode("Hello world")
    [15496, 995]
    >>> tok("Hello world", return_offsets_mapping=True)["offset_mapping"]
    [(0, 5), (5, 11)]

The ids, tokens and offsets are the same as those of the Hugging Face `tokenizers` library
for the same files (the tests check it on a large corpus and on random text).
``ByteLevelBPETokenizer.train`` learns the merges from your own text (see its docstring).
"""
from __future__ import annotations

import heapq
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable

from minitf.tokenizers.added_tokens import SPECIAL_TOKENS_ATTRIBUTES, AddedToken, AddedVocabulary
from minitf.tokenizers.base import PreTrainedTokenizer
from minitf.tokenizers.encoding import Encoding
from minitf.tokenizers.post_processing import TemplatePostProcessor
from minitf.tokenizers.readers import (
    added_tokens_with_ids, check_vocab, missing_files_error, read_added_tokens, read_json,
    read_model_type, read_tokenizer_config, read_tokenizer_json, single_pre_tokenizer,
    tokenizer_class_name, tokenizer_settings,
)
from minitf.tokenizers.unicode import WHITESPACE, CharClassTable, char_class


# ----------------------------------------------------------------------------------------------
# 1. Bytes <-> printable characters
# ----------------------------------------------------------------------------------------------
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table from the 256 byte values to 256 printable characters.

    The 188 bytes that are printable Latin-1 characters ('!'..'~', '¡'..'¬', '®'..'ÿ') map to
    themselves; the other 68 (control characters, space, DEL, NBSP, soft hyphen) map, in order,
    to chr(256), chr(257), ... so that a token never holds whitespace or control characters.

    >>> table = bytes_to_unicode()
    >>> table[ord("A")], table[ord(" ")], table[ord("\\n")]
    ('A', 'Ġ', 'Ċ')
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


BYTE_TO_CHAR: dict[int, str] = bytes_to_unicode()
CHAR_TO_BYTE: dict[str, int] = {c: b for b, c in BYTE_TO_CHAR.items()}
# GPT-2's vocabulary starts with the 256 byte symbols in this order ('!' is id 0, 'Ġ' is 220).
# That is: first the bytes that stand for themselves, then the shifted ones, each in byte order.
BYTE_SYMBOLS: list[str] = [BYTE_TO_CHAR[b] for b in
                           sorted(BYTE_TO_CHAR, key=lambda b: (BYTE_TO_CHAR[b] != chr(b), b))]

# A str.translate table from the symbols back to bytes (as latin-1 characters). Characters that
# are not byte symbols go to U+FFFF, so that the latin-1 encoding that follows fails and the
# token is taken as plain UTF-8 instead.
_FROM_SYMBOLS = {ord(c): b for c, b in CHAR_TO_BYTE.items()}
_FROM_SYMBOLS.update({b: 0xFFFF for b in range(256) if chr(b) not in CHAR_TO_BYTE})


def to_byte_symbols(text: str) -> str:
    """``"é"`` -> ``"Ã©"``: the UTF-8 bytes of `text`, one printable symbol per byte."""
    return text.encode("utf-8").decode("latin-1").translate(BYTE_TO_CHAR)


def from_byte_symbols(tokens: Iterable[str]) -> bytes:
    """Token strings back to bytes. A token that is not made of byte symbols (an added token
    such as ``"new word"``) stands for its own UTF-8 text, as in `tokenizers`."""
    out = bytearray()
    for token in tokens:
        try:
            out += token.translate(_FROM_SYMBOLS).encode("latin-1")
        except UnicodeEncodeError:
            out += token.encode("utf-8")
    return bytes(out)


# ----------------------------------------------------------------------------------------------
# 2. The pre-tokenizer: a scanner for the GPT-2 pattern
# ----------------------------------------------------------------------------------------------
# code point -> 'L' letter, 'N' number, 'S' whitespace, 'P' other (`char_class`), for str.translate.
_CLASS_TABLE = CharClassTable(char_class)
_CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")     # after an apostrophe


def pre_tokenize(text: str) -> list[tuple[int, int]]:
    """Split `text` into GPT-2 words; returns their (start, end) character spans.

    The alternatives of the pattern, tried in order at each position:
      ``'s|'t|'re|'ve|'m|'ll|'d``  an English contraction (lowercase only: "'S" is not one);
      `` ?\\p{L}+``, `` ?\\p{N}+``, `` ?[^\\s\\p{L}\\p{N}]+``  a run of letters / numbers / other
                                  characters, with at most one space in front;
      ``\\s+(?!\\S)``             whitespace not followed by a non-space: a run of whitespace
                                  gives up its last character, which then starts the next word
                                  (so "a  b" is "a", " ", " b"), except at the end of the text;
      ``\\s+``                     a lone whitespace character before a non-space.

    >>> text = "Hello world  it's 42!"
    >>> [text[s:e] for s, e in pre_tokenize(text)]
    ['Hello', ' world', ' ', ' it', "'s", ' 42', '!']
    """
    classes = text.translate(_CLASS_TABLE)           # one class letter per character
    spans = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == "'":
            suffix = next((s for s in _CONTRACTIONS if text.startswith(s, i + 1)), None)
            if suffix is not None:
                spans.append((i, i + 1 + len(suffix)))
                i += 1 + len(suffix)
                continue
        # ` ?X+`: an optional single space, then a run of one class X that is not whitespace.
        j = i + 1 if text[i] == " " and i + 1 < n and classes[i + 1] != "S" else i
        cls = classes[j]
        if cls != "S":
            end = _run_end(classes, j, cls)
        else:
            end = _run_end(classes, i, "S")
            if end < n and end - i > 1:              # leave the last whitespace for the next word
                end -= 1
        spans.append((i, end))
        i = end
    return spans


_RUNS = {cls: re.compile(cls + "+") for cls in "LNSP"}


def _run_end(classes: str, start: int, cls: str) -> int:
    """End of the run of `cls` characters that begins at `start` (classes[start] == cls)."""
    return _RUNS[cls].match(classes, start).end()


# ----------------------------------------------------------------------------------------------
# 3. The tokenizer
# ----------------------------------------------------------------------------------------------
class ByteLevelBPETokenizer(PreTrainedTokenizer):
    """GPT-2 style byte-level BPE (also RoBERTa, BART, Whisper vocabularies).

    vocab:  token string (in byte symbols) -> id, e.g. ``{"Hello": 15496, "Ġworld": 995, ...}``
    merges: pairs in priority order, e.g. ``[("Ġ", "t"), ("Ġ", "a"), ("h", "e"), ...]``
    add_prefix_space: put a space in front of the text (so its first word is tokenized like
                      any other word; RoBERTa does this, GPT-2 does not)
    use_regex: split into words with the GPT-2 pattern first (True for all these models)

    The hooks of ``PreTrainedTokenizer`` it fills in: ``pre_tokenize`` (the GPT-2 pattern),
    ``tokenize_word`` (bytes, then merges), ``tokenize_piece`` (the prefix space),
    ``post_process_offsets`` (offsets without spaces), ``convert_tokens_to_string`` (bytes back
    to text), ``from_folder`` and the three ``save_pretrained`` hooks.
    """

    _CACHE_SIZE = 100_000

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]], *,
                 add_prefix_space: bool = False, use_regex: bool = True,
                 ignore_merges: bool = False, unk_token_model: str | None = None,
                 tokenizer_class: str = "GPT2Tokenizer", **kwargs: Any):
        super().__init__(vocab, **kwargs)
        self.merges = [tuple(m) for m in merges]
        # (left id, right id) -> (rank, id of the merged token). A later duplicate overwrites
        # an earlier one, as in `tokenizers`.
        self.merge_ranks: dict[tuple[int, int], tuple[int, int]] = {}
        for rank, (a, b) in enumerate(self.merges):
            self.merge_ranks[(self.vocab[a], self.vocab[b])] = (rank, self.vocab[a + b])
        self.add_prefix_space = add_prefix_space
        self.use_regex = use_regex
        self.ignore_merges = ignore_merges
        self.unk_token_model = unk_token_model
        self.tokenizer_class = tokenizer_class
        self._cache: dict[str, list[tuple[int, str, int, int]]] = {}

    def convert_tokens_to_string(self, tokens: Iterable[str]) -> str:
        """Tokens -> bytes -> UTF-8 text; invalid UTF-8 (e.g. half an emoji) becomes U+FFFD,
        like Rust's from_utf8_lossy."""
        return from_byte_symbols(tokens).decode("utf-8", errors="replace")

    # ---- BPE on one word -------------------------------------------------------------------
    def bpe(self, symbols: str) -> list[int]:
        """Ids of one pre-tokenized word given in byte symbols (``"Ġworld"`` -> ``[995]``).

        Merge the adjacent pair with the lowest rank first; among equal ranks the leftmost.
        A heap of candidate merges and a linked list of symbols make this O(n log n), so a
        100 000-character word is fine (the textbook loop that rescans all pairs after every
        merge is O(n^2)). Same algorithm, same result as `tokenizers`.
        """
        if self.ignore_merges and symbols in self.vocab:
            return [self.vocab[symbols]]
        unk = self.vocab.get(self.unk_token_model) if self.unk_token_model else None
        ids: list[int | None] = []
        for ch in symbols:                       # a symbol missing from the vocabulary is
            if ch in self.vocab:                 # replaced by the unknown token or dropped
                ids.append(self.vocab[ch])
            elif unk is not None:
                ids.append(unk)
        n = len(ids)
        nxt = list(range(1, n + 1))              # linked list over the symbols
        prv = list(range(-1, n - 1))
        ranks = self.merge_ranks
        heap = []                                # (rank, position, id of the merged token)
        for i in range(n - 1):
            merge = ranks.get((ids[i], ids[i + 1]))
            if merge is not None:
                heap.append((merge[0], i, merge[1]))
        heapq.heapify(heap)
        while heap:
            _, i, new_id = heapq.heappop(heap)
            j = nxt[i] if ids[i] is not None else n
            if j >= n:
                continue                          # symbol i was merged away, or is the last one
            merge = ranks.get((ids[i], ids[j]))
            if merge is None or merge[1] != new_id:
                continue                          # stale entry: the pair at i has changed
            ids[i], ids[j] = new_id, None         # merge j into i
            nxt[i] = nxt[j]
            if nxt[i] < n:
                prv[nxt[i]] = i
            if prv[i] >= 0:                       # new candidate pairs with the neighbours
                merge = ranks.get((ids[prv[i]], new_id))
                if merge is not None:
                    heapq.heappush(heap, (merge[0], prv[i], merge[1]))
            if nxt[i] < n:
                merge = ranks.get((new_id, ids[nxt[i]]))
                if merge is not None:
                    heapq.heappush(heap, (merge[0], i, merge[1]))
        return [i for i in ids if i is not None]

    def tokenize_word(self, word: str) -> list[tuple[int, str, int, int]]:
        """(id, token, start, end) of each token of one pre-tokenized word, with the token's
        character span in the word; cached.

        A token made of some of the bytes of a character (an emoji split in two tokens) gets
        the whole character's span, as in `tokenizers`.

        >>> tok = ByteLevelBPETokenizer.from_pretrained("weights/real/gpt2-tokenizer")
        >>> tok.tokenize_word(" world"), tok.tokenize_word("é!")
        ([(995, 'Ġworld', 0, 6)], [(2634, 'Ã©', 0, 1), (0, '!', 1, 2)])
        """
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        symbols = to_byte_symbols(word)
        ids = self.bpe(symbols)
        tokens = [self.id_to_token[i] for i in ids]
        if sum(map(len, tokens)) != len(symbols):
            # Only with a vocabulary that lacks some byte symbols (unknown token / dropped
            # bytes): the tokens no longer line up with the bytes, give them the whole word.
            spans = [(0, len(word))] * len(tokens)
        else:
            # character index of every byte of the word (one byte per character for ASCII)
            char_of_byte = range(len(word)) if word.isascii() else \
                [k for k, ch in enumerate(word) for _ in range(len(ch.encode("utf-8")))]
            spans, pos = [], 0
            for token in tokens:
                spans.append((char_of_byte[pos], char_of_byte[pos + len(token) - 1] + 1))
                pos += len(token)
        if len(self._cache) >= self._CACHE_SIZE:
            self._cache.clear()
        out = [(i, t, s, e) for i, t, (s, e) in zip(ids, tokens, spans)]
        self._cache[word] = out
        return out

    # ---- text piece -> words -------------------------------------------------------------------
    def pre_tokenize(self, text: str) -> list[tuple[int, int]]:
        """The GPT-2 pattern's words (see `pre_tokenize` above), or the whole text without
        `use_regex`."""
        return pre_tokenize(text) if self.use_regex else [(0, len(text))]

    def tokenize_piece(self, text: str, origin):
        """The base class's pre-tokenize + tokenize_word, after `add_prefix_space` puts a space
        in front; that space gets the span of the character it precedes, as in `tokenizers`."""
        if self.add_prefix_space and text and not text.startswith(" "):
            text, origin = " " + text, [origin[0], *origin]
        return super().tokenize_piece(text, origin)

    def post_process_offsets(self, encoding: Encoding) -> None:
        """`trim_offsets`: leave the spaces out of the offsets, as `tokenizers`' ByteLevel and
        RobertaProcessing post-processors do (" world" -> the span of "world").

        The space that `add_prefix_space` added in front of the first token is kept (it
        already points at the first character).
        """
        if not self.post_processor.trim_offsets:
            return
        for i, (token, (s, e)) in enumerate(zip(encoding.tokens, encoding.offsets)):
            lead = _count_spaces(token)
            trail = _count_spaces(reversed(token))
            if not (lead or trail):
                continue
            if lead:
                if (i == 0 or s == 0) and self.post_processor.add_prefix_space and lead == 1:
                    lead = 0
                s = min(s + lead, e)
            if trail and e >= trail:
                e = max(e - trail, s)
            encoding.offsets[i] = (s, e)

    # ---- training ----------------------------------------------------------------------------
    @classmethod
    def train(cls, text_or_iterable: str | Iterable[str], vocab_size: int,
              special_tokens: Iterable[str] = ("<|endoftext|>",), min_frequency: int = 1,
              add_prefix_space: bool = False, **kwargs: Any) -> "ByteLevelBPETokenizer":
        """Learn a byte-level BPE vocabulary from text (the GPT-2 recipe).

        Start from the 256 byte symbols. Count every adjacent pair of symbols inside the
        pre-tokenized words (weighted by how often each word occurs), merge the most frequent
        pair everywhere into a new symbol, and repeat until the vocabulary has `vocab_size`
        entries (256 bytes + merges + `special_tokens`, which come last) or no pair occurs
        `min_frequency` times. Ties go to the lexicographically smallest pair, so training is
        deterministic.

        Worked example, ``"low lower lowest"`` -> words ``low``, ``Ġlower``, ``Ġlowest``:

        - pair counts: ``l o`` 3, ``o w`` 3, ``Ġ l`` 2, ``w e`` 2, ... ; ``l o`` wins the tie
          with ``o w`` (``"l" < "o"``): ``lo w``, ``Ġ lo w e r``, ``Ġ lo w e s t``;
        - then ``lo w`` (3) -> ``low``; then ``low e`` and ``Ġ low`` (2 each; ``"l" < "Ġ"``)
          -> ``lowe``; then ``Ġ lowe`` (2) -> ``Ġlowe``. With ``vocab_size = 256 + 4 + 1`` that
          is 4 merges, and ``<|endoftext|>`` takes the last id, 260:

        >>> tok = ByteLevelBPETokenizer.train("low lower lowest", vocab_size=256 + 4 + 1)
        >>> tok.merges
        [('l', 'o'), ('lo', 'w'), ('low', 'e'), ('Ġ', 'lowe')]
        >>> tok.tokenize("lowest lower")
        ['lowe', 's', 't', 'Ġlowe', 'r']
        >>> tok.encode("lowest lower<|endoftext|>")
        [258, 82, 83, 259, 81, 260]
        """
        special_tokens = list(special_tokens)
        if isinstance(text_or_iterable, str):
            text_or_iterable = [text_or_iterable]
        n_merges = vocab_size - 256 - len(special_tokens)
        if n_merges < 0:
            raise ValueError(f"vocab_size={vocab_size} is too small: it must hold the 256 byte "
                             f"symbols and the {len(special_tokens)} special tokens")

        # Count the words, with the special tokens cut out so that they are never learned.
        specials = AddedVocabulary()
        specials.add([AddedToken(t, special=True, normalized=False) for t in special_tokens],
                     model_vocab={s: i for i, s in enumerate(BYTE_SYMBOLS)})
        word_counts: Counter[str] = Counter()
        for k, text in enumerate(text_or_iterable):
            if not isinstance(text, str):
                raise TypeError(f"train takes str texts, got {type(text).__name__} at item {k}")
            for start, end, token_id in specials.split(text, normalized=False):
                if token_id is None and end > start:
                    piece = text[start:end]
                    if add_prefix_space and not piece.startswith(" "):
                        piece = " " + piece
                    for ws, we in pre_tokenize(piece):
                        word_counts[to_byte_symbols(piece[ws:we])] += 1

        words = [list(w) for w in word_counts]         # each word as a list of symbols
        freqs = list(word_counts.values())
        pair_counts: Counter[tuple[str, str]] = Counter()
        where: defaultdict[tuple[str, str], set[int]] = defaultdict(set)   # pair -> word indices
        for k, symbols in enumerate(words):
            for pair in zip(symbols, symbols[1:]):
                pair_counts[pair] += freqs[k]
                where[pair].add(k)

        merges: list[tuple[str, str]] = []
        while len(merges) < n_merges and pair_counts:
            best = min(pair_counts, key=lambda p: (-pair_counts[p], p))
            if pair_counts[best] < min_frequency:
                break
            merges.append(best)
            merged = best[0] + best[1]
            for k in where.pop(best):
                symbols = words[k]
                for pair in zip(symbols, symbols[1:]):          # forget this word's pairs...
                    pair_counts[pair] -= freqs[k]
                    if pair_counts[pair] <= 0:
                        del pair_counts[pair]
                new, i = [], 0
                while i < len(symbols):                         # ...merge left to right...
                    if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                        new.append(merged)
                        i += 2
                    else:
                        new.append(symbols[i])
                        i += 1
                words[k] = new
                for pair in zip(new, new[1:]):                  # ...and count the new ones
                    pair_counts[pair] += freqs[k]
                    where[pair].add(k)

        vocab = {s: i for i, s in enumerate(BYTE_SYMBOLS)}
        for a, b in merges:
            vocab.setdefault(a + b, len(vocab))
        for token in special_tokens:
            vocab.setdefault(token, len(vocab))
        eos = special_tokens[0] if special_tokens else None
        defaults = {"bos_token": eos, "eos_token": eos, "unk_token": eos}
        defaults.update(kwargs)
        return cls(vocab, merges, add_prefix_space=add_prefix_space,
                   added_tokens=[(vocab[t], AddedToken(t, special=True, normalized=False))
                                 for t in special_tokens],
                   post_processor=TemplatePostProcessor(add_prefix_space=add_prefix_space),
                   **defaults)

    # ---- loading -----------------------------------------------------------------------------
    @classmethod
    def from_folder(cls, folder: Path, **kwargs: Any) -> "ByteLevelBPETokenizer":
        """tokenizer.json, else vocab.json + merges.txt, with tokenizer_config.json's settings."""
        folder = Path(folder)
        config = read_tokenizer_config(folder)
        model_type = read_model_type(folder)
        tokenizer_class = tokenizer_class_name(config, model_type)
        family = _family(tokenizer_class or model_type)

        if (folder / "tokenizer.json").is_file():
            args = _read_tokenizer_json(folder / "tokenizer.json")
        elif (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
            args = _read_vocab_and_merges(folder, config, family)
        else:
            raise missing_files_error(folder, "byte-level BPE tokenizer",
                                      "tokenizer.json, or vocab.json + merges.txt")

        # Special-token attributes: tokenizer_config.json, else the family's defaults.
        known = set(args["vocab"]) | {t.content for _, t in args["added_tokens"]}
        settings = tokenizer_settings(config, _FAMILY_SPECIALS[family], known)
        if tokenizer_class:
            settings["tokenizer_class"] = tokenizer_class
        add_prefix_space = kwargs.pop("add_prefix_space", config.get("add_prefix_space"))
        settings.update(kwargs)
        tok = cls(args.pop("vocab"), args.pop("merges"), **args, **settings)
        if add_prefix_space is not None:
            # As transformers: tokenizer_config.json / the keyword wins over tokenizer.json.
            tok.add_prefix_space = bool(add_prefix_space)
            if tok.post_processor.kind == "RobertaProcessing":
                tok.post_processor.add_prefix_space = bool(add_prefix_space)
        return tok

    # ---- saving ------------------------------------------------------------------------------
    def vocabulary_files(self) -> dict[str, str]:
        """vocab.json and merges.txt (the files of the original GPT-2 release)."""
        return {"vocab.json": json.dumps(self.vocab, ensure_ascii=False),
                "merges.txt": "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges)}

    def tokenizer_config(self) -> dict[str, Any]:
        return {**super().tokenizer_config(), "add_prefix_space": self.add_prefix_space}

    def tokenizer_json(self) -> dict[str, Any]:
        byte_level = {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space,
                      "trim_offsets": True, "use_regex": self.use_regex}
        return {
            "normalizer": None,
            "pre_tokenizer": byte_level,
            "post_processor": self.post_processor.to_json(self.convert_tokens_to_ids, byte_level=True),
            "decoder": {**byte_level, "add_prefix_space": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": self.unk_token_model,
                      "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False,
                      "byte_fallback": False, "ignore_merges": self.ignore_merges,
                      "vocab": self.vocab, "merges": [f"{a} {b}" for a, b in self.merges]},
        }


GPT2Tokenizer = ByteLevelBPETokenizer


def _count_spaces(chars: Iterable[str]) -> int:
    """How many leading characters are spaces: the byte symbol 'Ġ' or real whitespace."""
    n = 0
    for ch in chars:
        if ch != "Ġ" and ch not in WHITESPACE:
            break
        n += 1
    return n


# ----------------------------------------------------------------------------------------------
# 4. Reading the files
# ----------------------------------------------------------------------------------------------
# Defaults for a folder with only vocab.json + merges.txt, by family (as transformers' classes).
_FAMILY_SPECIALS: dict[str, dict[str, Any]] = {
    "gpt2": {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
    "roberta": {"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
                "unk_token": "<unk>", "pad_token": "<pad>",
                "mask_token": {"content": "<mask>", "lstrip": True, "special": True, "normalized": False}},
}
_ROBERTA_LIKE = ("roberta", "bart", "longformer", "camembert", "xlm-roberta", "xlm_roberta", "mbart",
                 "led", "blenderbot", "markuplm", "layoutlmv3", "mvp")


def _family(name: str) -> str:
    """'roberta' or 'gpt2' for a tokenizer class or model type name."""
    name = name.lower()
    return "roberta" if any(name.startswith(f) for f in _ROBERTA_LIKE) else "gpt2"


def _read_tokenizer_json(path: Path) -> dict[str, Any]:
    """The parts of a `tokenizers` tokenizer.json that byte-level BPE uses, checked."""
    data = read_tokenizer_json(path, "BPE")
    model = data["model"]
    for key, default in (("dropout", None), ("continuing_subword_prefix", ""),
                         ("end_of_word_suffix", "")):
        if model.get(key) not in (default, None, 0, 0.0):
            raise ValueError(f"{path}: BPE option {key}={model[key]!r} is not supported by minitf")
    if data.get("normalizer") is not None:
        raise ValueError(f"{path}: normalizer {data['normalizer'].get('type')!r} is not supported "
                         f"by minitf's byte-level BPE (GPT-2, RoBERTa and BART files have none)")
    pre = single_pre_tokenizer(data)
    if not isinstance(pre, dict) or pre.get("type") != "ByteLevel":
        raise ValueError(f"{path}: pre_tokenizer {pre and pre.get('type')!r} is not supported; "
                         f"minitf's BPE needs a ByteLevel pre_tokenizer")
    vocab = check_vocab(model.get("vocab"), path)
    merges = _check_merges(enumerate(model.get("merges", [])), vocab, path, "model.merges[{}]")
    return {"vocab": vocab, "merges": merges, "added_tokens": read_added_tokens(data, path),
            "add_prefix_space": bool(pre.get("add_prefix_space", False)),
            "use_regex": bool(pre.get("use_regex", True)),
            "ignore_merges": bool(model.get("ignore_merges", False)),
            "unk_token_model": model.get("unk_token"),
            "post_processor": TemplatePostProcessor.from_json(data.get("post_processor"), path)}


def _read_vocab_and_merges(folder: Path, config: dict[str, Any], family: str) -> dict[str, Any]:
    """vocab.json + merges.txt (+ added_tokens.json): what transformers converts to a fast tokenizer."""
    vocab = check_vocab(read_json(folder / "vocab.json"), folder / "vocab.json")
    path = folder / "merges.txt"
    with open(path, encoding="utf-8") as f:
        lines = [(n, line.rstrip("\r\n")) for n, line in enumerate(f, start=1)]
    # Skip the "#version: 0.2" header and blank lines.
    lines = [(n, line) for n, line in lines if line and not (n == 1 and line.startswith("#version"))]
    merges = _check_merges(lines, vocab, path, "line {}")
    specials = {k: config[k] for k in SPECIAL_TOKENS_ATTRIBUTES if k in config} or _FAMILY_SPECIALS[family]
    pairs = added_tokens_with_ids(folder, config, vocab, _FAMILY_SPECIALS[family])
    add_prefix_space = bool(config.get("add_prefix_space", False))
    if family == "roberta":
        cls_tok = AddedToken.from_any(specials.get("cls_token", "<s>")).content
        sep_tok = AddedToken.from_any(specials.get("sep_token", "</s>")).content
        processor = TemplatePostProcessor.roberta(cls_tok, sep_tok, add_prefix_space=add_prefix_space)
    else:
        processor = TemplatePostProcessor(add_prefix_space=add_prefix_space)
    return {"vocab": vocab, "merges": merges, "added_tokens": pairs,
            "add_prefix_space": add_prefix_space, "post_processor": processor}


def _check_merges(entries: Iterable[tuple[int, Any]], vocab: dict[str, int], path: Path,
                  where: str) -> list[tuple[str, str]]:
    """Parse merges given as (number, "a b" or ["a", "b"]); a bad one names the file and
    `where` (e.g. "line {}") with its number."""
    merges = []
    for number, raw in entries:
        parts = raw.split(" ") if isinstance(raw, str) else raw
        if not isinstance(parts, (list, tuple)) or len(parts) != 2 \
                or not isinstance(parts[0], str) or not isinstance(parts[1], str):
            raise ValueError(f"{path}, {where.format(number)}: expected two tokens separated by "
                             f"one space, got {raw!r}")
        a, b = parts
        if a not in vocab or b not in vocab or a + b not in vocab:
            missing = next(t for t in (a, b, a + b) if t not in vocab)
            raise ValueError(f"{path}, {where.format(number)}: token {missing!r} of merge {raw!r} "
                             f"is not in the vocabulary")
        merges.append((a, b))
    return merges
