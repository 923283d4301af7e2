"""The shared shape of every pipeline: load a model and tokenizer, then
pre-process -> forward -> post-process, one input or a list of them.

A task file (``text_classification.py``, ``question_answering.py``, ...) subclasses `Pipeline`,
names the Auto class that loads its model (`model_loader`) and writes `__call__` as three plain
steps. What several tasks share lives here:

- `merge_call_kwargs`: arguments given to ``pipeline(...)`` are defaults for every call, a call's own
  arguments win, and an unknown argument is a `TypeError` that lists the known ones;
- `texts_of`: "a string or a list of strings" with a clear error for anything else (and for
  empty strings, which no understanding pipeline can do anything useful with);
- `Pipeline.encode` / `Pipeline.forward`: tokenizer call and model call with NumPy in and out,
  inputs the model does not read (DistilBERT has no ``token_type_ids``) left out, and a clear
  error before a sequence longer than the model's position table reaches it;
"""
from __future__ import annotations

import inspect
import os

import numpy as np

from ..backend import to_numpy
from ..hub import resolve
from .preprocessing import load_preprocessor, preprocessor_kind

# Model families whose position ids start after the padding id (RoBERTa's "padding_idx + 1").
# (BART's 2-row offset is inside its table: max_position_embeddings positions are all usable.)
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "camembert", "longformer"}


class Pipeline:
    task = ""
    model_loader = None  # the Auto class that loads the task's model (or its name in models.auto)
    # what pre-processes the task's inputs, best first: "tokenizer", "image_processor",
    # "feature_extractor" (see preprocessing.py); text tasks take a tokenizer
    preprocessor_kinds: tuple[str, ...] = ("tokenizer",)
    call_arguments: tuple[str, ...] = ()  # the keyword arguments __call__ understands

    def __init__(self, model, tokenizer=None, device: str = "cpu", task: str | None = None,
                 preprocessor=None, **defaults):
        if tokenizer is not None and preprocessor is not None and tokenizer is not preprocessor:
            raise ValueError("give the pipeline one pre-processor: tokenizer= or preprocessor=, not both")
        self.model = model
        self.preprocessor = preprocessor if preprocessor is not None else tokenizer
        self.device = device
        self.task = task or self.task
        self.defaults = defaults  # call-time keyword defaults given at construction
        if self.call_arguments:
            merge_call_kwargs(self, {})  # reject unknown construction arguments at once

    @property
    def preprocessor(self):
        """What turns the inputs into model inputs: a tokenizer, image processor or feature extractor."""
        return self._preprocessor

    @preprocessor.setter
    def preprocessor(self, value):
        self._preprocessor = value
        self._preprocessor_kind = None if value is None else preprocessor_kind(value)

    @property
    def tokenizer(self):
        """The pre-processor when it is a tokenizer (None for image or audio pre-processing)."""
        return self._preprocessor if self._preprocessor_kind == "tokenizer" else None

    @tokenizer.setter
    def tokenizer(self, value):
        self.preprocessor = value

    @classmethod
    def from_model(cls, model, tokenizer=None, device="cpu", task=None, image_processor=None,
                   feature_extractor=None, **kwargs):
        """Load the model (a folder or Hub id, or use a loaded one) and its pre-processor.

        A pre-processor given as a folder / Hub id is loaded; none given: the one in the
        model's folder, of a kind this task takes (`preprocessor_kinds`).
        """
        task = task or cls.task
        given = [(kind, value) for kind, value in (("tokenizer", tokenizer), ("image_processor",
                 image_processor), ("feature_extractor", feature_extractor)) if value is not None]
        if len(given) > 1:
            raise ValueError(f"{task} takes one pre-processor; got "
                             f"{' and '.join(kind + '=' for kind, _ in given)}")
        name = model if isinstance(model, (str, os.PathLike)) else None
        if name is not None:
            resolve(name, task=task)  # a typo or an uncached id: the message names the task
            model = cls.loader().from_pretrained(name, device=device)
        if given:
            kind, preprocessor = given[0]
            if isinstance(preprocessor, (str, os.PathLike)):
                preprocessor = load_preprocessor(preprocessor, kinds=(kind,), task=task)
        else:
            source = name or getattr(model, "name_or_path", None)
            if source is None:
                raise ValueError(f"pass {' or '.join(k + '=' for k in cls.preprocessor_kinds)} "
                                 f"when model is an already-loaded model object")
            preprocessor = load_preprocessor(source, kinds=cls.preprocessor_kinds, task=task)
        return cls(model, device=device, task=task, preprocessor=preprocessor, **kwargs)

    @classmethod
    def loader(cls):
        """The Auto class of `model_loader` (a class, or its name in ``minitf.models.auto``)."""
        if isinstance(cls.model_loader, str):
            from ..models import auto

            try:
                return getattr(auto, cls.model_loader)
            except AttributeError:
                raise ImportError(f"{cls.task} needs minitf.{cls.model_loader}, which this minitf "
                                  f"does not have") from None
        return cls.model_loader

    def __repr__(self):
        return (f"{type(self).__name__}(task={self.task!r}, model="
                f"{getattr(self.model, 'name_or_path', type(self.model).__name__)!r})")

    # ---- shared steps of the understanding pipelines ------------------------------------------
    @property
    def config(self):
        return self.model.config

    def id2label(self, index: int) -> str:
        """The label name of class `index` (``LABEL_3`` when config.json has no id2label)."""
        table = getattr(self.config, "id2label", None) or {}
        return table.get(int(index), f"LABEL_{int(index)}")

    def max_positions(self) -> int | None:
        """How many tokens the model can read: its position table (RoBERTa-style tables start
        after the padding id, so 514 rows hold 512 positions), capped by the tokenizer's
        `model_max_length` when that is set."""
        limits = []
        n = getattr(self.config, "max_position_embeddings", None)
        if isinstance(n, int) and n > 0:
            if getattr(self.config, "model_type", "") in _OFFSET_POSITIONS:
                n -= (getattr(self.config, "pad_token_id", None) or 0) + 1
            limits.append(n)
        tok_max = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tok_max, int) and 0 < tok_max < int(1e29):
            limits.append(tok_max)
        return min(limits) if limits else None

    def truncation_length(self) -> int | None:
        """The `max_length` that ``truncation=True`` means for this model and tokenizer."""
        return self.max_positions()

    def encode(self, text, text_pair=None, **tokenizer_kwargs):
        """Tokenize one text (or pair) for the model: a BatchEncoding of lists, batch of one.

        ``truncation=True`` without ``max_length`` truncates to what the model can read, even
        when the tokenizer files do not say (transformers would then not truncate and fail).
        """
        kwargs = dict(tokenizer_kwargs)
        if kwargs.get("truncation") not in (None, False, "do_not_truncate") and \
                kwargs.get("max_length") is None and self.truncation_length() is not None:
            kwargs["max_length"] = self.truncation_length()
        if text_pair is None:
            return self.tokenizer([text], **kwargs)
        return self.tokenizer([text], [text_pair], **kwargs)

    def model_accepts(self, name: str) -> bool:
        """Whether the model's forward takes the keyword `name` (DistilBERT: no token_type_ids)."""
        try:
            params = inspect.signature(self.model.forward).parameters
        except (TypeError, ValueError):
            return True
        return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())

    def uses_token_types(self) -> bool:
        """Whether the model reads token_type_ids (segments): BERT yes; DistilBERT has no segment
        embeddings; as transformers, only the tokenizer's `model_input_names` go to the model."""
        names = getattr(self.tokenizer, "model_input_names", None) or ["token_type_ids"]
        return ("token_type_ids" in names and self.model_accepts("token_type_ids")
                and bool(getattr(self.config, "type_vocab_size", 0)))

    def forward(self, features: list[dict]):
        """Run the model on a batch of tokenized sequences, padded on the right here.

        `features` is a list of dicts of token lists (``input_ids``, ``attention_mask``,
        ``token_type_ids``). Returns the model output with every array as NumPy; row `i`'s
        per-token outputs are its first ``len(features[i]["input_ids"])`` positions.
        """
        lengths = [len(f["input_ids"]) for f in features]
        width = max(lengths)
        limit = self.max_positions()
        if limit is not None and width > limit:
            raise ValueError(
                f"{self.task}: the input is {width} tokens long but this model reads at most {limit}; "
                f"pass truncation=True to cut it (or shorten the text)")
        pad_id = getattr(self.tokenizer, "pad_token_id", None)
        pad_id = 0 if pad_id is None else pad_id
        batch = {"input_ids": np.full((len(features), width), pad_id, dtype=np.int64),
                 "attention_mask": np.zeros((len(features), width), dtype=np.int64)}
        with_types = "token_type_ids" in features[0] and self.uses_token_types()
        if with_types:
            batch["token_type_ids"] = np.zeros((len(features), width), dtype=np.int64)
        for i, f in enumerate(features):
            n = lengths[i]
            batch["input_ids"][i, :n] = f["input_ids"]
            batch["attention_mask"][i, :n] = f.get("attention_mask", [1] * n)
            if with_types:
                batch["token_type_ids"][i, :n] = f["token_type_ids"]
        out = self.model(**batch)
        for key in list(out.keys()):
            value = out[key]
            if hasattr(value, "shape"):
                out[key] = to_numpy(value)
        return out


