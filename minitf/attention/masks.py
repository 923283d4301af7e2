"""The one check every attention mask goes through, whoever receives it.

A mask says which positions are real tokens (1) and which are padding (0). Models, attention
functions and `generate` all take one; each used to check it its own way. `check_mask` turns
what the user passed into a boolean array of the expected shape, or says exactly what is wrong:

    >>> check_mask([[1, 1, 0]], (1, 3)).tolist()
    [[True, True, False]]
    >>> check_mask([[1, 1]], (1, 3))
    Traceback (most recent call last):
    ...
    ValueError: attention_mask has shape (1, 2), but input_ids has shape (1, 3): the mask must be (batch, seq) = (1, 3)
    >>> check_mask([[1, 2, 0]], (1, 3))
    Traceback (most recent call last):
    ...
    ValueError: attention_mask must hold only 0 and 1 (or booleans); it holds [0, 1, 2]
"""
from __future__ import annotations

import numpy as np


def check_mask(mask, shape: tuple, name: str = "attention_mask", *, also: tuple = (),
               against: str = "input_ids", layout: str = "(batch, seq)", xp=np):
    """`mask` (array or nested lists of 0/1 or booleans) -> bool array; None stays None.

    shape: the shape the mask must have (``(batch, seq)`` of the ids it goes with);
    also: other accepted shapes (BERT takes a (batch, seq, seq) query x key mask too);
    against / layout: how the error names the input the mask must match and its axes.
    """
    if mask is None:
        return None
    try:
        mask = xp.asarray(mask)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name} could not be read as an array ({e}); rows of different lengths "
                         f"need padding: call the tokenizer with padding=True, "
                         f"return_tensors='np'") from None
    shape = tuple(int(n) for n in shape)
    if tuple(mask.shape) != shape and tuple(mask.shape) not in also:
        alternatives = "".join(f" (or {tuple(s)})" for s in also)
        raise ValueError(f"{name} has shape {tuple(mask.shape)}, but {against} has shape "
                         f"{shape}: the mask must be {layout} = "
                         f"{shape}{alternatives}")
    if mask.dtype != bool:
        if mask.dtype.kind not in "iuf":
            raise TypeError(f"{name} must hold 0/1 numbers or booleans (got dtype {mask.dtype})")
        if mask.size and not bool(((mask == 0) | (mask == 1)).all()):
            values = sorted(set(xp.unique(mask).tolist()))
            shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values[:6])
            raise ValueError(f"{name} must hold only 0 and 1 (or booleans); it holds "
                             f"[{shown}{', ...' if len(values) > 6 else ''}]")
    return mask.astype(bool)
