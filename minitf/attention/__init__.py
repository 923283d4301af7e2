"""Attention variants. `full` is the dense reference; later files add LSH, local/global and
positional encodings."""
from .full import (causal_attention, causal_mask, mask_value, merge_heads, padding_mask,
                   scaled_dot_product_attention, split_heads)
from .local_global import (band_matmul, band_scores, dense_attention_weights, local_global_mask,
                           sliding_window_attention)

from .masks import check_mask
from .local import chunked_to_dense, local_attention, look_adjacent
from .lsh import (bucket_count, default_num_buckets, draw_rotations, hash_vectors, lsh_attention,
                  normalize_keys, rotation_shape, sort_by_bucket)
from .positions import (axial_position_embeddings, axial_position_table, position_parameter_counts,
                        sinusoidal_positions)

__all__ = ["causal_attention", "causal_mask", "mask_value", "merge_heads", "padding_mask",
           "scaled_dot_product_attention", "split_heads"]
__all__ += ["band_matmul", "band_scores", "dense_attention_weights", "local_global_mask",
            "sliding_window_attention"]
__all__ += ["check_mask", "chunked_to_dense", "local_attention", "look_adjacent", "bucket_count",
            "default_num_buckets", "draw_rotations", "hash_vectors", "lsh_attention", "normalize_keys",
            "rotation_shape", "sort_by_bucket", "axial_position_embeddings", "axial_position_table",
            "position_parameter_counts", "sinusoidal_positions"]
