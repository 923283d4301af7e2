"""The checks every model's forward runs on what it is given, with errors that say what to do.

A model takes arrays: ``model(**tok(text, return_tensors="np"))``. What students pass instead,
and what they are told:

    >>> from minitf.tokenizers import BatchEncoding
    >>> check_inputs(BatchEncoding({"input_ids": [[1, 2]]}), None, np)
    Traceback (most recent call last):
    ...
    TypeError: the model got the tokenizer's whole output (a BatchEncoding) as input_ids; unpack it: model(**enc)
    >>> check_inputs([[1, 2, 3], [4]], None, np)
    Traceback (most recent call last):
    ...
    ValueError: input_ids has rows of different lengths; pad them to one length: tok(texts, padding=True, return_tensors="np")
    >>> check_ids(np.array([[5, 1200]]), 1000, "input_ids", "vocab_size")
    Traceback (most recent call last):
    ...
    IndexError: input_ids contains id 1200, but vocab_size=1000 (valid ids: 0..999): the tokenizer and the model do not match; load both from the same checkpoint

A single sequence may come unbatched (``tok("hi")`` gives plain lists): input_ids of shape [t]
is read as one row, and so are the attention mask and token types that come with it.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .attention.full import padding_mask
from .attention.masks import check_mask

PAD_HINT = 'pad them to one length: tok(texts, padding=True, return_tensors="np")'


def as_array(value, name: str, xp):
    """`value` (an array or nested lists) as an array, with a hint for ragged lists."""
    if isinstance(value, Mapping):
        raise TypeError(f"the model got the tokenizer's whole output (a {type(value).__name__}) as "
                        f"{name}; unpack it: model(**enc)")
    try:
        return xp.asarray(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} has rows of different lengths; {PAD_HINT}") from None


def check_inputs(input_ids, inputs_embeds, xp):
    """Exactly one of input_ids [b, t] (integers; [t] is read as one sequence) or
    inputs_embeds [b, t, d]. Returns both, converted to arrays."""
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError("pass exactly one of input_ids or inputs_embeds")
    if input_ids is None:
        inputs_embeds = as_array(inputs_embeds, "inputs_embeds", xp)
        if inputs_embeds.ndim != 3:
            raise ValueError(f"inputs_embeds must have shape (batch, seq, hidden); got "
                             f"{tuple(inputs_embeds.shape)}")
        return None, inputs_embeds
    input_ids = as_array(input_ids, "input_ids", xp)
    if input_ids.dtype.kind not in "iu":
        raise TypeError(f"input_ids must be integers (got dtype {input_ids.dtype}); token ids come "
                        f'from the tokenizer: model(**tok(text, return_tensors="np"))')
    if input_ids.ndim == 1:
        input_ids = input_ids[None, :]
    if input_ids.ndim != 2:
        raise ValueError(f"input_ids must have shape (batch, seq); got {tuple(input_ids.shape)}")
    if input_ids.shape[1] == 0:
        raise ValueError("input_ids is empty (sequence length 0); give at least one token")
    return input_ids, None


def check_ids(ids, n: int, what: str, limit_name: str):
    """Raise an IndexError naming the bad id and the config field when ids fall outside 0..n-1."""
    if ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            hint = (": the tokenizer and the model do not match; load both from the same checkpoint"
                    if what == "input_ids" and bad >= n else "")
            raise IndexError(f"{what} contains id {bad}, but {limit_name}={n} "
                             f"(valid ids: 0..{n - 1}){hint}")


def check_token_types(token_type_ids, b: int, t: int, n_types: int, xp):
    """token_type_ids [b, t] (segment of each token; [t] for one row) -> int array [b, t];
    None -> all segment 0."""
    if token_type_ids is None:
        return xp.zeros((b, t), dtype=np.int64)  # every token in segment A
    token_type_ids = as_array(token_type_ids, "token_type_ids", xp)
    if token_type_ids.shape == (t,) and b == 1:
        token_type_ids = token_type_ids[None, :]
    if token_type_ids.shape != (b, t):
        raise ValueError(f"token_type_ids has shape {tuple(token_type_ids.shape)}; expected "
                         f"the shape of input_ids {(b, t)}")
    check_ids(token_type_ids, n_types, "token_type_ids", "type_vocab_size")
    return token_type_ids


def check_key_mask(attention_mask, b: int, n_keys: int, xp, *, name: str = "attention_mask",
                   square: bool = False, against: str = "input_ids", layout: str = "(batch, seq)"):
    """attention_mask [b, n_keys] of 1 (token) / 0 (padding) -> bool [b, n_keys]; [n_keys] is
    read as one row when b == 1; with `square`, a [b, n, n] query x key mask is kept as it is.
    None stays None."""
    also = ((b, n_keys, n_keys),) if square else ()
    also += ((n_keys,),) if b == 1 else ()
    mask = check_mask(attention_mask, (b, n_keys), name, also=also, against=against, layout=layout,
                      xp=xp)
    return mask[None, :] if mask is not None and mask.ndim == 1 else mask


def check_attention_mask(attention_mask, b: int, t: int, xp):
    """attention_mask [b, t] of 1 (token) / 0 (padding), or [b, t, t] (query x key) ->
    a bool "may attend" mask broadcastable to the scores [b, heads, t, t]; None stays None."""
    mask = check_key_mask(attention_mask, b, t, xp, square=True)
    if mask is None:
        return None
    if mask.ndim == 3:
        return mask[:, None]  # [b, 1, t, t]
    return padding_mask(mask)  # [b, 1, 1, t]: the same keys for every query


def layer_head_mask(head_mask, n_layers: int, i: int):
    """transformers' head_mask: [heads] (every layer) or [layers, heads], 1 keeps a head and 0
    silences it -> this layer's [heads, 1, 1], broadcast over [b, heads, t, t]."""
    if head_mask is None:
        return None
    hm = np.asarray(head_mask, np.float32)
    if hm.ndim == 2:
        if hm.shape[0] != n_layers:
            raise ValueError(f"head_mask has {hm.shape[0]} rows; the model has {n_layers} layers")
        hm = hm[i]
    return hm[:, None, None]
