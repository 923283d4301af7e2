"""`MarianTokenizer`: the tokenizer of the Marian translation models (Helsinki-NLP/opus-mt-*).

A Marian folder holds two SentencePiece Unigram models and one vocabulary:

- ``source.spm`` cuts the text to translate into pieces, ``target.spm`` cuts translations
  (the ``labels`` of training); both are read by ``spm_model.py`` (normalizer + Unigram);
- ``vocab.json`` maps every piece of both models to the model's ids (``</s>`` 0, ``<unk>`` 1,
  ..., ``<pad>`` last); a piece it lacks becomes ``<unk>``. With ``separate_vocabs`` the
  target side has its own ``target_vocab.json``;
- ``tokenizer_config.json``: ``source_lang``, ``target_lang``, ``separate_vocabs``,
  ``model_max_length`` (512) and the special tokens.

Encoding a text: special tokens written in it (``</s>``) are kept whole, a language code
``>>fra<<`` at the start of the text is one token (multilingual models read the target
language from it), the rest goes through the SentencePiece model, and ``</s>`` is appended.
Decoding joins the pieces back: ``▁`` is a space.

    >>> tok = MarianTokenizer.from_pretrained("weights/tiny-marian-tokenizer")
    >>> tok.tokenize("Hello world!")
    ['▁He', 'll', 'o', '▁wor', 'ld', '!']
    >>> enc = tok(["Hello world!", "Bonjour"], text_target=["Bonjour le monde !", "Hi"], padding=True)
    >>> enc.input_ids
    [[397, 108, 51, 291, 425, 96, 0], [208, 93, 112, 176, 29, 0, 705]]
    >>> enc.attention_mask[1], enc.labels[1]
    ([1, 1, 1, 1, 1, 1, 0], [5, 593, 53, 0, 705, 705, 705, 705, 705, 705, 705])
    >>> tok.decode(enc.labels[0]), tok.decode(enc.labels[0], skip_special_tokens=True)
    ('Bonjour le monde !</s>', 'Bonjour le monde !')
    >>> tok.supported_language_codes
    ['>>fra<<', '>>deu<<', '>>spa<<']

The ids are those of transformers' ``MarianTokenizer`` (tests/test_tokenizer_unigram.py checks a
varied corpus); unlike it, minitf also gives token offsets (``return_offsets_mapping=True``).
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

from minitf.tokenizers.base import PreTrainedTokenizer
from minitf.tokenizers.encoding import BatchEncoding
from minitf.tokenizers.normalizer import SPACE_SYMBOL
from minitf.tokenizers.post_processing import TemplatePostProcessor, clean_up_tokenization
from minitf.tokenizers.readers import (
    added_tokens_with_ids, check_vocab, missing_files_error, read_json, read_tokenizer_config,
    tokenizer_settings,
)
from minitf.tokenizers.spm_model import SentencePieceProcessor, read_spm_model

_DEFAULT_SPECIALS = {"unk_token": "<unk>", "eos_token": "</s>", "pad_token": "<pad>"}


class MarianTokenizer(PreTrainedTokenizer):
    """Two SentencePiece models (source, target) and the vocabulary of a Marian model.

    source_spm / target_spm: the SentencePiece models (``SentencePieceProcessor``).
    vocab: piece -> id for the source side (and the target side, unless `target_vocab`).
    target_vocab: the target side's own vocabulary (``separate_vocabs``), or None.

    The hooks of ``PreTrainedTokenizer`` it fills in: ``tokenize_piece`` (language code +
    SentencePiece), ``tokenize_word``, ``convert_tokens_to_string`` (SentencePiece's decoder
    between special tokens), ``from_folder`` and the ``save_pretrained`` hooks; ``__call__``
    adds ``text_target``.
    """

    def __init__(self, source_spm: SentencePieceProcessor, target_spm: SentencePieceProcessor,
                 vocab: dict[str, int], *, target_vocab: dict[str, int] | None = None,
                 source_lang: str | None = None, target_lang: str | None = None,
                 model_max_length: int | None = 512,
                 **kwargs: Any):
        kwargs = {**_DEFAULT_SPECIALS, **kwargs}
        super().__init__(vocab, post_processor=TemplatePostProcessor(
            single=[("A", 0), (kwargs["eos_token"], 0)], pair=[("A", 0), ("B", 0), (kwargs["eos_token"], 0)],
            kind="TemplateProcessing"), model_max_length=model_max_length, **kwargs)
        for name in ("unk_token", "pad_token"):
            token = getattr(self, name)
            if token not in self.vocab:
                raise ValueError(f"the vocabulary has no {name} {token!r}; Marian needs it "
                                 f"(vocab.json holds {len(self.vocab)} pieces)")
        self.source_spm = source_spm
        self.target_spm = target_spm
        self.target_vocab = dict(target_vocab) if target_vocab is not None else None
        self.separate_vocabs = target_vocab is not None
        # ids -> pieces for decoding: the target side's, as transformers (model outputs are targets)
        self.decoder = {i: t for t, i in (self.target_vocab or self.vocab).items()}
        self.source_lang = source_lang
        self.target_lang = target_lang
        self.tokenizer_class = "MarianTokenizer"
        self._target_mode = False

    @property
    def supported_language_codes(self) -> list[str]:
        """The ``>>xx<<`` target-language tokens of a multilingual model (shared vocab only)."""
        if self.separate_vocabs:
            return []
        return [t for t in self.vocab if t.startswith(">>") and t.endswith("<<")]

    # ---- which side ------------------------------------------------------------------------
    @property
    def current_spm(self) -> SentencePieceProcessor:
        return self.target_spm if self._target_mode else self.source_spm

    @property
    def current_vocab(self) -> dict[str, int]:
        return self.target_vocab if (self._target_mode and self.target_vocab is not None) else self.vocab

    @contextlib.contextmanager
    def as_target_tokenizer(self) -> Iterator["MarianTokenizer"]:
        """Tokenize with the target side inside the block (older course code; prefer
        ``tok(..., text_target=...)``)."""
        previous, self._target_mode = self._target_mode, True
        try:
            yield self
        finally:
            self._target_mode = previous

    # ---- encoding --------------------------------------------------------------------------
    def _piece_id(self, piece: str) -> int:
        vocab = self.current_vocab
        return vocab.get(piece, vocab[self.unk_token])

    def tokenize_piece(self, text: str, origin: Sequence[int]):
        """A language code ``>>xx<<`` at the start is one token (as transformers: from ``>>``
        to the first ``<<``); the rest is cut by the current side's SentencePiece model."""
        ids, tokens, offsets, word_index = [], [], [], []
        rest = 0
        if text.startswith(">>") and (end := text.find("<<")) != -1:
            rest = end + 2
            ids.append(self._piece_id(text[:rest]))
            tokens.append(text[:rest])
            offsets.append((origin[0], origin[rest - 1] + 1))
            word_index.append(0)
        word = len(ids) - 1
        for piece, _, s, e in self.current_spm.encode(text[rest:]):
            if piece.startswith(SPACE_SYMBOL) or word < 0:
                word += 1
            ids.append(self._piece_id(piece))
            tokens.append(piece)
            offsets.append((origin[rest + s], origin[rest + e - 1] + 1))
            word_index.append(word)
        return ids, tokens, offsets, word_index

    def tokenize_word(self, word: str) -> list[tuple[int, str, int, int]]:
        """The pieces of one word with the current side's model."""
        return [(self._piece_id(p), p, s, e) for p, _, s, e in self.current_spm.encode(word)]

    def __call__(self, text: str | Sequence[str] | None = None, text_pair: Any = None, *,
                 text_target: str | Sequence[str] | None = None, text_pair_target: Any = None,
                 **kwargs: Any) -> BatchEncoding:
        """``tok(sources)``, ``tok(text_target=targets)`` (the target side, as input_ids) or
        ``tok(sources, text_target=targets)`` (``labels`` = the targets' ids, padded on
        their own), with the options of ``PreTrainedTokenizer.__call__``."""
        if text is None and text_target is None:
            raise ValueError("give text (the sources), text_target (the targets) or both")
        encoding = None
        if text is not None:
            encoding = super().__call__(text, text_pair, **kwargs)
        if text_target is None:
            return encoding
        with self.as_target_tokenizer():
            target = super().__call__(text_target, text_pair_target, **kwargs)
        if encoding is None:
            return target
        encoding["labels"] = target["input_ids"]
        return encoding

    # ---- decoding --------------------------------------------------------------------------
    def convert_ids_to_tokens(self, ids: Any, skip_special_tokens: bool = False) -> str | list[str]:
        """Ids to pieces with the target side's vocabulary (an id it lacks: ``<unk>``)."""
        single = isinstance(ids, int) or (hasattr(ids, "ndim") and ids.ndim == 0)
        special = set(self.all_special_ids)
        tokens = [self._decode_token(i) for i in self._as_id_list(ids, "ids")
                  if not (skip_special_tokens and i in special)]
        return tokens[0] if single else tokens

    def _decode_token(self, token_id: int) -> str:
        added = self.added_vocabulary.tokens.get(token_id)
        return added.content if added is not None else self.decoder.get(token_id, self.unk_token)

    def convert_tokens_to_string(self, tokens: Sequence[str], use_source_tokenizer: bool = False) -> str:
        """SentencePiece's decoder on the pieces between special tokens (which are written as
        they are, each followed by a space), then ``▁`` -> space, stripped."""
        spm = self.source_spm if use_source_tokenizer else self.target_spm
        special = set(self.all_special_tokens)
        out, pending = "", []
        for token in tokens:
            if token in special:
                out += spm.decode_pieces(pending) + token + " "
                pending = []
            else:
                pending.append(token)
        out += spm.decode_pieces(pending)
        return out.replace(SPACE_SYMBOL, " ").strip()

    def decode(self, token_ids: Any, skip_special_tokens: bool = False,
               clean_up_tokenization_spaces: bool | None = None,
               use_source_tokenizer: bool = False) -> str:
        """Ids back to text with the target side (``use_source_tokenizer=True``: the source)."""
        tokens = self.convert_ids_to_tokens(token_ids, skip_special_tokens=skip_special_tokens)
        tokens = [tokens] if isinstance(tokens, str) else tokens
        if skip_special_tokens:   # also the <unk> that an id missing from the vocabulary became
            special = set(self.all_special_tokens)
            tokens = [t for t in tokens if t not in special]
        text = self.convert_tokens_to_string(tokens, use_source_tokenizer=use_source_tokenizer)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        return clean_up_tokenization(text) if clean_up_tokenization_spaces else text

    def batch_decode(self, sequences: Any, skip_special_tokens: bool = False,
                     clean_up_tokenization_spaces: bool | None = None,
                     use_source_tokenizer: bool = False) -> list[str]:
        if isinstance(sequences, BatchEncoding):
            sequences = sequences["input_ids"]
        if hasattr(sequences, "ndim") and sequences.ndim != 2:
            raise ValueError(f"batch_decode takes a 2-D array (batch, seq), got shape {sequences.shape}")
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces, use_source_tokenizer)
                for s in sequences]

    # ---- loading and saving ----------------------------------------------------------------
    @classmethod
    def from_folder(cls, folder: Path, **kwargs: Any) -> "MarianTokenizer":
        """source.spm, target.spm, vocab.json (+ target_vocab.json with separate_vocabs) and
        tokenizer_config.json; keyword arguments override the config."""
        folder = Path(folder)
        config = read_tokenizer_config(folder)
        separate = bool(kwargs.pop("separate_vocabs", config.get("separate_vocabs", False)))
        needed = ["source.spm", "target.spm", "vocab.json"] + (["target_vocab.json"] if separate else [])
        missing = [name for name in needed if not (folder / name).is_file()]
        if missing:
            raise missing_files_error(folder, "Marian tokenizer", " + ".join(needed)
                                      + f" (missing: {', '.join(missing)})")
        source = SentencePieceProcessor(read_spm_model(folder / "source.spm"), str(folder / "source.spm"))
        target = SentencePieceProcessor(read_spm_model(folder / "target.spm"), str(folder / "target.spm"))
        vocab = check_vocab(read_json(folder / "vocab.json"), folder / "vocab.json")
        target_vocab = None
        if separate:
            target_vocab = check_vocab(read_json(folder / "target_vocab.json"), folder / "target_vocab.json")
        settings = tokenizer_settings(config, _DEFAULT_SPECIALS, set(vocab))
        for name in ("unk_token", "pad_token"):
            token = settings.get(name) or _DEFAULT_SPECIALS[name]
            token = token["content"] if isinstance(token, dict) else str(token)
            if token not in vocab:
                raise ValueError(f"{folder / 'vocab.json'}: no {name} {token!r} in the vocabulary")
        settings.setdefault("model_max_length", 512)
        added = added_tokens_with_ids(folder, config, vocab, _DEFAULT_SPECIALS)
        args = {"source_lang": config.get("source_lang"), "target_lang": config.get("target_lang"),
                **settings, **kwargs}
        return cls(source, target, vocab, target_vocab=target_vocab,
                   added_tokens=added, **args)

    def vocabulary_files(self) -> dict[str, str]:
        files = {"vocab.json": json.dumps(self.vocab, ensure_ascii=False, indent=2)}
        if self.target_vocab is not None:
            files["target_vocab.json"] = json.dumps(self.target_vocab, ensure_ascii=False, indent=2)
        return files

    def tokenizer_config(self) -> dict[str, Any]:
        return {**super().tokenizer_config(), "source_lang": self.source_lang,
                "target_lang": self.target_lang, "separate_vocabs": self.separate_vocabs}

    def save_pretrained(self, folder: str | os.PathLike) -> list[str]:
        """The JSON files of the base class, plus source.spm and target.spm (binary)."""
        paths = super().save_pretrained(folder)
        for name, spm in (("source.spm", self.source_spm), ("target.spm", self.target_spm)):
            (Path(folder) / name).write_bytes(spm.model_proto.serialized)
            paths.append(str(Path(folder) / name))
        return paths
