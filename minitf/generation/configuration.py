"""`GenerationConfig`: every option `generate()` understands, with transformers 4.x defaults.

A checkpoint ships its decoding defaults in `generation_config.json` (BART: 4 beams, length
penalty 2.0, no repeated trigrams ...); older ones keep them in `config.json`, which is read
when there is no generation_config.json, as transformers 4.x does. `model.generation_config`
is one, and `generate()` merges three layers, later ones winning:

    model.generation_config  ->  generate(generation_config=...)  ->  generate(**kwargs)

`FIELDS` is the one list of options: the CLI and the text-generation pipeline build their
arguments from it.

    >>> cfg = GenerationConfig(num_beams=4, no_repeat_ngram_size=3)
    >>> cfg.max_new_tokens = 40                       # attribute access, as in transformers
    >>> cfg.to_diff_dict()                            # what differs from the defaults
    {'max_new_tokens': 40, 'num_beams': 4, 'no_repeat_ngram_size': 3}
    >>> cfg.update(top_k=10, lsh_rotations=None)      # returns what is not a generation option
    {'lsh_rotations': None}
    >>> cfg.top_k
    10
"""
from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path
from typing import NamedTuple

CONFIG_NAME = "generation_config.json"


class Field(NamedTuple):
    default: object
    kind: str  # int, float, bool, ids (an int or a list of ints), id_lists, strs, early_stopping
    help: str


# name -> Field, grouped as transformers' GenerationConfig documents them
FIELDS: dict[str, Field] = {
    # length
    "max_length": Field(20, "int", "total length, prompt included (its default 20 means 20 new "
                                   "tokens, as in transformers 4.x)"),
    "max_new_tokens": Field(None, "int", "new tokens to generate, prompt not counted (wins over max_length)"),
    "min_length": Field(0, "int", "no EOS before the sequence (prompt included, padding not) has this many tokens"),
    "min_new_tokens": Field(None, "int", "no EOS before this many new tokens"),
    "early_stopping": Field(False, "early_stopping", "beam search: True stops when num_beams "
                                                     "sequences finished, 'never' when none can improve"),
    "stop_strings": Field(None, "strs", "stop a sequence when its text contains one of these"),
    # strategy
    "do_sample": Field(False, "bool", "sample the next token instead of taking the most likely"),
    "num_beams": Field(1, "int", "beam search with this many beams (1: greedy or sampling)"),
    "use_cache": Field(True, "bool", "keep past keys and values (the KV cache); off recomputes every step"),
    # logits processing
    "temperature": Field(1.0, "float", "sampling: divide the logits by this (< 1 sharper, > 1 flatter)"),
    "top_k": Field(50, "int", "sampling: keep the k most likely tokens (0: off)"),
    "top_p": Field(1.0, "float", "sampling: keep the most likely tokens whose probabilities add up to p"),
    "repetition_penalty": Field(1.0, "float", "CTRL penalty on tokens already in the text (> 1 discourages)"),
    "presence_penalty": Field(0.0, "float", "minitf (OpenAI-style): subtract this from every token generated so far"),
    "frequency_penalty": Field(0.0, "float", "minitf (OpenAI-style): subtract this times the count of each generated token"),
    "no_repeat_ngram_size": Field(0, "int", "never repeat an n-gram of this size"),
    "length_penalty": Field(1.0, "float", "beam search: scores are divided by length ** this"),
    "forced_bos_token_id": Field(None, "int", "force this token as the first one generated after a one-token start"),
    "forced_eos_token_id": Field(None, "ids", "force this token (or one of these) when max_length is reached"),
    "bad_words_ids": Field(None, "id_lists", "never generate these token sequences (a list of id "
                                             "lists; Marian bans its pad token with [[pad]])"),
    "suppress_tokens": Field(None, "ids", "never generate these tokens"),
    "begin_suppress_tokens": Field(None, "ids", "do not generate these as the first new token"),
    # output
    "num_return_sequences": Field(1, "int", "sequences returned per prompt"),
    # special tokens
    "pad_token_id": Field(None, "int", "padding, and what finished sequences are filled with (default: EOS)"),
    "bos_token_id": Field(None, "int", "the start token when generate() is given no input_ids"),
    "eos_token_id": Field(None, "ids", "end-of-sequence token(s): a sequence stops after one"),
    "decoder_start_token_id": Field(None, "int", "encoder-decoders: the token the decoder starts "
                                                 "from (BART: </s>, Marian: <pad>)"),
    # randomness
    "seed": Field(None, "int", "minitf: seed for sampling, so the same call gives the same ids "
                               "(without it, the generator minitf.set_seed seeds)"),
}

_SAMPLING_ONLY = ("temperature", "top_p", "top_k")
_BEAM_ONLY = ("early_stopping", "length_penalty")


