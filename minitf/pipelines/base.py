"""The shared shape of every pipeline: load a model and tokenizer, then
pre-process -> forward -> post-process, one input or a list of them."""
from __future__ import annotations


class Pipeline:
    task = ""
    model_loader = None  # the Auto class that loads the task's model

    def __init__(self, model, tokenizer, device: str = "cpu", task: str | None = None, **defaults):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.task = task or self.task
        self.defaults = defaults  # call-time keyword defaults given at construction

    @classmethod
    def from_model(cls, model, tokenizer=None, device="cpu", task=None, **kwargs):
        from ..tokenizers import AutoTokenizer

        name = model if isinstance(model, str) or hasattr(model, "__fspath__") else None
        if name is not None:
            model = cls.model_loader.from_pretrained(name, device=device)
        if tokenizer is None:
            source = name or getattr(model, "name_or_path", None)
            if source is None:
                raise ValueError("pass tokenizer= when model is an already-loaded model object")
            tokenizer = AutoTokenizer.from_pretrained(source)
        elif isinstance(tokenizer, str) or hasattr(tokenizer, "__fspath__"):
            tokenizer = AutoTokenizer.from_pretrained(tokenizer)
        return cls(model, tokenizer, device=device, task=task, **kwargs)

    def __repr__(self):
        return (f"{type(self).__name__}(task={self.task!r}, model="
                f"{getattr(self.model, 'name_or_path', type(self.model).__name__)!r})")
