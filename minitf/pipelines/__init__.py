"""`pipeline(task, model=...)`: the Hugging Face course's one-liners, with the same outputs.

    >>> classifier = pipeline("sentiment-analysis", model="weights/tiny-distilbert-seqcls")
    >>> classifier("I've been waiting for a HuggingFace course my whole life.")  # doctest: +ELLIPSIS
    [{'label': '...', 'score': 0...}]
    >>> gen = pipeline("text-generation", model="weights/tiny-gpt2")
    >>> gen("In this course, we will teach you how to", max_new_tokens=5)  # doctest: +ELLIPSIS
    [{'generated_text': 'In this course, we will teach you how to...'}]
    >>> classifier.preprocessor is classifier.tokenizer     # text tasks hold a tokenizer
    True

Each task lives in its own file; `TASKS` maps a task name to the class, the course's default
Hub model (``model=None``; each one an architecture minitf implements) and the offline
checkpoint ``minitf tour`` uses when the Hub is out of reach; `ALIASES` the other names
(``sentiment-analysis``, ``ner``). A pipeline holds one pre-processor (a tokenizer, image
processor or feature extractor: `preprocessing.py` picks it from the model's folder). The
understanding pipelines (text-classification, token-classification, question-answering,
fill-mask, feature-extraction, zero-shot-classification) each explain their post-processing
step by step in their module docstring.
"""
from __future__ import annotations

from pathlib import Path

from .base import Pipeline
from .feature_extraction import FeatureExtractionPipeline
from .preprocessing import register_preprocessor
from .fill_mask import FillMaskPipeline
from .question_answering import QuestionAnsweringPipeline
from .text_classification import TextClassificationPipeline
from .text_generation import TextGenerationPipeline
from .token_classification import TokenClassificationPipeline
from .zero_shot_classification import ZeroShotClassificationPipeline
from .text2text_generation import Text2TextGenerationPipeline
from .summarization import SummarizationPipeline
from .translation import TranslationPipeline, task_languages

# task -> the pipeline class, the default Hub model (transformers 4.x's where minitf implements
# its architecture; translation: the course's Marian model, transformers' default being T5;
# text2text-generation: bart-large, which rebuilds <mask>ed text) and the offline checkpoint of
# the tour (relative to the repository; there is no real BART or Marian in the registry)
TASKS: dict[str, dict] = {
    "text-classification": {"class": TextClassificationPipeline,
                            "default": "distilbert-base-uncased-finetuned-sst-2-english",
                            "offline": "weights/tiny-distilbert-seqcls"},
    "token-classification": {"class": TokenClassificationPipeline,
                             "default": "dbmdz/bert-large-cased-finetuned-conll03-english",
                             "offline": "weights/tiny-bert-tokcls"},
    "question-answering": {"class": QuestionAnsweringPipeline,
                           "default": "distilbert-base-cased-distilled-squad",
                           "offline": "weights/tiny-distilbert-qa"},
    "fill-mask": {"class": FillMaskPipeline, "default": "distilroberta-base",
                  "offline": "weights/tiny-roberta-mlm"},
    "feature-extraction": {"class": FeatureExtractionPipeline, "default": "distilbert-base-cased",
                           "offline": "weights/real/all-MiniLM-L6-v2"},
    "zero-shot-classification": {"class": ZeroShotClassificationPipeline,
                                 "default": "facebook/bart-large-mnli",
                                 "offline": "weights/tiny-bart-mnli"},
    "text-generation": {"class": TextGenerationPipeline, "default": "gpt2",
                        "offline": "weights/tiny-gpt2"},
    "summarization": {"class": SummarizationPipeline, "default": "sshleifer/distilbart-cnn-12-6",
                      "offline": "weights/tiny-bart"},
    "translation": {"class": TranslationPipeline, "default": "Helsinki-NLP/opus-mt-fr-en",
                    "offline": "weights/tiny-marian"},
    "text2text-generation": {"class": Text2TextGenerationPipeline, "default": "facebook/bart-large",
                             "offline": "weights/tiny-bart"},
}
_ROOT = Path(__file__).resolve().parents[2]  # the repository (weights/ lives there)
ALIASES: dict[str, str] = {"sentiment-analysis": "text-classification", "ner": "token-classification"}


def normalize_task(task: str) -> str:
    if not isinstance(task, str):
        raise TypeError(f"task must be a string such as 'text-generation' (got {type(task).__name__})")
    task = ALIASES.get(task, task)
    if task_languages(task) != (None, None):
        return "translation"  # translation_fr_to_en: the languages are read by the pipeline
    if task not in TASKS:
        raise KeyError(f"unknown or unsupported task {task!r}; minitf supports: "
                       f"{sorted(list(TASKS) + list(ALIASES))}")
    return task


def offline_model(task: str) -> str | None:
    """The offline checkpoint `minitf tour` runs `task` on (a path that works from the current
    folder), or None for an unknown task.

    >>> offline_model("ner")
    'weights/tiny-bert-tokcls'
    """
    try:
        relative = TASKS[normalize_task(task)]["offline"]
    except (KeyError, TypeError):
        return None
    if (Path.cwd() / relative).exists() or not (_ROOT / relative).exists():
        return relative
    return str(_ROOT / relative)


def pipeline(task: str, model=None, tokenizer=None, device: str = "cpu", **kwargs) -> Pipeline:
    """Build the pipeline for `task` from a folder / Hub id (or already-loaded model and tokenizer).

    model=None takes the course's default model for the task (e.g. `gpt2`), from the local
    Hugging Face cache or the Hub. The pre-processor comes from the model's folder unless
    given: ``tokenizer=`` (or, for image and audio tasks, ``image_processor=`` /
    ``feature_extractor=``), as a folder, Hub id or loaded object.
    """
    name = task
    task = normalize_task(task)
    spec = TASKS[task]
    cls = spec["class"]
    if model is None:
        model = spec["default"]
    # translation_xx_to_yy keeps its full name: the pipeline reads the languages from it
    return cls.from_model(model, tokenizer=tokenizer, device=device,
                          task=name if task == "translation" else task, **kwargs)


__all__ = ["pipeline", "Pipeline", "TASKS", "ALIASES", "offline_model", "register_preprocessor", "FeatureExtractionPipeline",
           "FillMaskPipeline", "QuestionAnsweringPipeline", "TextClassificationPipeline",
           "TextGenerationPipeline", "TokenClassificationPipeline", "ZeroShotClassificationPipeline",
           "Text2TextGenerationPipeline", "SummarizationPipeline", "TranslationPipeline"]
