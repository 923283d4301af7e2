"""minitf: a from-scratch transformer framework in NumPy, to read next to the Hugging Face course.

    >>> import minitf
    >>> tok = minitf.AutoTokenizer.from_pretrained("weights/tiny-gpt2")           # doctest: +SKIP
    >>> model = minitf.AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")  # doctest: +SKIP
    >>> gen = minitf.pipeline("text-generation", model="weights/tiny-gpt2")       # doctest: +SKIP

The public names follow `transformers`, so course code ports by changing one import.
"""
from . import backend, ops
from .config import (AutoConfig, BertConfig, DistilBertConfig, GPT2Config, PretrainedConfig,
                     RobertaConfig)
from .generation import GenerationStats, KVCache, TextIteratorStreamer, TextStreamer
from .models import (AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM,
                     AutoModelForQuestionAnswering, AutoModelForSequenceClassification,
                     AutoModelForTokenClassification, BertForMaskedLM, BertForQuestionAnswering,
                     BertForSequenceClassification, BertForTokenClassification, BertModel,
                     DistilBertForMaskedLM, DistilBertForQuestionAnswering,
                     DistilBertForSequenceClassification, DistilBertForTokenClassification,
                     DistilBertModel, GPT2LMHeadModel, GPT2Model, RobertaForMaskedLM,
                     RobertaForQuestionAnswering, RobertaForSequenceClassification,
                     RobertaForTokenClassification, RobertaModel)
from .config import LongformerConfig
from .models import LongformerForMaskedLM, LongformerForSequenceClassification, LongformerModel
from .config import ReformerConfig
from .models import ReformerForMaskedLM, ReformerModel, ReformerModelWithLMHead
from .pipelines import pipeline
from .tokenizers import AutoTokenizer

__version__ = "0.1.0"

__all__ = ["backend", "ops", "AutoConfig", "GPT2Config", "BertConfig", "DistilBertConfig",
           "RobertaConfig", "PretrainedConfig", "GenerationStats", "KVCache",
           "TextIteratorStreamer", "TextStreamer", "AutoModel", "AutoModelForCausalLM",
           "AutoModelForMaskedLM", "AutoModelForSequenceClassification",
           "AutoModelForTokenClassification", "AutoModelForQuestionAnswering",
           "GPT2LMHeadModel", "GPT2Model", "BertModel", "BertForMaskedLM",
           "BertForSequenceClassification", "BertForTokenClassification",
           "BertForQuestionAnswering", "DistilBertModel", "DistilBertForMaskedLM",
           "DistilBertForSequenceClassification", "DistilBertForTokenClassification",
           "DistilBertForQuestionAnswering", "RobertaModel", "RobertaForMaskedLM",
           "RobertaForSequenceClassification", "RobertaForTokenClassification",
           "RobertaForQuestionAnswering", "pipeline", "AutoTokenizer", "__version__"]
__all__ += ["LongformerConfig", "LongformerModel", "LongformerForMaskedLM",
            "LongformerForSequenceClassification"]
__all__ += ["ReformerConfig", "ReformerModel", "ReformerModelWithLMHead", "ReformerForMaskedLM"]
