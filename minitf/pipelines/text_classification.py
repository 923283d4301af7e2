"""text-classification (alias sentiment-analysis): one label for a whole text (chapter 1).

With the course's default model (``pipeline("sentiment-analysis")``:
distilbert-base-uncased-finetuned-sst-2-english)::

    classifier("I've been waiting for a HuggingFace course my whole life.")
    [{'label': 'POSITIVE', 'score': 0.9598}]
    classifier(["I love this.", "I hate this."])
    [{'label': 'POSITIVE', 'score': 0.9998}, {'label': 'NEGATIVE', 'score': 0.9994}]

The same calls on the committed tiny random DistilBERT (labels and scores mean nothing):

    >>> from minitf import pipeline
    >>> classifier = pipeline("sentiment-analysis", model="weights/tiny-distilbert-seqcls")
    >>> classifier("I've been waiting for a HuggingFace course my whole life.")  # doctest: +ELLIPSIS
    [{'label': 'POSITIVE', 'score': 0.579...}]
    >>> [r["label"] for r in classifier(["I love this.", "I hate this."])]
    ['NEGATIVE', 'NEGATIVE']

What happens, step by step:
1. tokenize: ``[CLS] text [SEP]`` (or ``[CLS] text [SEP] pair [SEP]`` for a text pair);
2. the model's classification head gives one logit per label, ``[n_labels]``;
3. a function turns the logits into scores: softmax when there are several labels, sigmoid
   when there is one (or the config says ``problem_type="multi_label_classification"``),
   nothing for regression; ``function_to_apply=`` overrides it;
4. ``config.id2label`` names the classes.

The output shapes are transformers 4.x's, quirks included:
- no ``top_k``: the best label, ``[{'label', 'score'}]`` for one string (a list of one dict),
  one dict per input for a list;
- ``top_k=None``: every label, sorted by score; ``top_k=k``: the k best. One string then gives
  a flat list of dicts, a list of strings a list of such lists. (``top_k`` given to
  ``pipeline(...)`` rather than to the call wraps a single string's list once more, as in
  transformers);
- ``return_all_scores=True`` (the old spelling): every label, in label order, not sorted;
- a text pair is a dict ``{"text": ..., "text_pair": ...}``; a single dict gives a single dict.
Scores are Python floats. Unlike transformers, an empty string is an error (it has no text to
classify, and the model would still answer with confidence).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..ops import sigmoid, softmax
from .base import Pipeline, check_not_empty, merge_call_kwargs

_NO_TOP_K = ""  # transformers' marker for "top_k not given" (None means "all labels")
_TOKENIZER_ARGS = ("truncation", "max_length", "padding", "add_special_tokens")
_FUNCTIONS = ("softmax", "sigmoid", "none")


class TextClassificationPipeline(Pipeline):
    task = "text-classification"
    model_loader = "AutoModelForSequenceClassification"
    call_arguments = ("top_k", "function_to_apply", "return_all_scores", "batch_size",
                      *_TOKENIZER_ARGS)

    def __call__(self, inputs, **kwargs):
        args = merge_call_kwargs(self, kwargs)
        top_k, legacy = self._top_k(args)
        function = self._function(args.get("function_to_apply"))
        batch_size = args.get("batch_size", 1)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int (got {batch_size!r})")
        tok_args = {k: args[k] for k in _TOKENIZER_ARGS if k in args}

        items = inputs if isinstance(inputs, list) else [inputs]
        if not items:
            raise ValueError("text-classification got an empty list; give at least one text")
        features = [self._tokenize(item, tok_args) for item in items]
        scores = []
        for start in range(0, len(features), batch_size):
            logits = self.forward(features[start:start + batch_size])["logits"]  # [b, n_labels]
            scores.extend(function(np.asarray(logits, dtype=np.float32)))
        results = [self._postprocess(s, top_k, legacy) for s in scores]

        if not isinstance(inputs, list):
            result = results[0]
            # transformers wraps a single string's result in a list unless the *call* set top_k
            if isinstance(inputs, str) and "top_k" not in kwargs:
                return [result]
            return result
        return results

    # ---- arguments ------------------------------------------------------------------------------
    def _top_k(self, args: dict):
        """(top_k, legacy): legacy=True means "the best label as a dict" (or all, unsorted)."""
        top_k = args.get("top_k", _NO_TOP_K)
        return_all = args.get("return_all_scores", getattr(self.config, "return_all_scores", None))
        if top_k is None or (isinstance(top_k, int) and not isinstance(top_k, bool)):
            if top_k is not None and top_k < 1:
                raise ValueError(f"top_k must be >= 1 or None (got {top_k})")
            return top_k, False
        if top_k != _NO_TOP_K:
            raise TypeError(f"top_k must be an int or None (got {top_k!r})")
        if return_all is not None:
            warnings.warn("`return_all_scores` is deprecated: use top_k=None instead of "
                          "return_all_scores=True, top_k=1 instead of return_all_scores=False",
                          UserWarning, stacklevel=3)
            return (None if return_all else 1), True
        return 1, True

    def _function(self, name):
        """The logits -> scores function, chosen as transformers 4.x does."""
        if name is None:
            problem = getattr(self.config, "problem_type", None)
            n_labels = self.config.num_labels
            if problem == "regression":
                name = "none"
            elif problem == "multi_label_classification" or n_labels == 1:
                name = "sigmoid"
            elif problem == "single_label_classification" or n_labels > 1:
                name = "softmax"
            else:
                name = getattr(self.config, "function_to_apply", None) or "none"
        name = str(getattr(name, "value", name)).lower()
        if name not in _FUNCTIONS:
            raise ValueError(f"function_to_apply must be one of {list(_FUNCTIONS)} (got {name!r})")
        return {"softmax": softmax, "sigmoid": sigmoid, "none": lambda x: x}[name]

    # ---- steps ----------------------------------------------------------------------------------
    def _tokenize(self, item, tok_args: dict) -> dict:
        if isinstance(item, dict):
            if "text" not in item or set(item) - {"text", "text_pair"}:
                raise ValueError(f"a text pair is a dict with keys 'text' and 'text_pair' "
                                 f"(got keys {sorted(item)})")
            text, pair = item["text"], item.get("text_pair")
        elif isinstance(item, str):
            text, pair = item, None
        elif isinstance(item, (list, tuple)):
            raise ValueError("The pipeline received invalid inputs, if you are trying to send text "
                             "pairs, you can try to send a dictionary `{\"text\": \"My text\", "
                             "\"text_pair\": \"My pair\"}` in order to send a text pair.")
        else:
            raise TypeError(f"text-classification takes a string, a dict "
                            f"{{'text', 'text_pair'}} or a list of them (got {type(item).__name__})")
        for value, what in ((text, "text"), (pair, "text_pair")):
            if value is not None:
                if not isinstance(value, str):
                    raise TypeError(f"text-classification: {what} must be a string "
                                    f"(got {type(value).__name__})")
                check_not_empty(value, self.task, what)
        enc = self.encode(text, pair, **tok_args)
        return {k: v[0] for k, v in enc.items()}

    def _postprocess(self, scores: np.ndarray, top_k, legacy: bool):
        if top_k == 1 and legacy:
            best = int(np.argmax(scores))
            return {"label": self.id2label(best), "score": float(scores[best])}
        records = [{"label": self.id2label(i), "score": float(s)} for i, s in enumerate(scores)]
        if not legacy:
            records.sort(key=lambda r: r["score"], reverse=True)
            if top_k is not None:
                records = records[:top_k]
        return records
