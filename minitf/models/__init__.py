"""One model family per file. `auto` maps config.json to the right class."""
from .auto import (AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM,
                   AutoModelForQuestionAnswering, AutoModelForSequenceClassification,
                   AutoModelForTokenClassification, MODEL_CLASSES)
from .bert import (BertForMaskedLM, BertForQuestionAnswering, BertForSequenceClassification,
                   BertForTokenClassification, BertModel)
from .distilbert import (DistilBertForMaskedLM, DistilBertForQuestionAnswering,
                         DistilBertForSequenceClassification, DistilBertForTokenClassification,
                         DistilBertModel)
from .gpt2 import GPT2LMHeadModel, GPT2Model
from .longformer import LongformerForMaskedLM, LongformerForSequenceClassification, LongformerModel
from .reformer import ReformerForMaskedLM, ReformerModel, ReformerModelWithLMHead
from .auto import AutoModelForSeq2SeqLM
from .bart import BartForConditionalGeneration, BartForSequenceClassification, BartModel
from .marian import MarianModel, MarianMTModel
from .roberta import (RobertaForMaskedLM, RobertaForQuestionAnswering,
                      RobertaForSequenceClassification, RobertaForTokenClassification, RobertaModel)

__all__ = ["AutoModel", "AutoModelForCausalLM", "AutoModelForMaskedLM",
           "AutoModelForQuestionAnswering", "AutoModelForSequenceClassification",
           "AutoModelForTokenClassification", "MODEL_CLASSES", "GPT2LMHeadModel", "GPT2Model",
           "BertModel", "BertForMaskedLM", "BertForSequenceClassification",
           "BertForTokenClassification", "BertForQuestionAnswering",
           "DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification",
           "DistilBertForTokenClassification", "DistilBertForQuestionAnswering",
           "RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification",
           "RobertaForTokenClassification", "RobertaForQuestionAnswering"]
__all__ += ["LongformerModel", "LongformerForMaskedLM", "LongformerForSequenceClassification"]
__all__ += ["ReformerModel", "ReformerModelWithLMHead", "ReformerForMaskedLM"]
__all__ += ["AutoModelForSeq2SeqLM", "BartModel", "BartForConditionalGeneration",
            "BartForSequenceClassification", "MarianModel", "MarianMTModel"]
