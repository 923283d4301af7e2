"""minitf: a from-scratch transformer framework in NumPy, to read next to the Hugging Face course.

    >>> import minitf
    >>> tok = minitf.AutoTokenizer.from_pretrained("weights/tiny-gpt2")
    >>> model = minitf.AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")
    >>> ids = tok("The cat sat", return_tensors="np")["input_ids"]
    >>> ids
    array([[288, 444, 350]])
    >>> model(input_ids=ids).logits.shape        # (batch, seq, vocab)
    (1, 3, 557)

The public names follow `transformers`, so course code ports by changing one import.
"""
import os as _os

# OpenBLAS (NumPy's BLAS) keeps its worker threads spinning for 2^28 cycles (~0.1 s) after each
# matmul. minitf's Numba kernels run between matmuls, and on a small CPU they would share the
# cores with those spinning threads (attention ran 2x slower in BERT). 2^20 cycles (~0.3 ms)
# still keeps the threads awake across back-to-back matmuls. OpenBLAS reads this when NumPy
# loads, so it takes effect when minitf is imported before NumPy, or when set in the
# environment; an explicit setting is left alone.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

from . import backend, ops  # noqa: E402
from .config import (AutoConfig, BertConfig, DistilBertConfig, GPT2Config, PretrainedConfig,
                     RobertaConfig)
from .generation import (GenerationConfig, GenerationStats, KVCache, TextIteratorStreamer,
                         TextStreamer, set_seed)
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
from .config import BartConfig, MarianConfig
from .models import (AutoModelForSeq2SeqLM, BartForConditionalGeneration,
                     BartForSequenceClassification, BartModel, MarianModel, MarianMTModel)
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
__all__ += ["GenerationConfig", "set_seed"]
__all__ += ["BartConfig", "MarianConfig", "AutoModelForSeq2SeqLM", "BartModel",
            "BartForConditionalGeneration", "BartForSequenceClassification", "MarianModel",
            "MarianMTModel"]
