"""`pipeline(task, model=...)`: the Hugging Face course's one-liners, with the same outputs.

    >>> gen = pipeline("text-generation", model="weights/tiny-gpt2")          # doctest: +SKIP
    >>> gen("In this course, we will teach you how to", max_new_tokens=5)      # doctest: +SKIP
    [{'generated_text': 'In this course, we will teach you how to ...'}]

    >>> classifier = pipeline("sentiment-analysis")        # the course's default model  # doctest: +SKIP
    >>> classifier("I've been waiting for a HuggingFace course my whole life.")     # doctest: +SKIP
    [{'label': 'POSITIVE', 'score': 0.9598}]

Each task lives in its own file; `TASKS` maps a task name to the class and the course's default
Hub model, `ALIASES` the other names (``sentiment-analysis``, ``ner``). The understanding
pipelines (text-classification, token-classification, question-answering, fill-mask,
feature-extraction, zero-shot-classification) each explain their post-processing step by step
in their module docstring.
"""
from __future__ import annotations

from .base import Pipeline
from .feature_extraction import FeatureExtractionPipeline
from .fill_mask import FillMaskPipeline
from .question_answering import QuestionAnsweringPipeline
from .text_classification import TextClassificationPipeline
from .text_generation import TextGenerationPipeline
from .token_classification import TokenClassificationPipeline
from .zero_shot_classification import ZeroShotClassificationPipeline

# task -> the pipeline class and the course's default Hub model (transformers 4.x defaults)
TASKS: dict[str, dict] = {
    "text-classification": {"class": TextClassificationPipeline,
                            "default": "distilbert-base-uncased-finetuned-sst-2-english"},
    "token-classification": {"class": TokenClassificationPipeline,
                             "default": "dbmdz/bert-large-cased-finetuned-conll03-english"},
    "question-answering": {"class": QuestionAnsweringPipeline,
                           "default": "distilbert-base-cased-distilled-squad"},
    "fill-mask": {"class": FillMaskPipeline, "default": "distilroberta-base"},
    "feature-extraction": {"class": FeatureExtractionPipeline, "default": "distilbert-base-cased"},
    "zero-shot-classification": {"class": ZeroShotClassificationPipeline,
                                 "default": "facebook/bart-large-mnli"},
    "text-generation": {"class": TextGenerationPipeline, "default": "gpt2"},
}
ALIASES: dict[str, str] = {"sentiment-analysis": "text-classification", "ner": "token-classification"}


def normalize_task(task: str) -> str:
    if not isinstance(task, str):
        raise TypeError(f"task must be a string such as 'text-generation' (got {type(task).__name__})")
    task = ALIASES.get(task, task)
    if task not in TASKS:
        raise KeyError(f"unknown or unsupported task {task!r}; minitf supports: "
                       f"{sorted(list(TASKS) + list(ALIASES))}")
    return task


def pipeline(task: str, model=None, tokenizer=None, device: str = "cpu", **kwargs) -> Pipeline:
    """Build the pipeline for `task` from a folder / Hub id (or already-loaded model and tokenizer).

    model=None takes the course's default model for the task (e.g. `gpt2`), from the local
    Hugging Face cache or the Hub.
    """
    task = normalize_task(task)
    spec = TASKS[task]
    cls = spec["class"]
    if model is None:
        model = spec["default"]
    return cls.from_model(model, tokenizer=tokenizer, device=device, task=task, **kwargs)


__all__ = ["pipeline", "Pipeline", "TASKS", "ALIASES", "FeatureExtractionPipeline",
           "FillMaskPipeline", "QuestionAnsweringPipeline", "TextClassificationPipeline",
           "TextGenerationPipeline", "TokenClassificationPipeline", "ZeroShotClassificationPipeline"]
