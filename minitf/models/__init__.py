"""One model family per file. `auto` maps config.json to the right class."""
from .auto import (AutoModel, AutoModelForCausalLM, MODEL_CLASSES)
from .gpt2 import GPT2LMHeadModel, GPT2Model

__all__ = ["AutoModel", "AutoModelForCausalLM", "MODEL_CLASSES", "GPT2LMHeadModel", "GPT2Model"]
