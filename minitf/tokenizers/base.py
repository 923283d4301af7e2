"""`PreTrainedTokenizer`: what every minitf tokenizer shares, whatever its algorithm.

A tokenizer turns text into the integer ids a model reads, in four steps (the same steps as
the Hugging Face `tokenizers` library and chapter 6 of the Hugging Face course):

1. **added tokens** -- special tokens such as ``<|endoftext|>`` (and any token added with
   ``add_tokens``) are cut out of the text first, so the algorithm never splits them
   (``added_tokens.py``);
2. **normalization, pre-tokenization, model** -- each remaining piece is normalized (BERT
   lower-cases it), split into words, and each word into sub-word tokens; this is the
   algorithm-specific part, the hooks below (``bpe.py``, ``wordpiece.py``);
3. **truncation + post-processing** -- long sequences are cut to ``max_length``
   (``padding.py``) and special tokens are put around them from a template, e.g. RoBERTa's
   ``<s> A </s></s> B </s>`` (``post_processing.py``);
4. **padding** -- a batch is made rectangular with ``pad_token_id`` and an attention mask
   (``padding.py``); the result is a `BatchEncoding` (``encoding.py``).

Worked example with the real GPT-2 tokenizer (``make weights`` fetches its files)::

    >>> from minitf.tokenizers import AutoTokenizer
    >>> tok = AutoTokenizer.from_pretrained("weights/real/gpt2-tokenizer")
    >>> tok.pad_token = tok.eos_token     # GPT-2 has no pad token
    >>> enc = tok(["Hello world", "Hi"], padding=True, return_tensors="np")
    >>> enc.input_ids                     # int64, (batch, seq)
    array([[15496,   995],
           [17250, 50256]])
    >>> enc.attention_mask
    array([[1, 1],
           [1, 0]])
    >>> tok.decode([15496, 995])
    'Hello world'

The behaviour follows `transformers` 4.x "fast" tokenizers (``PreTrainedTokenizerFast``): the
same argument names, the same defaults, the same output keys and shapes.
"""
from __future__ import annotations

import abc
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from minitf.tokenizers.added_tokens import SPECIAL_TOKENS_ATTRIBUTES, AddedToken, AddedVocabulary
from minitf.tokenizers.encoding import BatchEncoding, Encoding, text_pairs
from minitf.tokenizers.padding import (
    VERY_LARGE_INTEGER, is_int, overflow_pairs, pad, padded_length, resolve_strategies, truncate,
)
from minitf.tokenizers.post_processing import TemplatePostProcessor, clean_up_tokenization
from minitf.tokenizers.unicode import WHITESPACE

logger = logging.getLogger(__name__)

# from_pretrained arguments of transformers that mean nothing here (minitf is always "fast").
_IGNORED_KWARGS = ("use_fast", "trust_remote_code", "revision", "cache_dir", "local_files_only",
                   "token", "use_auth_token", "force_download", "legacy")


