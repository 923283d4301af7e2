"""`AutoTokenizer.from_pretrained`: pick the tokenizer class from what a folder holds.

    >>> tok = AutoTokenizer.from_pretrained("weights/real/gpt2-tokenizer")   # doctest: +SKIP
    >>> type(tok).__name__                                           # doctest: +SKIP
    'ByteLevelBPETokenizer'
    >>> type(AutoTokenizer.from_pretrained("weights/real/all-MiniLM-L6-v2")).__name__  # doctest: +SKIP
    'WordPieceTokenizer'

The choice, first answer wins:
1. ``tokenizer.json``'s model type (``BPE`` -> byte-level BPE, ``WordPiece`` -> WordPiece);
2. ``tokenizer_config.json``'s ``tokenizer_class`` (``GPT2Tokenizer``, ``RobertaTokenizer``, ...);
3. ``config.json``'s ``model_type`` (``gpt2``, ``roberta``, ``bart``, ``bert``, ...);
4. the files present (``vocab.json`` + ``merges.txt`` -> BPE, ``vocab.txt`` -> WordPiece).
Each answer is an *algorithm*; ``TOKENIZER_CLASSES`` maps an algorithm to its class, so a new
algorithm plugs in with one line there.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from minitf.hub import resolve
from minitf.tokenizers.base import PreTrainedTokenizer, read_json
from minitf.tokenizers.bpe import ByteLevelBPETokenizer
from minitf.tokenizers.wordpiece import WordPieceTokenizer

# algorithm -> class.
TOKENIZER_CLASSES: dict[str, type[PreTrainedTokenizer]] = {
    "bpe": ByteLevelBPETokenizer,
    "wordpiece": WordPieceTokenizer,
}

# tokenizer_config.json "tokenizer_class" (without "Fast") -> algorithm.
CLASS_NAME_TO_ALGORITHM = {
    "GPT2Tokenizer": "bpe", "RobertaTokenizer": "bpe", "BartTokenizer": "bpe",
    "LongformerTokenizer": "bpe", "GPTNeoXTokenizer": "bpe", "WhisperTokenizer": "bpe",
    "CodeGenTokenizer": "bpe", "LEDTokenizer": "bpe", "MvpTokenizer": "bpe",
    "BertTokenizer": "wordpiece", "DistilBertTokenizer": "wordpiece",
    "ElectraTokenizer": "wordpiece", "MPNetTokenizer": "wordpiece",
}

# config.json "model_type" -> algorithm.
MODEL_TYPE_TO_ALGORITHM = {
    "gpt2": "bpe", "gpt_neo": "bpe", "gptj": "bpe", "roberta": "bpe", "bart": "bpe",
    "longformer": "bpe", "whisper": "bpe", "led": "bpe", "codegen": "bpe",
    "bert": "wordpiece", "distilbert": "wordpiece", "electra": "wordpiece", "mpnet": "wordpiece",
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
    if (folder / "config.json").is_file():
        model_type = str(read_json(folder / "config.json").get("model_type") or "")
        if model_type in MODEL_TYPE_TO_ALGORITHM:
            return MODEL_TYPE_TO_ALGORITHM[model_type]
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
                          f"vocab.json + merges.txt, or vocab.txt (found: {present or 'nothing'})")
        if algorithm not in TOKENIZER_CLASSES:
            raise ValueError(f"{folder}: tokenizer model {algorithm!r} is not supported by minitf "
                             f"(supported: {sorted(TOKENIZER_CLASSES)})")
        return TOKENIZER_CLASSES[algorithm].from_pretrained(folder, **kwargs)
