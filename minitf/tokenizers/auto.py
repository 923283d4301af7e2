"""`AutoTokenizer.from_pretrained`: pick the tokenizer class from what a folder holds.

    >>> tok = AutoTokenizer.from_pretrained("weights/real/gpt2-tokenizer")
    >>> type(tok).__name__
    'ByteLevelBPETokenizer'
    >>> type(AutoTokenizer.from_pretrained("weights/real/all-MiniLM-L6-v2")).__name__
    'WordPieceTokenizer'

The choice, first answer wins:
1. ``tokenizer.json``'s model type (``BPE`` -> byte-level BPE, ``WordPiece`` -> WordPiece);
2. ``tokenizer_config.json``'s ``tokenizer_class`` (``GPT2Tokenizer``, ``RobertaTokenizer``, ...);
3. ``config.json``'s ``model_type`` (``gpt2``, ``roberta``, ``bart``, ``bert``, ...), through the
   class transformers picks for it (both tables are in ``readers.py``, which the algorithms
   read too);
4. the files present (``vocab.json`` + ``merges.txt`` -> BPE, ``vocab.txt`` -> WordPiece).
Each answer is an *algorithm*; ``TOKENIZER_CLASSES`` maps an algorithm to its class, so a new
algorithm plugs in with one line there.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from minitf.hub import resolve
from minitf.tokenizers.base import PreTrainedTokenizer
from minitf.tokenizers.bpe import ByteLevelBPETokenizer
from minitf.tokenizers.marian import MarianTokenizer
from minitf.tokenizers.readers import (
    CLASS_NAME_TO_ALGORITHM, MODEL_TYPE_TO_CLASS, read_json, read_model_type,
)
from minitf.tokenizers.unigram import UnigramTokenizer
from minitf.tokenizers.wordpiece import WordPieceTokenizer

# algorithm -> class.
TOKENIZER_CLASSES: dict[str, type[PreTrainedTokenizer]] = {
    "bpe": ByteLevelBPETokenizer,
    "wordpiece": WordPieceTokenizer,
    "unigram": UnigramTokenizer,
    "marian": MarianTokenizer,
}


def detect_algorithm(folder: Path) -> str | None:
    """'bpe', 'wordpiece', ... for the tokenizer files in `folder`, or None if it cannot tell."""
    if (folder / "tokenizer.json").is_file():
        model = read_json(folder / "tokenizer.json").get("model", {})
        kind = str(model.get("type", "BPE" if "merges" in model else "")).lower()
        if kind:
            return kind
    if (folder / "tokenizer_config.json").is_file():
        name = str(read_json(folder / "tokenizer_config.json").get("tokenizer_class") or "")
        if name.removesuffix("Fast") in CLASS_NAME_TO_ALGORITHM:
            return CLASS_NAME_TO_ALGORITHM[name.removesuffix("Fast")]
    model_class = MODEL_TYPE_TO_CLASS.get(read_model_type(folder), "")
    if model_class in CLASS_NAME_TO_ALGORITHM:
        return CLASS_NAME_TO_ALGORITHM[model_class]
    if (folder / "source.spm").is_file() and (folder / "target.spm").is_file():
        return "marian"
    if (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
        return "bpe"
    if (folder / "vocab.txt").is_file():
        return "wordpiece"
    return None


class AutoTokenizer:
    """``AutoTokenizer.from_pretrained(name_or_path, **kwargs)`` as in transformers."""

    def __init__(self) -> None:
        raise TypeError("use AutoTokenizer.from_pretrained(name_or_path)")

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any) -> PreTrainedTokenizer:
        folder = resolve(name_or_path)
        algorithm = detect_algorithm(folder)
        if algorithm is None:
            present = sorted(p.name for p in folder.iterdir())
            raise OSError(f"no tokenizer files in {folder}: looked for tokenizer.json, "
                          f"vocab.json + merges.txt, vocab.txt, or source.spm + target.spm (found: {present or 'nothing'})")
        if algorithm not in TOKENIZER_CLASSES:
            raise ValueError(f"{folder}: tokenizer model {algorithm!r} is not supported by minitf "
                             f"(supported: {sorted(TOKENIZER_CLASSES)})")
        return TOKENIZER_CLASSES[algorithm].from_pretrained(folder, **kwargs)
