"""`pipeline(task, model=...)`: the Hugging Face course's one-liners, with the same outputs.

    >>> gen = pipeline("text-generation", model="weights/tiny-gpt2")          # doctest: +SKIP
    >>> gen("In this course, we will teach you how to", max_new_tokens=5)      # doctest: +SKIP
    [{'generated_text': 'In this course, we will teach you how to ...'}]

Each task lives in its own file; `TASKS` maps a task name (and its aliases) to the class and
the course's default Hub model.
"""
from __future__ import annotations

from .base import Pipeline
from .text_generation import TextGenerationPipeline

TASKS: dict[str, dict] = {
    "text-generation": {"class": TextGenerationPipeline, "default": "gpt2"},
}
ALIASES: dict[str, str] = {}


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


__all__ = ["pipeline", "Pipeline", "TextGenerationPipeline", "TASKS", "ALIASES"]
