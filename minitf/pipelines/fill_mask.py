"""fill-mask: guess the word hidden behind the model's mask token (chapter 1).

With the course's default model (``pipeline("fill-mask")``: distilroberta-base)::

    unmasker("This course will teach you all about <mask> models.", top_k=2)
    [{'score': 0.1962, 'token': 30412, 'token_str': ' mathematical',
      'sequence': 'This course will teach you all about mathematical models.'},
     {'score': 0.0405, 'token': 38163, 'token_str': ' computational',
      'sequence': 'This course will teach you all about computational models.'}]

The same call on the committed tiny random RoBERTa (its guesses mean nothing; the steps are
the same):

    >>> from minitf import pipeline
    >>> unmasker = pipeline("fill-mask", model="weights/tiny-roberta-mlm")
    >>> out = unmasker("This course will teach you all about <mask> models.", top_k=2)
    >>> [(r["token_str"], round(r["score"], 3)) for r in out]
    [('0', 0.097), (' audience', 0.082)]

Step by step (as transformers 4.x):
1. tokenize; the text must hold the model's own mask token (``[MASK]`` for BERT,
   ``<mask>`` for RoBERTa: ``pipe.tokenizer.mask_token`` says which);
2. the masked-LM head gives logits ``[seq, vocab]``; at each masked position a softmax over
   the vocabulary gives probabilities;
3. the ``top_k`` (default 5) most likely tokens are returned, best first, each with the text
   rebuilt with it (``sequence``). ``targets=["a", "b"]`` restricts the choice to those words
   (a word outside the vocabulary is replaced by its first token, with a warning).

One text gives a list of dicts; a list of texts a list of such lists (a list of *one* text gives
a flat list, as transformers). With several masks in one text, each mask gets its own list
(and ``sequence`` then keeps the special tokens, as transformers). Scores are Python floats.
"""
from __future__ import annotations

import logging

import numpy as np

from ..ops import softmax
from .base import Pipeline, merge_call_kwargs, texts_of

logger = logging.getLogger(__name__)


class FillMaskPipeline(Pipeline):
    task = "fill-mask"
    model_loader = "AutoModelForMaskedLM"
    call_arguments = ("top_k", "targets", "tokenizer_kwargs")

    def __call__(self, inputs, **kwargs):
        args = merge_call_kwargs(self, kwargs)
        tok = self.tokenizer
        if tok.mask_token_id is None:
            raise ValueError("fill-mask: the tokenizer does not define a `mask_token`")
        top_k = args.get("top_k", 5)
        if not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be a positive int (got {top_k!r})")
        target_ids = self.get_target_ids(args["targets"]) if args.get("targets") is not None else None
        texts, _ = texts_of(inputs, self.task)
        results = []
        for text in texts:
            enc = self.encode(text, **(args.get("tokenizer_kwargs") or {}))
            ids = np.array(enc["input_ids"][0])
            if not (ids == tok.mask_token_id).any():
                raise ValueError(f"fill-mask: no mask_token ({tok.mask_token}) found on the input "
                                 f"{text!r}; put {tok.mask_token} where the word to guess goes")
            features = {k: v[0] for k, v in enc.items()
                        if k in ("input_ids", "attention_mask", "token_type_ids")}
            logits = self.forward([features])["logits"][0]   # [seq, vocab]
            logits = np.asarray(logits, dtype=np.float32)
            results.append(self.postprocess(ids, logits, top_k, target_ids))
        if isinstance(inputs, list) and len(inputs) == 1:
            return results[0]
        return results[0] if isinstance(inputs, str) else results

    def postprocess(self, ids: np.ndarray, logits: np.ndarray, top_k: int, target_ids=None):
        tok = self.tokenizer
        masked = np.nonzero(ids == tok.mask_token_id)[0]                 # mask positions
        probs = softmax(logits[masked])                                  # [n_masks, vocab]
        if target_ids is not None:
            probs = probs[:, target_ids]                                 # [n_masks, n_targets]
        k = min(top_k, probs.shape[-1])
        single = len(masked) == 1
        result = []
        for row, position in zip(probs, masked):
            order = np.argsort(-row, kind="stable")[:k]
            records = []
            for p in order:
                token = int(target_ids[p]) if target_ids is not None else int(p)
                filled = ids.copy()
                filled[position] = token
                if tok.pad_token_id is not None:
                    filled = filled[filled != tok.pad_token_id]
                records.append({"score": float(row[p]), "token": token,
                                "token_str": tok.decode([token]),
                                "sequence": tok.decode(filled.tolist(), skip_special_tokens=single)})
            result.append(records)
        return result[0] if single else result

    def get_target_ids(self, targets) -> np.ndarray:
        """Token ids of the `targets` words (a word not in the vocabulary: its first token)."""
        if isinstance(targets, str):
            targets = [targets]
        vocab = self.tokenizer.get_vocab()
        ids = []
        for target in targets:
            token_id = vocab.get(target)
            if token_id is None:
                pieces = self.tokenizer(target, add_special_tokens=False, truncation=True,
                                        max_length=1)["input_ids"]
                if not pieces:
                    logger.warning("The specified target token `%s` does not exist in the model "
                                   "vocabulary. We cannot replace it with anything meaningful, "
                                   "ignoring it", target)
                    continue
                token_id = pieces[0]
                logger.warning("The specified target token `%s` does not exist in the model "
                               "vocabulary. Replacing with `%s`.", target,
                               self.tokenizer.convert_ids_to_tokens(token_id))
            ids.append(int(token_id))
        ids = list(set(ids))  # (the order of transformers: a set of ints, as CPython iterates it)
        if not ids:
            raise ValueError("fill-mask: at least one target must be provided when targets= is passed")
        return np.array(ids)