def merge_call_kwargs(pipe: Pipeline, kwargs: dict) -> dict:
    """Construction-time defaults overridden by the call's own arguments; unknown names raise."""
    merged = {**pipe.defaults, **kwargs}
    unknown = sorted(set(merged) - set(pipe.call_arguments))
    if unknown:
        raise TypeError(f"{pipe.task} got unexpected argument(s) {unknown}; it takes "
                        f"{sorted(pipe.call_arguments)}")
    return merged


def texts_of(inputs, task: str, what: str = "text") -> tuple[list[str], bool]:
    """(list of strings, was it a single string) for "a string or a list of strings" inputs."""
    single = isinstance(inputs, str)
    texts = [inputs] if single else inputs
    if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
        raise TypeError(f"{task} takes a string or a list of strings (got {_describe(inputs)})")
    if len(texts) == 0:
        raise ValueError(f"{task} got an empty list; give at least one {what}")
    for t in texts:
        check_not_empty(t, task, what)
    return list(texts), single


def check_not_empty(text: str, task: str, what: str = "text") -> None:
    if not text.strip():
        raise ValueError(f"{task} got an empty {what} ({text!r}); give at least one word")


def _describe(x) -> str:
    if isinstance(x, (list, tuple)):
        kinds = sorted({type(i).__name__ for i in x})
        return f"a {type(x).__name__} of {', '.join(kinds) or 'nothing'}"
    return type(x).__name__
