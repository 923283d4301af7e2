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

    >>> tok = WordPieceTokenizer.from_pretrained("weights/real/all-MiniLM-L6-v2")
    >>> tok.tokenize("Héllo, WORLD! Tokenization")
    ['hello', ',', 'world', '!', 'token', '##ization']
    >>> enc = tok("Héllo, WORLD!", return_offsets_mapping=True)
    >>> enc.input_ids
    [101, 7592, 1010, 2088, 999, 102]
    >>> enc.offset_mapping     # "hello" is "Héllo", characters 0-5 of the text
    [(0, 0), (0, 5), (5, 6), (7, 12), (12, 13), (0, 0)]
    >>> tok.decode(enc.input_ids, skip_special_tokens=True)
    'hello, world!'

Ids, tokens and offsets are identical to those of the Hugging Face `tokenizers` library for
the same files, on any text (the tests check a varied corpus and random text). Doing so
means using *its* Unicode tables where they differ from Python's ``unicodedata`` (see
``unicode.py``). ``WordPieceTokenizer.train`` learns a vocabulary from your text.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from minitf.tokenizers.added_tokens import SPECIAL_TOKENS_ATTRIBUTES, AddedToken
from minitf.tokenizers.base import PreTrainedTokenizer
from minitf.tokenizers.post_processing import TemplatePostProcessor, clean_up_tokenization
from minitf.tokenizers.readers import (
    added_tokens_with_ids, check_vocab, missing_files_error, read_added_tokens, read_model_type,
    read_tokenizer_config, read_tokenizer_json, single_pre_tokenizer, tokenizer_class_name,
    tokenizer_settings,
)
from minitf.tokenizers.unicode import (
    WHITESPACE, CharClassTable, combining_class, is_cjk, is_control, is_nonspacing_mark,
    is_punctuation, lower, nfd,
)

# ----------------------------------------------------------------------------------------------
# 1. The normalizer, keeping track of where each character comes from
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
# 2. The pre-tokenizer
# ----------------------------------------------------------------------------------------------
def _bert_class(ch: str) -> str:
    """'S' whitespace, 'P' punctuation, 'W' anything else."""
    return "S" if ch in WHITESPACE else "P" if is_punctuation(ch) else "W"


_CLASS_TABLE = CharClassTable(_bert_class)      # read by str.translate
_WORD = re.compile(r"W+|P")


def pre_tokenize(text: str) -> list[tuple[int, int]]:
    """BertPreTokenizer: split on whitespace (dropped), each punctuation character alone.

    >>> text = "Hi!! it's 3.5"
    >>> [text[s:e] for s, e in pre_tokenize(text)]
    ['Hi', '!', '!', 'it', "'", 's', '3', '.', '5']
    """
    return [m.span() for m in _WORD.finditer(text.translate(_CLASS_TABLE))]


# ----------------------------------------------------------------------------------------------
# 3. The tokenizer
# ----------------------------------------------------------------------------------------------
# transformers' fast classes that re-build the normalizer from tokenizer_config.json
# (do_lower_case, strip_accents, tokenize_chinese_chars; defaults True, None, True).
_BERT_LIKE_CLASSES = ("BertTokenizer", "DistilBertTokenizer", "ElectraTokenizer", "ConvBertTokenizer",
                      "FunnelTokenizer", "LayoutLMTokenizer", "LxmertTokenizer", "MobileBertTokenizer",
                      "SqueezeBertTokenizer")