class PreTrainedTokenizer(abc.ABC):
    """Base class: added/special tokens, __call__ with padding and truncation, decoding, files.

    A subclass is one algorithm. It passes its vocabulary (token -> id) to ``__init__``, which
    keeps it as ``self.vocab`` (and ``self.id_to_token``), and implements:

    - ``tokenize_word(word) -> [(id, token, start, end), ...]``: the tokens of one
      pre-tokenized word, with their character span in the word;
    - ``convert_tokens_to_string(tokens) -> str``: the decoder, tokens back to text;
    - ``from_folder(folder, **kwargs)`` (classmethod): build one from the files of a folder,
      for ``from_pretrained``.

    and, where the defaults do not fit, overrides:

    - ``normalize(text, start, end) -> (normalized, origin)``: normalize ``text[start:end]``;
      ``origin[k]`` is the index in `text` of the character that ``normalized[k]`` comes from,
      so offsets point into the user's text. Default: no change;
    - ``pre_tokenize(text) -> [(start, end), ...]``: the words of a normalized piece.
      Default: split on whitespace;
    - ``tokenize_piece(text, origin) -> (ids, tokens, offsets, word_index)``: one normalized
      piece without added tokens; the default runs ``pre_tokenize`` then ``tokenize_word``
      on each word (``word_index`` numbers each token's word from 0 within the piece);
    - ``post_process_offsets(encoding)``: adjust the offsets of one sequence before special
      tokens are added (byte-level BPE trims spaces). Default: no change;
    - ``vocabulary_files() -> {name: text}``, ``tokenizer_config() -> dict`` and
      ``tokenizer_json() -> dict | None``: what ``save_pretrained`` writes. Defaults:
      ``vocab.json``, the settings and special tokens, no tokenizer.json.

    A whole new tokenizer, words looked up whole (``from_folder`` reads back what the default
    ``save_pretrained`` writes):

    >>> class WholeWordTokenizer(PreTrainedTokenizer):
    ...     def tokenize_word(self, word):
    ...         token = word if word in self.vocab else "[UNK]"
    ...         return [(self.vocab[token], token, 0, len(word))]
    ...     def convert_tokens_to_string(self, tokens):
    ...         return " ".join(tokens)
    ...     @classmethod
    ...     def from_folder(cls, folder, **kwargs):
    ...         return cls(read_json(Path(folder) / "vocab.json"), **kwargs)
    >>> from minitf.tokenizers.readers import read_json
    >>> tok = WholeWordTokenizer({"[UNK]": 0, "[PAD]": 1, "hello": 2, "world": 3},
    ...                          unk_token="[UNK]", pad_token="[PAD]")
    >>> enc = tok(["hello  world", "hi"], padding=True, return_offsets_mapping=True)
    >>> enc.input_ids, enc.offset_mapping[0], enc.word_ids(1)
    ([[2, 3], [0, 1]], [(0, 5), (7, 12)], [0, None])
    >>> tok.add_tokens(["<sep>"]), tok.tokenize("hello<sep>you"), tok.decode([2, 4, 0])
    (1, ['hello', '<sep>', '[UNK]'], 'hello <sep> [UNK]')
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     names = [Path(p).name for p in tok.save_pretrained(folder)]
    ...     again = WholeWordTokenizer.from_pretrained(folder)
    >>> names, again.encode("world hello")
    (['vocab.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json'], [3, 2])

    BPE and WordPiece are built the same way, from these hooks only.
    """

    # What __call__ returns by default (a WordPiece/BERT subclass adds "token_type_ids").
    model_input_names: list[str] = ["input_ids", "attention_mask"]
    # Offsets, word ids and overflow windows are available (a "fast" tokenizer in transformers).
    is_fast: bool = True

    def __init__(self, vocab: dict[str, int], *, added_tokens: Iterable[tuple[int, AddedToken]] = (),
                 post_processor: TemplatePostProcessor | None = None,
                 model_max_length: int | None = None, padding_side: str = "right",
                 truncation_side: str = "right", clean_up_tokenization_spaces: bool = False,
                 name_or_path: str = "", **special_tokens: Any):
        self.vocab = dict(vocab)                 # the algorithm's own vocabulary, token -> id
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.post_processor = post_processor or TemplatePostProcessor()
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.name_or_path = name_or_path
        # Added tokens live outside the model vocabulary; the normalized ones are looked for in
        # normalized text, so the vocabulary normalizes their contents with this tokenizer's rules.
        self.added_vocabulary = AddedVocabulary(self._normalize_text)
        for token_id, token in added_tokens:
            self.added_vocabulary.register(token, token_id)
        self._special: dict[str, str | None] = {name: None for name in SPECIAL_TOKENS_ATTRIBUTES}
        self._additional_special_tokens: list[str] = []
        for name, value in special_tokens.items():
            if name == "additional_special_tokens":
                self._additional_special_tokens = [AddedToken.from_any(v).content for v in value or []]
            elif name in self._special:
                self._special[name] = None if value is None else AddedToken.from_any(value).content
            else:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {name!r}")

    # ---- hooks: the algorithm ------------------------------------------------------------
    def __getstate__(self) -> dict:
        """Pickle the settings and vocabularies, not the word cache that encoding fills."""
        state = dict(vars(self))
        if "_cache" in state:
            state["_cache"] = {}
        return state

    def _normalize_text(self, text: str) -> str:
        """`normalize` on a whole string, text only (a method, not a lambda, so tokenizers pickle)."""
        return self.normalize(text, 0, len(text))[0]

    def normalize(self, text: str, start: int, end: int) -> tuple[str, Sequence[int]]:
        """``text[start:end]`` normalized, and the index in `text` of the source of each of its
        characters (default: unchanged)."""
        return text[start:end], range(start, end)

    def pre_tokenize(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of the words of a normalized piece (default: split on whitespace)."""
        spans: list[tuple[int, int]] = []
        start = None
        for i, ch in enumerate(text):
            if ch in WHITESPACE:
                if start is not None:
                    spans.append((start, i))
                    start = None
            elif start is None:
                start = i
        if start is not None:
            spans.append((start, len(text)))
        return spans

    @abc.abstractmethod
    def tokenize_word(self, word: str) -> list[tuple[int, str, int, int]]:
        """(id, token, start, end) of each token of one word; start:end is its span in `word`."""

    def tokenize_piece(self, text: str, origin: Sequence[int]
                       ) -> tuple[list[int], list[str], list[tuple[int, int]], list[int]]:
        """(ids, tokens, offsets, word_index) of a normalized piece that holds no added token.

        ``origin[k]`` is the index in the user's text of ``text[k]``; offsets index the user's
        text. ``word_index`` numbers each token's word, from 0 in this piece (for ``word_ids``).
        """
        ids: list[int] = []
        tokens: list[str] = []
        offsets: list[tuple[int, int]] = []
        word_index: list[int] = []
        for w, (ws, we) in enumerate(self.pre_tokenize(text)):
            for token_id, token, s, e in self.tokenize_word(text[ws:we]):
                ids.append(token_id)
                tokens.append(token)
                offsets.append((origin[ws + s], origin[ws + e - 1] + 1))
                word_index.append(w)
        return ids, tokens, offsets, word_index

    def post_process_offsets(self, encoding: Encoding) -> None:
        """Adjust the offsets of one sequence before special tokens are added (default: keep)."""

    @abc.abstractmethod
    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        """Text for a list of tokens (the decoder)."""

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
        return len(self.vocab)

    def __len__(self) -> int:
        """Size of the full vocabulary, added tokens included."""
        return len(self.id_to_token) + sum(1 for i in self.added_vocabulary.tokens
                                           if i not in self.id_to_token)

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self.vocab)
        vocab.update(self.added_vocabulary.ids)
        return vocab

    def get_added_vocab(self) -> dict[str, int]:
        return dict(self.added_vocabulary.ids)

    @property
    def added_tokens_decoder(self) -> dict[int, AddedToken]:
        return dict(self.added_vocabulary)

    def add_tokens(self, new_tokens: str | AddedToken | Sequence[str | AddedToken],
                   special_tokens: bool = False) -> int:
        """Add tokens that the algorithm will never split; returns how many are new."""
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        tokens = []
        for t in new_tokens:
            if not isinstance(t, (str, AddedToken)):
                raise TypeError(f"add_tokens takes str or AddedToken items, got {type(t).__name__}")
            tokens.append(AddedToken.from_any(t, special=special_tokens))
        return self.added_vocabulary.add(tokens, self.vocab)

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
        return self.added_vocabulary.add(tokens, self.vocab)

    # ---- conversions -----------------------------------------------------------------------
    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int] | None:
        """Token string(s) to id(s); unknown strings give `unk_token_id` (None without one)."""
        if isinstance(tokens, str):
            token_id = self.added_vocabulary.ids.get(tokens)
            if token_id is None:
                token_id = self.vocab.get(tokens)
            if token_id is None and self._special["unk_token"] is not None \
                    and self._special["unk_token"] != tokens:
                token_id = self.convert_tokens_to_ids(self._special["unk_token"])
            return token_id
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_ids_to_tokens(self, ids: int | Sequence[int] | np.ndarray,
                              skip_special_tokens: bool = False) -> str | list[str]:
        """Id(s) to token string(s); an id outside the vocabulary is an error."""
        if is_int(ids):
            return self._id_to_token(self._as_id_list(ids, "ids")[0])
        special = set(self.all_special_ids)
        return [self._id_to_token(i) for i in self._as_id_list(ids, "ids")
                if not (skip_special_tokens and i in special)]

    def _id_to_token(self, token_id: int) -> str:
        added = self.added_vocabulary.tokens.get(token_id)
        if added is not None:
            return added.content
        token = self.id_to_token.get(token_id)
        if token is None:
            highest = max([*self.id_to_token, *self.added_vocabulary.tokens])
            raise ValueError(f"token id {token_id} is not in the vocabulary (vocab size {len(self)}; "
                             f"valid ids are 0..{highest})")
        return token

    def _as_id_list(self, ids: Any, what: str) -> list[int]:
        """Accept an int, a list/tuple of ints, or a 0-d/1-d integer array (NumPy, or any array
        with ``ndim`` and ``tolist()`` such as CuPy); check every id."""
        if is_int(ids):
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
        bad = [x for x in ids if not is_int(x)]
        if bad:
            raise TypeError(f"{what} must be a list of ints, got an item of type "
                            f"{type(bad[0]).__name__} ({bad[0]!r})")
        return self._check_ids([int(x) for x in ids])

    def _check_ids(self, ids: list[int]) -> list[int]:
        for i in ids:
            if i < 0:
                raise ValueError(f"token id {i} is negative; ids are 0..{len(self) - 1}")
        return ids

    # ---- encoding --------------------------------------------------------------------------
    def _encode_sequence(self, text: str, type_id: int = 0) -> Encoding:
        """Steps 1 and 2 on one text, no special tokens: added tokens with ``normalized=False``
        (the usual special tokens) are cut out of the raw text, each stretch between them is
        normalized, the tokens with ``normalized=True`` are cut out of the normalized text, and
        the algorithm tokenizes what is left."""
        enc = Encoding()
        word = 0

        def add(ids: list[int], tokens: list[str], offsets: list[tuple[int, int]],
                word_index: list[int]) -> None:
            nonlocal word
            enc.ids.extend(ids)
            enc.tokens.extend(tokens)
            enc.offsets.extend(offsets)
            enc.word_ids.extend(word + w for w in word_index)
            word += (word_index[-1] + 1) if word_index else 0

        added = self.added_vocabulary
        for start, end, token_id in added.split(text, normalized=False):
            if token_id is not None:
                add([token_id], [text[start:end]], [(start, end)], [0])   # with lstrip/rstrip spaces
                continue
            norm, origin = self.normalize(text, start, end)
            for s, e, sub_id in added.split(norm, normalized=True):
                if sub_id is not None:
                    add([sub_id], [norm[s:e]], [(origin[s], origin[e - 1] + 1)], [0])
                else:
                    add(*self.tokenize_piece(norm[s:e], origin[s:e]))
        n = len(enc.ids)
        enc.type_ids = [type_id] * n
        enc.special_tokens_mask = [0] * n
        enc.attention_mask = [1] * n
        return enc

    def _encode_with_overflow(self, first: str, second: str | None, trunc_strategy: str,
                              max_length: int | None, add_special_tokens: bool, stride: int,
                              overflow: bool) -> list[Encoding]:
        """One text (or pair) -> its encoding, followed by its overflow windows if asked."""
        a = self._encode_sequence(first, 0)
        b = self._encode_sequence(second, 1) if second is not None else None
        if trunc_strategy == "do_not_truncate":
            wa, wb = [a], (None if b is None else [b])
        else:
            n_special = self.num_special_tokens_to_add(b is not None) if add_special_tokens else 0
            wa, wb = truncate(a, b, max_length, trunc_strategy, n_special=n_special,
                              side=self.truncation_side, stride=stride, overflow=overflow)
        for w in wa + (wb or []):                # trim offsets once per window, as `tokenizers`
            self.post_process_offsets(w)
        pairs = [(w, None) for w in wa] if wb is None else overflow_pairs(wa, wb)
        return [self.post_processor.apply(x, y, add_special_tokens, self.convert_tokens_to_ids)
                for x, y in pairs]

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

        Long inputs: ``return_overflowing_tokens=True`` keeps what truncation would drop as
        more windows of at most `max_length` tokens, consecutive windows sharing `stride`
        tokens. With a pair and ``truncation="only_second"`` only the second text (the
        context of question answering) is windowed and every window repeats the first text.
        The output is then always a batch with one row per window, and
        ``overflow_to_sample_mapping`` gives the input each row comes from:

        >>> from minitf.tokenizers import AutoTokenizer
        >>> tok = AutoTokenizer.from_pretrained("weights/real/all-MiniLM-L6-v2")
        >>> enc = tok("Who?", "one two three four five", truncation="only_second",
        ...           max_length=7, stride=1, return_overflowing_tokens=True)
        >>> [tok.decode(ids) for ids in enc.input_ids]
        ['[CLS] who? [SEP] one two [SEP]', '[CLS] who? [SEP] two three [SEP]', \
'[CLS] who? [SEP] three four [SEP]', '[CLS] who? [SEP] four five [SEP]']
        >>> enc.overflow_to_sample_mapping, enc.sequence_ids(1)
        ([0, 0, 0, 0], [None, 0, 0, None, 1, 1, None])
        """
        batched, pairs = text_pairs(text, text_pair)
        explicit_no_truncation = truncation is False or truncation == "do_not_truncate" or \
            (truncation is None and max_length is None)
        pad_strategy, trunc_strategy, max_length = resolve_strategies(
            padding, truncation, max_length, pad_to_multiple_of, model_max_length=self.model_max_length,
            has_pad_token=self.pad_token is not None and self.pad_token_id is not None, verbose=verbose)
        if not is_int(stride) or stride < 0:
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
            target = padded_length(encodings, pad_strategy, max_length, pad_to_multiple_of)
            for enc in encodings:
                pad(enc, target, side, pad_id=self.pad_token_id, pad_token=self.pad_token,
                    pad_type_id=self.pad_token_type_id)

        want = {
            "input_ids": True,
            "token_type_ids": ("token_type_ids" in self.model_input_names
                               if return_token_type_ids is None else return_token_type_ids),
            "attention_mask": ("attention_mask" in self.model_input_names
                               if return_attention_mask is None else return_attention_mask),
            "special_tokens_mask": return_special_tokens_mask,
            "offset_mapping": return_offsets_mapping,
        }
        extra: dict[str, list[int]] = {}
        if return_length:
            extra["length"] = [len(e) for e in encodings]
        if return_overflowing_tokens:
            extra["overflow_to_sample_mapping"] = sample_mapping
        return BatchEncoding.from_encodings(
            encodings, [key for key, wanted in want.items() if wanted], extra=extra,
            return_tensors=return_tensors, flat=not batched and not return_overflowing_tokens)

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
            ids = [i for i in ids if not self.added_vocabulary.is_special(i)]
        text = self.convert_tokens_to_string([self._id_to_token(i) for i in ids])
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
        return cls.from_folder(folder, name_or_path=os.fspath(name_or_path), **kwargs)

    @classmethod
    @abc.abstractmethod
    def from_folder(cls, folder: Path, **kwargs: Any) -> "PreTrainedTokenizer":
        """Build the tokenizer from the files of a model folder (`kwargs` override the files)."""

    def tokenizer_config(self) -> dict[str, Any]:
        """What tokenizer_config.json holds for this tokenizer (a subclass adds its settings)."""
        config: dict[str, Any] = {"tokenizer_class": getattr(self, "tokenizer_class", type(self).__name__)}
        if self.model_max_length < VERY_LARGE_INTEGER:
            config["model_max_length"] = self.model_max_length
        config.update(self.special_tokens_map)
        config["padding_side"] = self.padding_side
        config["truncation_side"] = self.truncation_side
        config["clean_up_tokenization_spaces"] = self.clean_up_tokenization_spaces
        config["added_tokens_decoder"] = {str(i): t.to_dict() for i, t in self.added_vocabulary}
        return config

    def vocabulary_files(self) -> dict[str, str]:
        """The algorithm's own files, name -> text (default: vocab.json)."""
        return {"vocab.json": json.dumps(self.vocab, ensure_ascii=False)}

    def tokenizer_json(self) -> dict[str, Any] | None:
        """The pipeline part of tokenizer.json ("normalizer", "pre_tokenizer", "post_processor",
        "decoder", "model"), or None to write no tokenizer.json (the default)."""
        return None

    def save_pretrained(self, folder: str | os.PathLike) -> list[str]:
        """Write the vocabulary files, tokenizer_config.json, special_tokens_map.json,
        added_tokens.json (for added tokens outside the vocabulary) and tokenizer.json
        (loadable by `tokenizers`); returns the paths written."""
        files = dict(self.vocabulary_files())
        files["tokenizer_config.json"] = json.dumps(self.tokenizer_config(), ensure_ascii=False, indent=2)
        files["special_tokens_map.json"] = json.dumps(self.special_tokens_map, ensure_ascii=False, indent=2)
        extra = {t.content: i for i, t in self.added_vocabulary.tokens.items() if i not in self.id_to_token}
        if extra:
            files["added_tokens.json"] = json.dumps(extra, ensure_ascii=False, indent=2)
        pipeline = self.tokenizer_json()
        if pipeline is not None:
            files["tokenizer.json"] = json.dumps(
                {"version": "1.0", "truncation": None, "padding": None,
                 "added_tokens": [t.to_dict(i) for i, t in self.added_vocabulary], **pipeline},
                ensure_ascii=False, indent=2)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return [str(folder / name) for name in files]

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