class GenerationConfig:
    """The options of one generation. Unknown keyword arguments are kept as attributes (a
    checkpoint's generation_config.json may carry family-specific keys), as in transformers."""

    def __init__(self, **kwargs):
        self._from_model_config = bool(kwargs.pop("_from_model_config", False))
        for name, f in FIELDS.items():
            setattr(self, name, copy.deepcopy(kwargs.pop(name, f.default)))
        for name, value in kwargs.items():
            setattr(self, name, value)

    # -- reading and writing -----------------------------------------------------------------
    @classmethod
    def from_dict(cls, config_dict: dict, return_unused_kwargs: bool = False, **kwargs):
        """A config from a dict (generation_config.json's contents), then `kwargs` on top."""
        if not isinstance(config_dict, dict):
            raise TypeError(f"GenerationConfig.from_dict takes a dict (got {type(config_dict).__name__})")
        config = cls(**config_dict)
        unused = config.update(**kwargs)
        return (config, unused) if return_unused_kwargs else config

    @classmethod
    def from_model_config(cls, model_config) -> "GenerationConfig":
        """The generation options a model's config.json holds (the pre-generation_config.json
        way: BART's config.json has num_beams=4 ...). Only known options are taken, and only
        those that are set (not None)."""
        d = model_config.to_dict() if hasattr(model_config, "to_dict") else dict(model_config)
        values = {k: v for k, v in d.items() if k in FIELDS and v is not None}
        return cls(**values, _from_model_config=True)

    @classmethod
    def from_pretrained(cls, name_or_path, config_file_name: str = CONFIG_NAME, **kwargs):
        """Read `generation_config.json` in the folder; without one, the generation options of
        its `config.json` (as transformers 4.x does when a model is loaded)."""
        from ..hub import resolve

        folder = resolve(name_or_path)
        path = Path(folder) / config_file_name
        if path.is_file():
            return cls.from_dict(_read_json(path), **kwargs)
        model_config = Path(folder) / "config.json"
        if model_config.is_file():
            config = cls.from_model_config(_read_json(model_config))
            config.update(**kwargs)
            return config
        raise OSError(f"{folder} has neither {config_file_name} nor config.json to read generation "
                      f"options from; pass the folder of a saved model")

    def to_dict(self) -> dict:
        """Every option and extra attribute (private ones, starting with _, left out)."""
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if not k.startswith("_")}

    def to_diff_dict(self) -> dict:
        """The options that differ from the defaults, and every extra attribute."""
        return {k: v for k, v in self.to_dict().items()
                if k not in FIELDS or v != FIELDS[k].default}

    def to_json_string(self, use_diff: bool = True) -> str:
        d = self.to_diff_dict() if use_diff else self.to_dict()
        return json.dumps(d, indent=2, sort_keys=True) + "\n"

    def save_pretrained(self, folder: str | os.PathLike, config_file_name: str = CONFIG_NAME) -> None:
        """Write generation_config.json (only what differs from the defaults, as transformers)."""
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / config_file_name).write_text(self.to_json_string())

    # -- changing ----------------------------------------------------------------------------
    def update(self, **kwargs) -> dict:
        """Set the keyword arguments that are options (or extra attributes already here);
        return the others, untouched."""
        unused = {}
        for key, value in kwargs.items():
            if key in FIELDS or (key in vars(self) and not key.startswith("_")):
                setattr(self, key, value)
            else:
                unused[key] = value
        return unused

    def validate(self, stacklevel: int = 1) -> None:
        """Warn about options the chosen strategy ignores, with transformers 4.x's wording:
        sampling options without do_sample=True, beam options without num_beams > 1.
        `stacklevel` 1 points the warning at validate's caller, 2 at the caller's caller."""
        defaults = GenerationConfig()
        if self.do_sample is not True:
            for name in _SAMPLING_ONLY:
                value = getattr(self, name)
                if value is not None and value != getattr(defaults, name):
                    warnings.warn(f"`do_sample` is set to `{self.do_sample}`. However, `{name}` is set to "
                                  f"`{value}` -- this flag is only used in sample-based generation modes. "
                                  f"You should set `do_sample=True` or unset `{name}`.", UserWarning,
                                  stacklevel=stacklevel + 1)
        if self.num_beams is None or self.num_beams == 1:
            for name in _BEAM_ONLY:
                value = getattr(self, name)
                if value is not None and value != getattr(defaults, name):
                    warnings.warn(f"`num_beams` is set to {self.num_beams}. However, `{name}` is set to "
                                  f"`{value}` -- this flag is only used in beam-based generation modes. "
                                  f"You should set `num_beams>1` or unset `{name}`.", UserWarning,
                                  stacklevel=stacklevel + 1)

    # -- plumbing ----------------------------------------------------------------------------
    @staticmethod
    def field_names() -> list[str]:
        return list(FIELDS)

    def __eq__(self, other):
        return isinstance(other, GenerationConfig) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"GenerationConfig {self.to_json_string()}"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