# ... and those whose models take no token_type_ids.
_NO_TOKEN_TYPE_IDS = ("DistilBertTokenizer", "MPNetTokenizer")
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

    The hooks of ``PreTrainedTokenizer`` it fills in: ``normalize`` (``BertNormalizer``),
    ``pre_tokenize`` (``BertPreTokenizer``), ``tokenize_word`` (``wordpiece``),
    ``convert_tokens_to_string`` (the WordPiece decoder), ``from_folder`` and the three
    ``save_pretrained`` hooks.
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
        vocab = dict(vocab)
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
        if unk is None or unk not in vocab:
            raise ValueError(f"the vocabulary has no unknown token {unk!r}: WordPiece needs one for "
                             f"the words it cannot split (add it to vocab.txt, or pass unk_token=... "
                             f"naming a token of the vocabulary)")
        self.wordpiece_unk_token = unk
        self._unk_id = vocab[unk]
        self._max_token_chars = max((len(t) for t in vocab), default=1)
        self._cache: dict[str, list[tuple[int, str, int, int]]] = {}
        if added_tokens is None:             # the special tokens, with their vocabulary ids
            added_tokens = []
            next_id = max(vocab.values(), default=-1) + 1
            for name in SPECIAL_TOKENS_ATTRIBUTES:
                value = kwargs.get(name)
                if value is None:
                    continue
                token = AddedToken.from_any(value)
                token.special, token.normalized = True, False
                if token.content not in vocab:
                    added_tokens.append((next_id, token))
                    next_id += 1
                elif all(t.content != token.content for _, t in added_tokens):
                    added_tokens.append((vocab[token.content], token))
        if post_processor is None:
            cls_tok = AddedToken.from_any(kwargs["cls_token"]).content if kwargs["cls_token"] else None
            sep_tok = AddedToken.from_any(kwargs["sep_token"]).content if kwargs["sep_token"] else None
            post_processor = TemplatePostProcessor.bert(cls_tok, sep_tok)
        super().__init__(vocab, added_tokens=added_tokens, post_processor=post_processor,
                         clean_up_tokenization_spaces=clean_up_tokenization_spaces, **kwargs)

    # ---- settings ---------------------------------------------------------------------------
    @property
    def do_lower_case(self) -> bool:
        return self.normalizer.lowercase

    # ---- hooks for the base class ----------------------------------------------------------
    def normalize(self, text: str, start: int, end: int) -> tuple[str, list[int]]:
        """``BertNormalizer`` on ``text[start:end]``, with the source index of each character."""
        return self.normalizer.normalize(text, start, end)

    def pre_tokenize(self, text: str) -> list[tuple[int, int]]:
        """``BertPreTokenizer``: words split on whitespace and punctuation (`pre_tokenize` above)."""
        return pre_tokenize(text)

    def tokenize_word(self, word: str) -> list[tuple[int, str, int, int]]:
        return self.wordpiece(word)

    def convert_tokens_to_string(self, tokens: Iterable[str]) -> str:
        """The WordPiece decoder: ``##`` pieces glue to the previous token, the others get a
        space in front; with `decoder_cleanup` each piece is cleaned like transformers'
        ``clean_up_tokenization`` (``" ."`` -> ``"."``, ``" n't"`` -> ``"n't"``, ...) plus
        ``" do not"`` -> ``" don't"``.

        >>> tok = WordPieceTokenizer({"[UNK]": 0})
        >>> tok.convert_tokens_to_string(["token", "##ization", "is", "n't", "hard", "."])
        "tokenization isn't hard."
        """
        prefix = self.continuing_subword_prefix
        out = []
        for i, token in enumerate(tokens):
            if i:
                token = token[len(prefix):] if prefix and token.startswith(prefix) else " " + token
            out.append(clean_up_tokenization(token, contract_do_not=True) if self.decoder_cleanup else token)
        return "".join(out)

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
        # The special tokens such a tokenizer has, cut out of the text so they are never learned.
        specials = cls({t: i for i, t in enumerate(special_tokens)}, do_lower_case=do_lower_case,
                       strip_accents=strip_accents, **defaults).added_vocabulary

        word_counts: Counter[str] = Counter()
        for k, text in enumerate(text_or_iterable):
            if not isinstance(text, str):
                raise TypeError(f"train takes str texts, got {type(text).__name__} at item {k}")
            for start, end, token_id in specials.split(text, normalized=False):
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
    def from_folder(cls, folder: Path, **kwargs: Any) -> "WordPieceTokenizer":
        """tokenizer.json, else vocab.txt, with tokenizer_config.json's settings."""
        folder = Path(folder)
        config = read_tokenizer_config(folder)
        tokenizer_class = tokenizer_class_name(config, read_model_type(folder))

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
            raise missing_files_error(folder, "WordPiece tokenizer", "vocab.txt or tokenizer.json")

        known = set(args["vocab"]) | {t.content for _, t in args.get("added_tokens", [])}
        settings = tokenizer_settings(config, _BERT_SPECIALS, known)
        settings.setdefault("clean_up_tokenization_spaces", clean_up_default)
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
    def vocabulary_files(self) -> dict[str, str]:
        """vocab.txt: token k on line k, so the ids must be 0..n-1."""
        ids = sorted(self.id_to_token)
        if ids != list(range(len(ids))):
            missing = next(i for i in range(len(ids) + 1) if i not in self.id_to_token)
            raise ValueError(f"cannot write vocab.txt: the vocabulary ids are not 0..{len(ids) - 1} "
                             f"(id {missing} is missing); vocab.txt gives token k the id k")
        return {"vocab.txt": "".join(self.id_to_token[i] + "\n" for i in ids)}

    def tokenizer_config(self) -> dict[str, Any]:
        return {**super().tokenizer_config(), "do_lower_case": self.normalizer.lowercase,
                "strip_accents": self.normalizer.strip_accents,
                "tokenize_chinese_chars": self.normalizer.handle_chinese_chars}

    def tokenizer_json(self) -> dict[str, Any]:
        return {
            "normalizer": self.normalizer.to_json(),
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": self.post_processor.to_json(self.convert_tokens_to_ids, byte_level=False),
            "decoder": {"type": "WordPiece", "prefix": self.continuing_subword_prefix,
                        "cleanup": self.decoder_cleanup},
            "model": {"type": "WordPiece", "unk_token": self.wordpiece_unk_token,
                      "continuing_subword_prefix": self.continuing_subword_prefix,
                      "max_input_chars_per_word": self.max_input_chars_per_word,
                      "vocab": self.vocab},
        }


BertTokenizer = WordPieceTokenizer


# ----------------------------------------------------------------------------------------------
# 4. Reading the files
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
    data = read_tokenizer_json(path, "WordPiece")
    model = data["model"]
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
    vocab = check_vocab(model.get("vocab"), path)
    processor = TemplatePostProcessor.from_json(data.get("post_processor"), path)
    return {"vocab": vocab, **norm, "added_tokens": read_added_tokens(data, path), "post_processor": processor,
            "unk_token": model.get("unk_token", "[UNK]"),
            "wordpiece_unk_token": model.get("unk_token", "[UNK]"),
            "continuing_subword_prefix": model.get("continuing_subword_prefix", "##"),
            "max_input_chars_per_word": model.get("max_input_chars_per_word", 100),
            "decoder_cleanup": bool(decoder.get("cleanup", True)) if decoder else False}
