"""Debugging aids: record every module's output (`trace`) and find the first module whose
output diverges from transformers' (`compare_with_transformers`)."""
from .compare import Divergence, compare_outputs, compare_with_transformers
from .trace import trace

__all__ = ["Divergence", "compare_outputs", "compare_with_transformers", "trace"]
