"""Attention variants. `full` is the dense reference; later files add LSH, local/global and
positional encodings."""
from .full import (causal_attention, causal_mask, mask_value, merge_heads, padding_mask,
                   scaled_dot_product_attention, split_heads)

__all__ = ["causal_attention", "causal_mask", "mask_value", "merge_heads", "padding_mask",
           "scaled_dot_product_attention", "split_heads"]
