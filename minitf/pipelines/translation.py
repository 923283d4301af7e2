"""translation (and translation_xx_to_yy): the text in another language (chapter 1 of the course).

With the course's model (a Marian model of Helsinki-NLP, French to English)::

    translator = pipeline("translation", model="Helsinki-NLP/opus-mt-fr-en")
    translator("Ce cours est produit par Hugging Face.")
    [{'translation_text': 'This course is produced by Hugging Face.'}]

The same call on the committed tiny random Marian (its "translation" means nothing):

    >>> from minitf import pipeline
    >>> translator = pipeline("translation", model="weights/tiny-marian")
    >>> out = translator("Ce cours est produit par Hugging Face.", max_new_tokens=8)
    >>> list(out[0])
    ['translation_text']

It is text2text-generation (text2text_generation.py) with the output under
``translation_text``. The languages come from the task name (``translation_fr_to_en``) or from
``src_lang=`` / ``tgt_lang=``, and are checked against what the model translates: a Marian
model for one pair names it in tokenizer_config.json (``source_lang`` / ``target_lang``); a
multilingual one has a ``>>xx<<`` token per target language (``supported_language_codes``),
and the pipeline puts ``>>tgt_lang<<`` in front of each text that has none. Asking for a
language the model does not have is an error, never a silent translation into another one.
"""
from __future__ import annotations

import logging
import re

from .text2text_generation import _GENERATE_KEYS, Text2TextGenerationPipeline

logger = logging.getLogger(__name__)
_TASK = re.compile(r"^translation_([A-Za-z-]+)_to_([A-Za-z-]+)$")


def task_languages(task: str) -> tuple[str | None, str | None]:
    """("fr", "en") for "translation_fr_to_en"; (None, None) for "translation".

    >>> task_languages("translation_fr_to_en"), task_languages("translation")
    (('fr', 'en'), (None, None))
    """
    match = _TASK.match(task or "")
    return (match.group(1), match.group(2)) if match else (None, None)


class TranslationPipeline(Text2TextGenerationPipeline):
    task = "translation"
    return_name = "translation"
    extra_arguments = ("src_lang", "tgt_lang")

    def prepare_kwargs(self, kwargs: dict) -> dict:
        """The languages of this call (checked), then the generation options."""
        kwargs = dict(kwargs)
        src, tgt = task_languages(self.task)
        self.src_lang = kwargs.pop("src_lang", None) or src
        self.tgt_lang = kwargs.pop("tgt_lang", None) or tgt
        self._check_languages()
        # task-specific params: "translation_fr_to_en" first, then "translation"
        params = getattr(self.model.config, "task_specific_params", None) or {}
        merged = {**params.get("translation", {}), **params.get(self.task, {})}
        defaults = {k: v for k, v in merged.items() if k in _GENERATE_KEYS}
        if "max_new_tokens" in kwargs:
            defaults.pop("max_length", None)
        return {**defaults, **kwargs}

    def _codes(self) -> list[str]:
        codes = getattr(self.tokenizer, "supported_language_codes", None) or []
        return [c[2:-2] for c in codes if c.startswith(">>") and c.endswith("<<")]

    def _check_languages(self) -> None:
        name = getattr(self.model, "name_or_path", type(self.model).__name__)
        codes = self._codes()
        if codes:
            if self.tgt_lang is not None and self.tgt_lang not in codes:
                raise ValueError(f"{name} does not translate into {self.tgt_lang!r}: its target "
                                 f"languages are {sorted(codes)} (the >>xx<< tokens of its vocabulary)")
            return
        for which, asked in (("source", self.src_lang), ("target", self.tgt_lang)):
            known = getattr(self.tokenizer, f"{which}_lang", None)
            if asked is not None and known and not _same_language(asked, known):
                pair = f"{getattr(self.tokenizer, 'source_lang', '?')} -> {getattr(self.tokenizer, 'target_lang', '?')}"
                raise ValueError(f"{name} translates {pair}, not with {which} language {asked!r}; "
                                 f"use a model for that pair (Helsinki-NLP/opus-mt-<src>-<tgt>)")

    def source_texts(self, texts: list[str]) -> list[str]:
        texts = super().source_texts(texts)
        if self._codes() and self.tgt_lang is not None:
            texts = [t if t.lstrip().startswith(">>") else f">>{self.tgt_lang}<< {t}" for t in texts]
        return texts

    def check_inputs(self, input_length: int, kwargs: dict) -> None:
        super().check_inputs(input_length, kwargs)
        max_length = self.option(kwargs, "max_length")
        if kwargs.get("max_new_tokens") is None and max_length is not None and input_length > 0.9 * max_length:
            logger.warning(f"Your input_length: {input_length} is bigger than 0.9 * max_length: "
                           f"{max_length}. You might consider increasing your max_length manually, "
                           f"e.g. translator('...', max_length=400)")


def _same_language(a: str, b: str) -> bool:
    """'fr' and 'fra', 'en' and 'eng' (ISO 639-1 and -3 spellings in Marian configs) match."""
    a, b = a.lower(), b.lower()
    return a == b or a.startswith(b) or b.startswith(a)
