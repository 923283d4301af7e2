"""minitf: a from-scratch transformer framework in NumPy, to read next to the Hugging Face course.

    >>> import minitf
    >>> tok = minitf.AutoTokenizer.from_pretrained("weights/tiny-gpt2")           # doctest: +SKIP
    >>> model = minitf.AutoModelForCausalLM.from_pretrained("weights/tiny-gpt2")  # doctest: +SKIP
    >>> gen = minitf.pipeline("text-generation", model="weights/tiny-gpt2")       # doctest: +SKIP

The public names follow `transformers`, so course code ports by changing one import.
"""
from . import backend, ops
from .config import AutoConfig, GPT2Config, PretrainedConfig
from .generation import GenerationStats, KVCache, TextIteratorStreamer, TextStreamer
from .models import AutoModel, AutoModelForCausalLM, GPT2LMHeadModel, GPT2Model
from .pipelines import pipeline
from .tokenizers import AutoTokenizer

__version__ = "0.1.0"

__all__ = ["backend", "ops", "AutoConfig", "GPT2Config", "PretrainedConfig", "GenerationStats",
           "KVCache", "TextIteratorStreamer", "TextStreamer", "AutoModel", "AutoModelForCausalLM",
           "GPT2LMHeadModel", "GPT2Model", "pipeline", "AutoTokenizer", "__version__"]
