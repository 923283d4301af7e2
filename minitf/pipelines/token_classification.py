"""token-classification (alias ner): a label for every token, then grouped into entities.

With the course's default model (``pipeline("ner", grouped_entities=True)``:
dbmdz/bert-large-cased-finetuned-conll03-english)::

    ner("My name is Sylvain and I work at Hugging Face in Brooklyn.")
    [{'entity_group': 'PER', 'score': 0.9982, 'word': 'Sylvain', 'start': 11, 'end': 18},
     {'entity_group': 'ORG', 'score': 0.9797, 'word': 'Hugging Face', 'start': 33, 'end': 45},
     {'entity_group': 'LOC', 'score': 0.9932, 'word': 'Brooklyn', 'start': 49, 'end': 57}]

The same call on the committed tiny random BERT (its entities mean nothing):

    >>> from minitf import pipeline
    >>> ner = pipeline("ner", model="weights/tiny-bert-tokcls", aggregation_strategy="simple")
    >>> [(e["entity_group"], e["word"], e["start"], e["end"])
    ...  for e in ner("My name is Sylvain and I work at Hugging Face in Brooklyn.")][:3]
    [('ORG', 'my', 0, 2), ('MISC', 'name', 3, 7), ('ORG', 'is sylvain', 8, 18)]

Step by step (as transformers 4.x):
1. tokenize with offsets, truncated to what the model reads: ``Sylvain`` -> ``S ##yl ##va ##in``;
2. the model gives logits ``[seq, n_labels]``; a softmax per token gives the scores;
3. special tokens ([CLS], [SEP]) are dropped; each other token gets its best label
   (``B-PER``, ``I-PER``, ``O``, ...), its character span from the offsets, and a flag saying
   whether it continues a word (a WordPiece token with ``##``; for other tokenizers, not
   preceded by a space);
4. ``aggregation_strategy`` decides how tokens become entities:
   - ``"none"``: one dict per token: ``{'entity', 'score', 'index', 'word', 'start', 'end'}``;
   - ``"simple"``: neighbouring tokens with the same tag join one group unless the next one
     starts with ``B-``; the group's score is the mean of its tokens' scores and its word the
     tokens joined back (``S ##yl ##va ##in`` -> ``Sylvain``);
   - ``"first"`` / ``"average"`` / ``"max"``: first the tokens of each *word* are forced to agree
     (the first token's label, the label of the averaged scores, or the label of the most
     confident token), then words are grouped as in "simple";
   ``grouped_entities=True`` is the old spelling of "simple" (with ``ignore_subwords=True``: "first");
5. entities whose label is in ``ignore_labels`` (default ``["O"]``) are dropped.

With ``stride=k`` a text longer than the model is read in overlapping windows (``k`` tokens of
overlap) and the entities of all windows are merged. Scores are Python floats.
Unlike transformers, an empty string is an error; and grouping needs character offsets, so any
``aggregation_strategy`` but "none" with a tokenizer that has no offsets is an error.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..ops import softmax
from .base import Pipeline, merge_call_kwargs, texts_of

STRATEGIES = ("none", "simple", "first", "average", "max")


class TokenClassificationPipeline(Pipeline):
    task = "token-classification"
    model_loader = "AutoModelForTokenClassification"
    call_arguments = ("aggregation_strategy", "grouped_entities", "ignore_subwords",
                      "ignore_labels", "stride")

    def __call__(self, inputs, **kwargs):
        args = merge_call_kwargs(self, kwargs)
        strategy = self._strategy(args)
        ignore_labels = args.get("ignore_labels")
        ignore_labels = ["O"] if ignore_labels is None else list(ignore_labels)
        stride = args.get("stride")
        if stride is not None:
            self._check_stride(stride, strategy)
        texts, single = texts_of(inputs, self.task)
        results = [self._one(text, strategy, ignore_labels, stride) for text in texts]
        return results[0] if single else results

    # ---- arguments ------------------------------------------------------------------------------
    def _strategy(self, args: dict) -> str:
        strategy = args.get("aggregation_strategy")
        grouped, ignore_sub = args.get("grouped_entities"), args.get("ignore_subwords")
        if grouped is not None or ignore_sub is not None:
            # the pre-4.x spellings: grouped_entities=True -> "simple" (+ ignore_subwords -> "first")
            if grouped and ignore_sub:
                strategy = "first"
            elif grouped:
                strategy = "simple"
            else:
                strategy = "none"
            warnings.warn(f"`grouped_entities` / `ignore_subwords` are deprecated: "
                          f'use aggregation_strategy="{strategy}"', UserWarning, stacklevel=3)
        strategy = "none" if strategy is None else str(getattr(strategy, "value", strategy)).lower()
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown aggregation_strategy {args.get('aggregation_strategy')!r}; "
                             f"choose one of {list(STRATEGIES)}")
        if strategy != "none" and not _has_offsets(self.tokenizer):
            raise ValueError(f'aggregation_strategy="{strategy}" needs the character offsets of '
                             f"the tokens, which this (slow) tokenizer cannot give; use "
                             f'aggregation_strategy="none" or a fast tokenizer')
        return strategy

    def _check_stride(self, stride, strategy: str) -> None:
        max_len = self.truncation_length()
        if not isinstance(stride, int) or stride < 0:
            raise ValueError(f"stride must be a non-negative int (got {stride!r})")
        if max_len is not None and stride >= max_len:
            raise ValueError("`stride` must be less than `tokenizer.model_max_length` (or even lower "
                             "if the tokenizer adds special tokens)")
        if strategy == "none":
            raise ValueError('`stride` was provided to process all the text but '
                             '`aggregation_strategy="none"`, please select another one instead.')

    # ---- one text ---------------------------------------------------------------------------------
    def _one(self, text: str, strategy: str, ignore_labels: list, stride) -> list[dict]:
        offsets = _has_offsets(self.tokenizer)
        tok_args = dict(truncation=True, return_special_tokens_mask=True,
                        return_offsets_mapping=offsets)
        if stride is not None:
            tok_args.update(return_overflowing_tokens=True, stride=stride)
        enc = self.encode(text, **tok_args)
        n_chunks = len(enc["input_ids"])
        entities = []
        for i in range(n_chunks):
            feature = {k: enc[k][i] for k in ("input_ids", "attention_mask", "token_type_ids")
                       if k in enc}
            logits = self.forward([feature])["logits"][0]              # [seq, n_labels]
            scores = softmax(np.asarray(logits, dtype=np.float32))     # [seq, n_labels]
            pre = self.gather_pre_entities(
                text, enc["input_ids"][i], scores,
                enc["offset_mapping"][i] if offsets else None,
                enc["special_tokens_mask"][i], strategy)
            grouped = self.aggregate(pre, strategy)
            entities.extend(e for e in grouped if e.get("entity", e.get("entity_group"))
                            not in ignore_labels)
        if n_chunks > 1:
            entities = aggregate_overlapping_entities(entities)
        return entities

    def gather_pre_entities(self, sentence, input_ids, scores, offset_mapping,
                            special_tokens_mask, strategy) -> list[dict]:
        """One record per non-special token: its word piece, scores, span and subword flag."""
        prefix = _continuing_subword_prefix(self.tokenizer)
        pre = []
        for idx, token_scores in enumerate(scores):
            if special_tokens_mask[idx]:
                continue
            token_id = int(input_ids[idx])
            word = self.tokenizer.convert_ids_to_tokens(token_id)
            if offset_mapping is not None:
                start, end = (int(x) for x in offset_mapping[idx])
                word_ref = sentence[start:end]
                if prefix:
                    # a word-aware tokenizer: "##yl" (4 chars) covers "yl" (2 chars) of the text
                    is_subword = len(word) != len(word_ref)
                else:
                    # fallback heuristic of transformers: glued to the previous character
                    if strategy in ("first", "average", "max"):
                        warnings.warn("Tokenizer does not support real words, using fallback "
                                      "heuristic", UserWarning, stacklevel=4)
                    is_subword = start > 0 and " " not in sentence[start - 1:start + 1]
                if token_id == self.tokenizer.unk_token_id:
                    word, is_subword = word_ref, False
            else:
                start = end = None
                is_subword = False
            pre.append({"word": word, "scores": token_scores, "start": start, "end": end,
                        "index": idx, "is_subword": is_subword})
        return pre

    def aggregate(self, pre: list[dict], strategy: str) -> list[dict]:
        if strategy in ("none", "simple"):
            entities = []
            for p in pre:
                best = int(np.argmax(p["scores"]))
                entities.append({"entity": self.id2label(best), "score": float(p["scores"][best]),
                                 "index": p["index"], "word": p["word"],
                                 "start": p["start"], "end": p["end"]})
        else:
            entities = self.aggregate_words(pre, strategy)
        if strategy == "none":
            return entities
        return self.group_entities(entities)

    def aggregate_words(self, pre: list[dict], strategy: str) -> list[dict]:
        """Make the tokens of one word agree: micro|soft -> one word with one label."""
        words, group = [], None
        for p in pre:
            if group is None:
                group = [p]
            elif p["is_subword"]:
                group.append(p)
            else:
                words.append(self.aggregate_word(group, strategy))
                group = [p]
        if group is not None:
            words.append(self.aggregate_word(group, strategy))
        return words

    def aggregate_word(self, tokens: list[dict], strategy: str) -> dict:
        if strategy == "first":
            scores = tokens[0]["scores"]
        elif strategy == "max":
            scores = max(tokens, key=lambda t: t["scores"].max())["scores"]
        elif strategy == "average":
            scores = np.nanmean(np.stack([t["scores"] for t in tokens]), axis=0)
        else:
            raise ValueError(f"invalid aggregation_strategy {strategy!r} for word aggregation")
        best = int(np.argmax(scores))
        word = self.tokenizer.convert_tokens_to_string([t["word"] for t in tokens])
        return {"entity": self.id2label(best), "score": float(scores[best]), "word": word,
                "start": tokens[0]["start"], "end": tokens[-1]["end"]}

    def group_entities(self, entities: list[dict]) -> list[dict]:
        """Join neighbours with the same tag; a ``B-`` tag always starts a new group."""
        groups, current = [], []
        for entity in entities:
            if not current:
                current.append(entity)
                continue
            bi, tag = get_tag(entity["entity"])
            _, last_tag = get_tag(current[-1]["entity"])
            if tag == last_tag and bi != "B":
                current.append(entity)
            else:
                groups.append(self.group_sub_entities(current))
                current = [entity]
        if current:
            groups.append(self.group_sub_entities(current))
        return groups

    def group_sub_entities(self, entities: list[dict]) -> dict:
        tag = entities[0]["entity"].split("-", 1)[-1]
        score = np.nanmean(np.array([e["score"] for e in entities], dtype=np.float32))
        return {"entity_group": tag, "score": float(score),
                "word": self.tokenizer.convert_tokens_to_string([e["word"] for e in entities]),
                "start": entities[0]["start"], "end": entities[-1]["end"]}


def get_tag(name: str) -> tuple[str, str]:
    """'B-PER' -> ('B', 'PER'); a label without a B-/I- prefix counts as a continuation ('I')."""
    if name.startswith("B-"):
        return "B", name[2:]
    if name.startswith("I-"):
        return "I", name[2:]
    return "I", name


def aggregate_overlapping_entities(entities: list[dict]) -> list[dict]:
    """Entities of overlapping windows: of two that overlap keep the longer (then the surer)."""
    if not entities:
        return entities
    entities = sorted(entities, key=lambda e: e["start"])
    kept, previous = [], entities[0]
    for entity in entities:
        if previous["start"] <= entity["start"] < previous["end"]:
            length = entity["end"] - entity["start"]
            previous_length = previous["end"] - previous["start"]
            if length > previous_length or (length == previous_length
                                            and entity["score"] > previous["score"]):
                previous = entity
        else:
            kept.append(previous)
            previous = entity
    kept.append(previous)
    return kept


def _has_offsets(tokenizer) -> bool:
    """Can the tokenizer give character offsets (a "fast" tokenizer in transformers' words)?"""
    return bool(getattr(tokenizer, "is_fast", True))


def _continuing_subword_prefix(tokenizer) -> str | None:
    """'##' for WordPiece tokenizers (they know where words are), None otherwise."""
    for owner in (tokenizer, getattr(tokenizer, "model", None)):
        prefix = getattr(owner, "continuing_subword_prefix", None)
        if isinstance(prefix, str) and prefix:
            return prefix
    backend = getattr(tokenizer, "_tokenizer", None)  # a transformers fast tokenizer
    if backend is not None:
        return getattr(backend.model, "continuing_subword_prefix", None) or None
    return None
