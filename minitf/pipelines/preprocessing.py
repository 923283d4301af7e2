"""Which pre-processor a pipeline holds: a tokenizer, an image processor or a feature extractor.

Text goes through a tokenizer, an image through an image processor (resize, normalise ->
``pixel_values``), audio through a feature extractor (log-Mel -> ``input_features``). A
pipeline keeps whichever one its model needs as ``pipe.preprocessor`` and loads it from the
model's folder the way transformers' ``AutoProcessor`` reads a folder:

1. tokenizer files (``tokenizer.json``, ``vocab.json`` + ``merges.txt``, ``vocab.txt``, or
   Marian's SentencePiece ``source.spm``):
   a tokenizer, through `AutoTokenizer`;
2. ``preprocessor_config.json``: its ``image_processor_type`` or ``feature_extractor_type``
   names the class (``"ViTImageProcessor"``, ``"WhisperFeatureExtractor"``), looked up in
   `PREPROCESSORS`, filled by `register_preprocessor`, so a new kind plugs in from its own
   module without editing the pipelines;
3. anything else: a clear error that says what was looked for and what to pass instead.

A pipeline class names the kinds it can use (``preprocessor_kinds``, best first); text tasks
take only a tokenizer.

    >>> tok = load_preprocessor("weights/tiny-bert", kinds=("tokenizer",))
    >>> preprocessor_kind(tok)
    'tokenizer'
    >>> @register_preprocessor("image_processor", "ToyImageProcessor")
    ... class ToyImageProcessor:
    ...     @classmethod
    ...     def from_pretrained(cls, folder):
    ...         return cls()
    >>> PREPROCESSORS["ToyImageProcessor"] == ("image_processor", ToyImageProcessor)
    True
    >>> del PREPROCESSORS["ToyImageProcessor"]
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..hub import resolve

KINDS = ("tokenizer", "image_processor", "feature_extractor")

# preprocessor_config.json's class name -> (kind, class with .from_pretrained(folder))
PREPROCESSORS: dict[str, tuple[str, type]] = {}

# the keys of preprocessor_config.json that name the class, in the order transformers reads them
_CLASS_KEYS = ("image_processor_type", "feature_extractor_type", "processor_class")


def register_preprocessor(kind: str, *names: str):
    """Class decorator: ``@register_preprocessor("image_processor", "ViTImageProcessor",
    "ViTFeatureExtractor")`` lets every pipeline load that class from a folder whose
    preprocessor_config.json names it (old checkpoints use the older names)."""
    if kind not in KINDS[1:]:
        raise ValueError(f"register_preprocessor: kind must be one of {list(KINDS[1:])} "
                         f"(got {kind!r}); tokenizers come from AutoTokenizer")
    if not names:
        raise ValueError("register_preprocessor: give the class name(s) that "
                         "preprocessor_config.json uses for it")

    def wrap(cls):
        if not callable(getattr(cls, "from_pretrained", None)):
            raise TypeError(f"{cls.__name__} needs a from_pretrained(folder) classmethod "
                            f"to be a pipeline preprocessor")
        for name in names:
            PREPROCESSORS[name] = (kind, cls)
        return cls

    return wrap


def has_tokenizer_files(folder: Path) -> bool:
    """Whether `folder` holds the files AutoTokenizer reads."""
    return ((folder / "tokenizer.json").is_file() or (folder / "vocab.txt").is_file()
            or (folder / "source.spm").is_file()
            or ((folder / "vocab.json").is_file() and (folder / "merges.txt").is_file()))


def preprocessor_kind(obj) -> str:
    """'tokenizer', 'image_processor' or 'feature_extractor' for a loaded pre-processor."""
    from ..tokenizers import PreTrainedTokenizer

    if isinstance(obj, PreTrainedTokenizer):
        return "tokenizer"
    for kind, cls in PREPROCESSORS.values():
        if isinstance(obj, cls):
            return kind
    # duck typing for objects from elsewhere: a tokenizer turns ids back into text
    if callable(getattr(obj, "decode", None)) and callable(getattr(obj, "convert_ids_to_tokens", None)):
        return "tokenizer"
    if "image" in type(obj).__name__.lower():
        return "image_processor"
    return "feature_extractor"


def load_preprocessor(name_or_path: str | os.PathLike, kinds=KINDS, task: str | None = None):
    """The pre-processor in `name_or_path`'s folder (a folder or Hub id), of one of `kinds`.

    Raises an OSError that names the folder when it has none of them, and a ValueError when
    preprocessor_config.json names a class minitf does not have (or one of the wrong kind).
    """
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown preprocessor kind(s) {unknown}; known: {list(KINDS)}")
    folder = resolve(name_or_path, task=task)
    who = f"{task}: " if task else ""
    entry = _configured(folder)
    for kind in kinds:
        if kind == "tokenizer" and has_tokenizer_files(folder):
            from ..tokenizers import AutoTokenizer

            return AutoTokenizer.from_pretrained(name_or_path)
        if entry is not None and entry[1][0] == kind:
            return entry[1][1].from_pretrained(folder)
    if entry is not None:
        class_name, (got_kind, _) = entry
        raise ValueError(f"{who}{folder} has {_a(got_kind)} ({class_name}), but this pipeline "
                         f"needs {' or '.join(map(_a, kinds))}; pass {_arguments(kinds)} "
                         f"(or the right model)")
    config = folder / "preprocessor_config.json"
    if config.is_file() and set(kinds) - {"tokenizer"}:
        registered = sorted(PREPROCESSORS) or "none yet"
        raise ValueError(f"{who}{config} names {_class_names(config) or 'no class'} "
                         f"({', '.join(_CLASS_KEYS)}), and minitf has no pre-processor "
                         f"registered under that name (registered: {registered})")
    wanted = {"tokenizer": "tokenizer files (tokenizer.json, vocab.json + merges.txt, vocab.txt, "
                           "or source.spm)",
              "image_processor": "a preprocessor_config.json naming an image processor",
              "feature_extractor": "a preprocessor_config.json naming a feature extractor"}
    present = sorted(p.name for p in folder.iterdir())
    raise OSError(f"{who}{folder} has no pre-processor this pipeline can use: looked for "
                  f"{' or '.join(wanted[k] for k in kinds)} (found: {present or 'nothing'}). "
                  f"Pass {_arguments(kinds)} with a folder or object that has one.")


def _a(kind: str) -> str:
    """'a tokenizer', 'an image processor', 'a feature extractor'."""
    words = kind.replace("_", " ")
    return ("an " if words[0] in "aeiou" else "a ") + words


def _arguments(kinds) -> str:
    """The pipeline(...) keyword(s) that take a pre-processor of these kinds."""
    return " or ".join(f"{kind}=" for kind in kinds)


def _class_names(config: Path) -> list[str]:
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"{config} is not valid JSON ({err})") from None
    return [str(data[key]) for key in _CLASS_KEYS if data.get(key)]


def _configured(folder: Path):
    """(class name, (kind, class)) that preprocessor_config.json asks for, or None."""
    config = folder / "preprocessor_config.json"
    if not config.is_file():
        return None
    for name in _class_names(config):
        if name in PREPROCESSORS:
            return name, PREPROCESSORS[name]
    return None
