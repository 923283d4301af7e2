"""Auto classes: read config.json, pick the concrete model class, load it.

    >>> model = AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")
    >>> type(model).__name__
    'GPT2LMHeadModel'

The tables map a task to {model_type: class}; later model families add their rows.
"""
from __future__ import annotations

from ..config import AutoConfig
from ..hub import resolve
from .bart import BartForConditionalGeneration, BartForSequenceClassification, BartModel
from .bert import (BertForMaskedLM, BertForQuestionAnswering, BertForSequenceClassification,
                   BertForTokenClassification, BertModel)
from .distilbert import (DistilBertForMaskedLM, DistilBertForQuestionAnswering,
                         DistilBertForSequenceClassification, DistilBertForTokenClassification,
                         DistilBertModel)
from .gpt2 import GPT2LMHeadModel, GPT2Model
from .longformer import LongformerForMaskedLM, LongformerForSequenceClassification, LongformerModel
from .marian import MarianModel, MarianMTModel
from .reformer import ReformerForMaskedLM, ReformerModel, ReformerModelWithLMHead
from .roberta import (RobertaForMaskedLM, RobertaForQuestionAnswering,
                      RobertaForSequenceClassification, RobertaForTokenClassification, RobertaModel)

MODEL_CLASSES: dict[str, dict[str, type]] = {
    "base": {"reformer": ReformerModel, "gpt2": GPT2Model, "bert": BertModel, "distilbert": DistilBertModel,
             "roberta": RobertaModel, "longformer": LongformerModel, "bart": BartModel,
             "marian": MarianModel},
    "causal-lm": {"reformer": ReformerModelWithLMHead, "gpt2": GPT2LMHeadModel},
    "masked-lm": {"reformer": ReformerForMaskedLM, "bert": BertForMaskedLM, "distilbert": DistilBertForMaskedLM,
                  "roberta": RobertaForMaskedLM, "longformer": LongformerForMaskedLM},
    "sequence-classification": {"bert": BertForSequenceClassification,
                                "distilbert": DistilBertForSequenceClassification,
                                "roberta": RobertaForSequenceClassification,
                                "longformer": LongformerForSequenceClassification,
                                "bart": BartForSequenceClassification},
    "token-classification": {"bert": BertForTokenClassification,
                             "distilbert": DistilBertForTokenClassification,
                             "roberta": RobertaForTokenClassification},
    "question-answering": {"bert": BertForQuestionAnswering,
                           "distilbert": DistilBertForQuestionAnswering,
                           "roberta": RobertaForQuestionAnswering},
    "seq2seq-lm": {"bart": BartForConditionalGeneration, "marian": MarianMTModel},
}


class _AutoModel:
    task = "base"

    def __init__(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is not instantiated: use "
                        f"{type(self).__name__}.from_pretrained(name_or_path)")

    @classmethod
    def model_class(cls, config):
        table = MODEL_CLASSES[cls.task]
        if config.model_type not in table:
            supported = sorted(table)
            raise ValueError(f"{cls.__name__} has no model for model_type {config.model_type!r} "
                             f"(supported: {supported})")
        return table[config.model_type]

    @classmethod
    def from_pretrained(cls, name_or_path, dtype="float32", device="cpu", **overrides):
        folder = resolve(name_or_path)
        config = AutoConfig.from_pretrained(folder, **overrides)
        model = cls.model_class(config).from_pretrained(folder, dtype=dtype, device=device,
                                                        config=config)
        model.name_or_path = str(name_or_path)
        return model

    @classmethod
    def from_config(cls, config):
        """A model with placeholder weights (call `.init_weights(seed)` for random ones)."""
        return cls.model_class(config)(config)


class AutoModel(_AutoModel):
    task = "base"


class AutoModelForCausalLM(_AutoModel):
    task = "causal-lm"


class AutoModelForMaskedLM(_AutoModel):
    task = "masked-lm"


class AutoModelForSequenceClassification(_AutoModel):
    task = "sequence-classification"


class AutoModelForTokenClassification(_AutoModel):
    task = "token-classification"


class AutoModelForQuestionAnswering(_AutoModel):
    task = "question-answering"


class AutoModelForSeq2SeqLM(_AutoModel):
    task = "seq2seq-lm"
