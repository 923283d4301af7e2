"""Reading a tokenizer's files, the parts every algorithm shares.

A Hugging Face model folder describes its tokenizer in up to four JSON files:

- ``tokenizer.json`` (the `tokenizers` library's file): the whole pipeline -- ``model``
  (type, vocabulary, merges), ``normalizer``, ``pre_tokenizer``, ``post_processor``,
  ``decoder`` -- and the ``added_tokens`` with their ids and flags;
  `read_tokenizer_json` checks it and `read_added_tokens` reads its added tokens;
- ``tokenizer_config.json`` (transformers' file): the class name, ``model_max_length``,
  padding side, the special tokens and, in newer files, ``added_tokens_decoder``;
- ``special_tokens_map.json``: the special tokens again (older folders), read together with
  the config by `read_tokenizer_config`;
- ``config.json``'s ``model_type``, which names the tokenizer class when nothing else does
  (`tokenizer_class_name`).

`tokenizer_settings` turns these into the keyword arguments of the tokenizer classes. Each
algorithm reads its own vocabulary files (``vocab.json`` + ``merges.txt`` in ``bpe.py``,
``vocab.txt`` in ``wordpiece.py``) and the parts of ``tokenizer.json`` only it understands.

    >>> config = read_tokenizer_config(Path("weights/real/all-MiniLM-L6-v2"))
    >>> tokenizer_class_name(config, ""), config["model_max_length"], config["mask_token"]
    ('BertTokenizer', 512, '[MASK]')
    >>> settings = tokenizer_settings(config, {}, known=set())
    >>> settings["cls_token"], settings["model_max_length"]
    ('[CLS]', 512)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from minitf.tokenizers.added_tokens import SPECIAL_TOKENS_ATTRIBUTES, AddedToken
from minitf.tokenizers.padding import VERY_LARGE_INTEGER

# config.json "model_type" -> the tokenizer class transformers picks for it.
MODEL_TYPE_TO_CLASS = {
    "gpt2": "GPT2Tokenizer", "gpt_neo": "GPT2Tokenizer", "gptj": "GPT2Tokenizer",
    "roberta": "RobertaTokenizer", "bart": "BartTokenizer", "longformer": "LongformerTokenizer",
    "whisper": "WhisperTokenizer", "led": "LEDTokenizer", "codegen": "CodeGenTokenizer",
    "bert": "BertTokenizer", "distilbert": "DistilBertTokenizer", "electra": "ElectraTokenizer",
    "mpnet": "MPNetTokenizer", "mobilebert": "MobileBertTokenizer",
    "squeezebert": "SqueezeBertTokenizer", "funnel": "FunnelTokenizer",
    "convbert": "ConvBertTokenizer", "layoutlm": "LayoutLMTokenizer", "lxmert": "LxmertTokenizer",
    "marian": "MarianTokenizer",
}

# tokenizer class (tokenizer_config.json "tokenizer_class" without "Fast") -> algorithm.
CLASS_NAME_TO_ALGORITHM = {
    "GPT2Tokenizer": "bpe", "RobertaTokenizer": "bpe", "BartTokenizer": "bpe",
    "LongformerTokenizer": "bpe", "GPTNeoXTokenizer": "bpe", "WhisperTokenizer": "bpe",
    "CodeGenTokenizer": "bpe", "LEDTokenizer": "bpe", "MvpTokenizer": "bpe",
    "BertTokenizer": "wordpiece", "DistilBertTokenizer": "wordpiece",
    "ElectraTokenizer": "wordpiece", "MPNetTokenizer": "wordpiece",
    "MobileBertTokenizer": "wordpiece", "SqueezeBertTokenizer": "wordpiece",
    "FunnelTokenizer": "wordpiece", "ConvBertTokenizer": "wordpiece",
    "LayoutLMTokenizer": "wordpiece", "LxmertTokenizer": "wordpiece",
    "MarianTokenizer": "marian",
}


def read_json(path: Path) -> Any:
    """Read a JSON file; a syntax error names the file, line and column."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None


def read_tokenizer_config(folder: Path) -> dict[str, Any]:
    """tokenizer_config.json, completed by special_tokens_map.json (the config wins on a clash)."""
    config: dict[str, Any] = {}
    if (folder / "tokenizer_config.json").is_file():
        config.update(read_json(folder / "tokenizer_config.json"))
    if (folder / "special_tokens_map.json").is_file():
        for key, value in read_json(folder / "special_tokens_map.json").items():
            config.setdefault(key, value)
    return config


def read_model_type(folder: Path) -> str:
    """config.json's ``model_type`` ("" without config.json)."""
    if not (folder / "config.json").is_file():
        return ""
    return str(read_json(folder / "config.json").get("model_type") or "")


def tokenizer_class_name(config: dict[str, Any], model_type: str) -> str:
    """The tokenizer class without "Fast": the config's ``tokenizer_class``, else the class of
    `model_type`, else ""."""
    name = str(config.get("tokenizer_class") or "").removesuffix("Fast")
    return name or MODEL_TYPE_TO_CLASS.get(model_type, "")


def missing_files_error(folder: Path, what: str, looked_for: str) -> OSError:
    """The error for a folder without the files of `what` (it lists what the folder holds)."""
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    return OSError(f"no {what} files in {folder}: looked for {looked_for} "
                   f"(found: {present or 'nothing'})")


