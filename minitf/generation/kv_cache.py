"""The KV cache: keys and values of past tokens, kept so each new token costs one row.

Without a cache, generating token t recomputes attention inputs for all t tokens (O(t^2)
work over a generation). With it, the model computes q, k, v for the new token only, appends
k and v here, and attends over everything stored.

Storage is preallocated per layer as [batch, heads, capacity, head_dim] and doubled when
full, so appending is a copy of the new rows only (not a concatenation of the whole past).

    >>> import numpy as np
    >>> cache = KVCache(n_layer=1)
    >>> k = v = np.ones((1, 2, 3, 4), np.float32)       # 3 prompt tokens
    >>> keys, values = cache.update(0, k, v)
    >>> keys.shape, cache.get_seq_length()
    ((1, 2, 3, 4), 3)
"""
from __future__ import annotations

from ..backend import get_array_module


class KVCache:
    def __init__(self, n_layer: int, capacity: int = 0):
        self.n_layer = n_layer
        self.capacity_hint = capacity  # expected total length (prompt + new tokens), if known
        self.keys: list = [None] * n_layer  # each [batch, heads, capacity, head_dim]
        self.values: list = [None] * n_layer
        self.lengths = [0] * n_layer

    def get_seq_length(self, layer: int = 0) -> int:
        """Tokens stored so far (for layer 0: the past length seen by the next forward)."""
        return self.lengths[layer]

    def update(self, layer: int, k, v):
        """Append k, v ([batch, heads, new, head_dim]) for `layer`; return all keys and values
        stored for it, [batch, heads, past + new, head_dim] each."""
        xp = get_array_module(k)
        b, h, t, d = k.shape
        n = self.lengths[layer]
        store = self.keys[layer]
        if store is None or n + t > store.shape[2]:
            cap = max(n + t, self.capacity_hint, 2 * (store.shape[2] if store is not None else 0))
            new_k = xp.empty((b, h, cap, d), k.dtype)
            new_v = xp.empty((b, h, cap, d), v.dtype)
            if store is not None:
                new_k[:, :, :n] = self.keys[layer][:, :, :n]
                new_v[:, :, :n] = self.values[layer][:, :, :n]
            self.keys[layer], self.values[layer] = new_k, new_v
        self.keys[layer][:, :, n:n + t] = k
        self.values[layer][:, :, n:n + t] = v
        self.lengths[layer] = n + t
        return self.keys[layer][:, :, :n + t], self.values[layer][:, :, :n + t]

    def reorder(self, index) -> None:
        """Keep batch rows `index` (beam search: each beam continues from its parent's cache)."""
        for i in range(self.n_layer):
            if self.keys[i] is not None:
                n = self.lengths[i]
                self.keys[i][:, :, :n] = self.keys[i][index, :, :n]
                self.values[i][:, :, :n] = self.values[i][index, :, :n]

    def crop(self, length: int) -> None:
        """Forget everything after the first `length` tokens."""
        self.lengths = [min(n, length) for n in self.lengths]

    @property
    def nbytes(self) -> int:
        """Bytes allocated for keys and values (capacity, not just what is used)."""
        return sum(int(a.nbytes) for a in self.keys + self.values if a is not None)

    def to_legacy(self) -> tuple:
        """((k, v) per layer) as transformers' legacy tuple format, copies of the used part."""
        return tuple((self.keys[i][:, :, :self.lengths[i]].copy(),
                      self.values[i][:, :, :self.lengths[i]].copy()) for i in range(self.n_layer))

    @classmethod
    def from_legacy(cls, past) -> "KVCache":
        cache = cls(len(past))
        for i, (k, v) in enumerate(past):
            cache.update(i, k, v)
        return cache

    def __len__(self):
        return self.n_layer

    def __repr__(self):
        return f"KVCache(n_layer={self.n_layer}, length={self.get_seq_length()}, nbytes={self.nbytes})"


class EncoderDecoderCache:
    """The cache of an encoder-decoder (BART, Marian, Whisper): two parts per decoder layer.

    - self-attention: the decoder's own keys and values, a `KVCache` that grows by one row
      per generated token;
    - cross-attention: the keys and values of the *encoder output*, computed at the first step
      and then only read (the source does not change while the target grows).

    Beam search reorders the self-attention part (each beam continues from its parent). The
    cross-attention part is left alone: the beams of one source all hold the same rows, so a
    model may keep one copy per source ([sources, heads, src, hd], BART does) instead of one
    per row; `to_legacy` then repeats it for every row.

        >>> import numpy as np
        >>> cache = EncoderDecoderCache(n_layer=1)
        >>> cache.cross_attention[0] is None                # filled by the first decoder step
        True
        >>> _ = cache.update(0, np.ones((2, 1, 1, 4)), np.ones((2, 1, 1, 4)))
        >>> cache.get_seq_length()
        1
    """

    def __init__(self, n_layer: int, capacity: int = 0):
        self.self_attention_cache = KVCache(n_layer, capacity)
        self.cross_attention: list = [None] * n_layer  # per layer: (k, v) [b or sources, heads, src, hd]

    @property
    def n_layer(self) -> int:
        return self.self_attention_cache.n_layer

    def get_seq_length(self, layer: int = 0) -> int:
        """Target tokens seen so far (the decoder positions already in the cache)."""
        return self.self_attention_cache.get_seq_length(layer)

    def update(self, layer: int, k, v):
        """Append the decoder's new keys/values for `layer` (see `KVCache.update`)."""
        return self.self_attention_cache.update(layer, k, v)

    def reorder(self, index) -> None:
        self.self_attention_cache.reorder(index)

    def crop(self, length: int) -> None:
        self.self_attention_cache.crop(length)

    @property
    def nbytes(self) -> int:
        cross = sum(int(a.nbytes) for kv in self.cross_attention if kv is not None for a in kv)
        return self.self_attention_cache.nbytes + cross

    def to_legacy(self) -> tuple:
        """transformers' legacy format: (self k, self v, cross k, cross v) per layer."""
        own = self.self_attention_cache.to_legacy()
        return tuple(own[i] + self._cross_rows(i, own[i][0]) for i in range(self.n_layer))

    def _cross_rows(self, layer: int, self_keys) -> tuple:
        """The cross-attention (k, v) of `layer` with one row per decoder row: a copy kept once
        per source (beams sharing it) is repeated to the self-attention part's batch size."""
        kv = self.cross_attention[layer]
        if kv is None:
            return (None, None)
        rows, sources = self_keys.shape[0], kv[0].shape[0]
        if rows == sources or sources == 0 or rows % sources:
            return tuple(kv)
        xp = get_array_module(kv[0])
        return tuple(xp.repeat(a, rows // sources, axis=0) for a in kv)

    @classmethod
    def from_legacy(cls, past) -> "EncoderDecoderCache":
        cache = cls(len(past))
        for i, layer in enumerate(past):
            if len(layer) != 4:
                raise ValueError(f"past_key_values[{i}] has {len(layer)} arrays; an encoder-decoder "
                                 f"layer's cache holds 4 (self k, self v, cross k, cross v)")
            cache.update(i, layer[0], layer[1])
            cache.cross_attention[i] = (layer[2], layer[3])
        return cache

    def __len__(self):
        return self.n_layer

    def __repr__(self):
        return (f"EncoderDecoderCache(n_layer={self.n_layer}, length={self.get_seq_length()}, "
                f"nbytes={self.nbytes})")
