"""feature-extraction: the hidden states of a model with no head, and sentence embeddings.

    >>> from minitf import pipeline
    >>> extractor = pipeline("feature-extraction", model="weights/real/all-MiniLM-L6-v2")
    >>> features = extractor("This is a simple test.")    # nested lists [1, seq, hidden]
    >>> len(features), len(features[0]), len(features[0][0])
    (1, 8, 384)
    >>> extractor("This is a simple test.", return_tensors=True).shape
    (1, 8, 384)

As transformers 4.x: one text gives ``last_hidden_state`` of shape ``[1, seq, hidden]`` as
nested Python lists (a NumPy array with ``return_tensors=True``), a list of texts a list of
those. ``truncation=True`` (or ``tokenize_kwargs={...}``) is passed to the tokenizer.

**Sentence embeddings** (minitf's addition; what sentence-transformers computes for
all-MiniLM-L6-v2): ``pooling="mean"`` averages the token vectors of each text, ignoring
padding (`mean_pooling`), and ``normalize=True`` scales each to unit length (`l2_normalize`),
so a dot product is a cosine similarity (`cos_sim`). A text then gives one vector ``[hidden]`` (a list, or an
array with ``return_tensors=True``). ``pooling="cls"`` takes the first token's vector, and
``pooling="max"`` the element-wise max over tokens.

    >>> embed = pipeline("feature-extraction", model="weights/real/all-MiniLM-L6-v2",
    ...                  pooling="mean", normalize=True, return_tensors=True)
    >>> a, b, c = embed(["A man is eating food.", "A man is eating a piece of bread.",
    ...                  "A man is riding a horse."])
    >>> round(float(cos_sim(a, b)), 3), round(float(cos_sim(a, c)), 3)   # bread is closer than horse
    (0.755, 0.247)

`sentence_embeddings(texts, model, tokenizer)` does the same in one function on a loaded model
and returns a ``[n_texts, hidden]`` array, running the texts in padded batches.
"""
from __future__ import annotations

import numpy as np

from .base import Pipeline, merge_call_kwargs, texts_of

POOLINGS = (None, "mean", "cls", "max")


def mean_pooling(last_hidden_state: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Average of the token vectors where attention_mask is 1.

    last_hidden_state: [batch, seq, hidden]; attention_mask: [batch, seq] -> [batch, hidden].
    """
    mask = np.asarray(attention_mask, dtype=last_hidden_state.dtype)[:, :, None]  # [b, seq, 1]
    summed = (last_hidden_state * mask).sum(axis=1)                              # [b, hidden]
    counts = np.clip(mask.sum(axis=1), 1e-9, None)                               # [b, 1]
    return summed / counts


def l2_normalize(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """x / ||x|| (L2), with a floor on the norm as torch.nn.functional.normalize (eps 1e-12)."""
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def cos_sim(a, b) -> np.ndarray | float:
    """Cosine similarity: of two vectors a float; of [n, d] and [m, d] an [n, m] matrix."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim == 1 and b.ndim == 1:
        return float(l2_normalize(a) @ l2_normalize(b))
    return l2_normalize(np.atleast_2d(a)) @ l2_normalize(np.atleast_2d(b)).T


def pool(last_hidden_state: np.ndarray, attention_mask: np.ndarray, pooling: str) -> np.ndarray:
    """[batch, seq, hidden] -> [batch, hidden] by 'mean', 'cls' (first token) or 'max'."""
    if pooling == "mean":
        return mean_pooling(last_hidden_state, attention_mask)
    if pooling == "cls":
        return last_hidden_state[:, 0]
    if pooling == "max":
        masked = np.where(np.asarray(attention_mask)[:, :, None] == 1, last_hidden_state, -np.inf)
        return masked.max(axis=1)
    raise ValueError(f"pooling must be one of {list(POOLINGS)} (got {pooling!r})")


class FeatureExtractionPipeline(Pipeline):
    task = "feature-extraction"
    model_loader = "AutoModel"
    call_arguments = ("return_tensors", "truncation", "tokenize_kwargs", "pooling", "normalize",
                      "batch_size")

    def __call__(self, inputs, **kwargs):
        args = merge_call_kwargs(self, kwargs)
        tok_args = dict(args.get("tokenize_kwargs") or {})
        if args.get("truncation") is not None:
            if "truncation" in tok_args:
                raise ValueError("truncation parameter defined twice (given as keyword argument "
                                 "as well as in tokenize_kwargs)")
            tok_args["truncation"] = args["truncation"]
        pooling = args.get("pooling")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {list(POOLINGS)} (got {pooling!r})")
        if args.get("normalize") and pooling is None:
            raise ValueError("normalize=True needs a sentence vector: pass pooling='mean' (or 'cls')")
        batch_size = args.get("batch_size", 1)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int (got {batch_size!r})")
        texts, single = texts_of(inputs, self.task)
        features = []
        for text in texts:
            enc = self.encode(text, **tok_args)
            features.append({k: v[0] for k, v in enc.items()
                             if k in ("input_ids", "attention_mask", "token_type_ids")})
        results = []
        for start in range(0, len(features), batch_size):
            chunk = features[start:start + batch_size]
            hidden = self.forward(chunk)["last_hidden_state"]       # [b, width, hidden]
            for i, f in enumerate(chunk):
                n = len(f["input_ids"])
                states = np.asarray(hidden[i:i + 1, :n])             # [1, seq, hidden]
                if pooling is not None:
                    mask = np.asarray([f.get("attention_mask", [1] * n)])
                    states = pool(states, mask, pooling)[0]          # [hidden]
                    if args.get("normalize"):
                        states = l2_normalize(states)
                results.append(states if args.get("return_tensors") else states.tolist())
        return results[0] if single else results


def sentence_embeddings(texts, model, tokenizer, pooling: str = "mean", normalize: bool = True,
                        batch_size: int = 32, max_length: int | None = None) -> np.ndarray:
    """[n_texts, hidden] sentence vectors of `texts` (a string or a list) with a loaded model.

    The texts run in padded batches of `batch_size`; `mean_pooling` ignores the padding.
    ``max_length`` truncates each text (sentence-transformers' all-MiniLM-L6-v2 reads 256 tokens).
    """
    pipe = FeatureExtractionPipeline(model, tokenizer)
    texts, _ = texts_of(texts, pipe.task)
    tok_args = {"truncation": True, "max_length": max_length} if max_length else {}
    out = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        features = [{k: v[0] for k, v in pipe.encode(t, **tok_args).items()
                     if k in ("input_ids", "attention_mask", "token_type_ids")} for t in chunk]
        hidden = pipe.forward(features)["last_hidden_state"]                # [b, width, hidden]
        width = hidden.shape[1]
        mask = np.array([[1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"]))
                         for f in features])                               # [b, width]
        vectors = pool(np.asarray(hidden), mask, pooling)                   # [b, hidden]
        out.append(l2_normalize(vectors) if normalize else vectors)
    return np.concatenate(out, axis=0)