def read_tokenizer_json(path: Path, model_type: str) -> dict[str, Any]:
    """tokenizer.json, checked to hold a ``model`` of type `model_type` (a model without a
    "type" counts as BPE)."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise ValueError(f"{path}: not a tokenizer.json (no 'model' object)")
    model = data["model"]
    if model.get("type", "BPE") != model_type:
        raise ValueError(f"{path}: model type {model.get('type')!r} is not {model_type}")
    return data


def single_pre_tokenizer(data: dict) -> Any:
    """tokenizer.json's pre_tokenizer, unwrapped when it is a Sequence of just one."""
    pre = data.get("pre_tokenizer")
    if isinstance(pre, dict) and pre.get("type") == "Sequence" and len(pre.get("pretokenizers", [])) == 1:
        pre = pre["pretokenizers"][0]
    return pre


def check_vocab(vocab: Any, path: Path) -> dict[str, int]:
    """A vocabulary token -> id with non-negative integer ids, each id used once."""
    if not isinstance(vocab, dict):
        raise ValueError(f"{path}: the vocabulary must be a JSON object token -> id, got "
                         f"{type(vocab).__name__}")
    seen: dict[int, str] = {}
    for token, token_id in vocab.items():
        if not isinstance(token_id, int) or isinstance(token_id, bool) or token_id < 0:
            raise ValueError(f"{path}: token {token!r} has id {token_id!r}; ids must be "
                             f"non-negative integers")
        if token_id in seen:
            raise ValueError(f"{path}: tokens {seen[token_id]!r} and {token!r} share id {token_id}")
        seen[token_id] = token
    return vocab


def read_added_tokens(data: dict, path: Path) -> list[tuple[int, AddedToken]]:
    """tokenizer.json's ``added_tokens``: (id, AddedToken) pairs."""
    added = []
    for k, entry in enumerate(data.get("added_tokens") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), int):
            raise ValueError(f"{path}: added_tokens[{k}] needs an integer 'id' and a 'content', got {entry!r}")
        added.append((entry["id"], AddedToken.from_any(entry, special=entry.get("special", False))))
    return added


def added_tokens_with_ids(folder: Path, config: dict[str, Any], vocab: dict[str, int],
                          default_specials: dict[str, Any], specials_normalized: bool | None = None
                          ) -> list[tuple[int, AddedToken]]:
    """The added tokens of a folder without tokenizer.json, gathered as transformers does when
    it loads the files: tokenizer_config.json's `added_tokens_decoder` (with ids),
    `added_tokens.json`, then the special tokens (`default_specials` when the config names
    none). Tokens without an id take the next free ids after the vocab.
    `specials_normalized`: force the special tokens' `normalized` flag (None keeps it)."""
    added: dict[str, AddedToken] = {}
    ids: dict[str, int] = {}
    # Newer tokenizer_config.json files list every added token with its id and flags.
    for key, entry in (config.get("added_tokens_decoder") or {}).items():
        token = AddedToken.from_any(entry, special=entry.get("special", False))
        added[token.content], ids[token.content] = token, int(key)
    if (folder / "added_tokens.json").is_file():
        for content, token_id in read_json(folder / "added_tokens.json").items():
            added.setdefault(content, AddedToken(content))
            ids.setdefault(content, int(token_id))
    specials = {k: config[k] for k in SPECIAL_TOKENS_ATTRIBUTES if k in config} or default_specials
    for value in [*specials.values(), *config.get("additional_special_tokens", [])]:
        if value is None:
            continue
        token = AddedToken.from_any(value)
        token.special = True
        if specials_normalized is not None:
            token.normalized = specials_normalized
        added.setdefault(token.content, token)
    next_id = max([len(vocab) - 1, *vocab.values(), *ids.values()]) + 1
    pairs = []
    for content, token in added.items():
        token_id = ids.get(content, vocab.get(content))
        if token_id is None:
            token_id, next_id = next_id, next_id + 1
        pairs.append((token_id, token))
    return pairs


def tokenizer_settings(config: dict[str, Any], default_specials: dict[str, Any],
                       known: set[str]) -> dict[str, Any]:
    """Keyword arguments of a tokenizer class from tokenizer_config.json: its special tokens
    (when it names none, those of `default_specials` that are `known` tokens, the others None),
    model_max_length (None for transformers' "no maximum", ~1e30), padding and truncation
    sides and clean_up_tokenization_spaces."""
    settings: dict[str, Any] = {name: config[name] for name in
                                (*SPECIAL_TOKENS_ATTRIBUTES, "additional_special_tokens") if name in config}
    if not any(name in config for name in SPECIAL_TOKENS_ATTRIBUTES):
        settings.update({k: (v if AddedToken.from_any(v).content in known else None)
                         for k, v in default_specials.items()})
    for key in ("model_max_length", "padding_side", "truncation_side", "clean_up_tokenization_spaces"):
        if key in config:
            settings[key] = config[key]
    if settings.get("model_max_length") is not None and settings["model_max_length"] >= VERY_LARGE_INTEGER // 10:
        settings["model_max_length"] = None
    return settings

