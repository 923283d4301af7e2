"""text2text-generation: text in, text out, with an encoder-decoder (BART, Marian); the base of
`summarization` and `translation` (chapter 1 of the course).

With facebook/bart-large (BART's pre-training task is to rebuild damaged text)::

    text2text = pipeline("text2text-generation", model="facebook/bart-large")
    text2text("The tower is <mask> metres tall.")
    [{'generated_text': 'The tower is 324 metres tall.'}]

The same call on the committed tiny random BART (the words mean nothing; the steps are the
same):

    >>> from minitf import pipeline
    >>> text2text = pipeline("text2text-generation", model="weights/tiny-bart")
    >>> out = text2text("The tower is <mask> metres tall.", max_new_tokens=8, num_beams=2)
    >>> list(out[0]), type(out[0]["generated_text"]).__name__
    (['generated_text'], 'str')

Step by step (as transformers 4.x):
1. ``config.prefix`` (T5-style task prefixes; empty for BART) + the text, tokenized; a list of
   texts is padded into one batch (padding on the right: the encoder reads it with its mask);
   a text longer than the model reads is truncated to it, with a warning;
2. ``model.generate``: the encoder runs once, the decoder writes the output token by token,
   with the checkpoint's generation options (generation_config.json, then the config's
   ``task_specific_params[task]``) unless the call gives its own (``max_length``, ``min_length``,
   ``num_beams``, ``do_sample`` ...);
3. each output decoded without special tokens.

One text gives ``[{'generated_text': ...}]`` (one dict per returned sequence); a list of texts
a list of dicts (a list of lists with ``num_return_sequences`` > 1). ``return_tensors=True``
gives ``generated_token_ids`` instead.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..generation.configuration import FIELDS
from ..user_warnings import user_stacklevel
from .base import Pipeline, texts_of

_GENERATE_KEYS = set(FIELDS) | {"streamer", "generation_config", "logits_processor",
                                "stopping_criteria"}


class Text2TextGenerationPipeline(Pipeline):
    task = "text2text-generation"
    model_loader = "AutoModelForSeq2SeqLM"
    return_name = "generated"  # the output key: generated_text / summary_text / translation_text

    def __call__(self, inputs, return_tensors: bool = False, return_text: bool = True,
                 clean_up_tokenization_spaces=None, truncation=None, batch_size: int = 1,
                 **generate_kwargs):
        kwargs = {**self.defaults, **generate_kwargs}
        unknown = sorted(set(kwargs) - _GENERATE_KEYS - set(self.extra_arguments))
        if unknown:
            raise TypeError(f"{self.task} got unexpected argument(s) {unknown}; generation "
                            f"arguments are {sorted(_GENERATE_KEYS)}")
        texts, single = texts_of(inputs, self.task)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int (got {batch_size!r})")
        kwargs = self.prepare_kwargs(kwargs)
        results = []
        for start in range(0, len(texts), batch_size):
            results.extend(self._generate(texts[start:start + batch_size], truncation, kwargs,
                                          return_tensors, return_text, clean_up_tokenization_spaces))
        if single:
            return results[0]
        return [r[0] for r in results] if all(len(r) == 1 for r in results) else results

    extra_arguments: tuple[str, ...] = ()  # task arguments that are not generation options

    def prepare_kwargs(self, kwargs: dict) -> dict:
        """The call's generation options over the config's task_specific_params[task]."""
        params = (getattr(self.model.config, "task_specific_params", None) or {}).get(self.task, {})
        defaults = {k: v for k, v in params.items() if k in _GENERATE_KEYS}
        if "max_new_tokens" in kwargs:
            defaults.pop("max_length", None)
        return {**defaults, **kwargs}

    def option(self, kwargs: dict, name: str):
        """What generate() will use for `name`: the call's value, else the model's."""
        return kwargs[name] if kwargs.get(name) is not None else getattr(self.model.generation_config, name)

    def check_inputs(self, input_length: int, kwargs: dict) -> None:
        """min_length above max_length can produce nothing sensible: say so before generating."""
        min_length, max_length = self.option(kwargs, "min_length"), self.option(kwargs, "max_length")
        if kwargs.get("max_new_tokens") is None and min_length and max_length is not None \
                and max_length < min_length:
            raise ValueError(f"{self.task}: max_length={max_length} is below min_length="
                             f"{min_length}; raise max_length or lower min_length")

    def source_texts(self, texts: list[str]) -> list[str]:
        prefix = getattr(self.model.config, "prefix", None) or ""
        return [prefix + t for t in texts]

    def _tokenize(self, texts: list[str], truncation):
        tok = self.tokenizer
        limit = self.truncation_length()
        rows = [tok(t)["input_ids"] for t in texts]
        too_long = [len(r) for r in rows if limit is not None and len(r) > limit]
        if too_long and truncation in (None, True, "longest_first", "only_first"):
            if truncation is None:  # transformers' tokenizer warns; minitf then cuts instead of failing
                warnings.warn(f"Token indices sequence length is longer than the specified maximum "
                              f"sequence length for this model ({max(too_long)} > {limit}); the "
                              f"input is truncated to {limit} tokens", stacklevel=user_stacklevel())
            rows = [tok(t, truncation=True, max_length=limit)["input_ids"] for t in texts]
        elif too_long:
            raise ValueError(f"{self.task}: the input is {max(too_long)} tokens long but this model "
                             f"reads at most {limit}; pass truncation=True to cut it")
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), pad_id, dtype=np.int64)  # [n, longest], right-padded
        mask = np.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        return ids, mask

    def _generate(self, texts, truncation, kwargs, return_tensors, return_text, clean_up):
        ids, mask = self._tokenize(self.source_texts(texts), truncation)
        self.check_inputs(int(mask.sum(axis=1).max()), kwargs)
        out = np.asarray(self.model.generate(ids, attention_mask=mask, **kwargs))  # [n * n_ret, L]
        n_ret = out.shape[0] // len(texts)
        decode = dict(skip_special_tokens=True)
        if clean_up is not None:
            decode["clean_up_tokenization_spaces"] = clean_up
        results = []
        for i in range(len(texts)):
            records = []
            for seq in out[i * n_ret:(i + 1) * n_ret]:
                if return_tensors:  # ids instead of text, as transformers' ReturnType.TENSORS
                    records.append({f"{self.return_name}_token_ids": seq.tolist()})
                elif return_text:
                    records.append({f"{self.return_name}_text": self.tokenizer.decode(seq, **decode)})
            results.append(records)
        return results
