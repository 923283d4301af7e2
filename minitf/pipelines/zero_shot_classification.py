"""zero-shot-classification: classify with labels chosen at call time, using an NLI model.

With the default NLI model, facebook/bart-large-mnli (the course's)::

    classifier("This is a course about the Transformers library",
               candidate_labels=["education", "politics", "business"])
    {'sequence': 'This is a course about the Transformers library',
     'labels': ['education', 'business', 'politics'],
     'scores': [0.8446, 0.1119, 0.0435]}

The same call on the committed tiny random NLI BERT and BART-MNLI (the rankings mean nothing;
the scores still sum to 1):

    >>> from minitf import pipeline
    >>> classifier = pipeline("zero-shot-classification", model="weights/tiny-bert-nli")
    >>> out = classifier("This is a course about the Transformers library",
    ...                  candidate_labels=["education", "politics", "business"])
    >>> out["labels"], [round(s, 3) for s in out["scores"]]
    (['business', 'education', 'politics'], [0.428, 0.369, 0.203])
    >>> bart = pipeline("zero-shot-classification", model="weights/tiny-bart-mnli")
    >>> out = bart("This is a course about the Transformers library",
    ...            candidate_labels=["education", "politics", "business"])
    >>> round(sum(out["scores"]), 6), bart.model.config.id2label[bart.entailment_id]
    (1.0, 'entailment')

The trick (as transformers 4.x): a model fine-tuned on natural language inference (NLI) tells
whether a *premise* entails a *hypothesis*. Each candidate label becomes a hypothesis,
``hypothesis_template.format(label)`` (default ``"This example is {}."``), and the text is the
premise:
1. for each label, tokenize ``[CLS] text [SEP] This example is education. [SEP]`` (BART:
   ``<s> text </s></s> This example is education. </s>``; the text is truncated if needed,
   never the hypothesis) and run the model: logits over
   (contradiction, neutral, entailment) -- in the order of the model's ``config.id2label``;
2. the entailment column is the label whose name starts with "entail" (any case) in
   ``config.label2id``, so any NLI checkpoint works;
3. ``multi_label=False``: a softmax of the entailment logits *across labels*, so the scores
   sum to 1; ``multi_label=True`` (or a single label): for each label on its own, a softmax
   of (contradiction, entailment), so each score is in [0, 1] independently;
4. labels are sorted by score, best first.

``candidate_labels`` is a list or a comma-separated string. One text gives one dict, a list
of texts a list of dicts. Scores are Python floats.
"""
from __future__ import annotations

import logging

import numpy as np

from ..ops import softmax
from .base import Pipeline, merge_call_kwargs, texts_of

logger = logging.getLogger(__name__)


class ZeroShotClassificationPipeline(Pipeline):
    task = "zero-shot-classification"
    model_loader = "AutoModelForSequenceClassification"
    call_arguments = ("candidate_labels", "hypothesis_template", "multi_label", "multi_class",
                      "batch_size")

    @property
    def entailment_id(self) -> int:
        """The logit column of "entailment" (-1, the last, when config.json has no such label)."""
        for label, index in (getattr(self.config, "label2id", None) or {}).items():
            if label.lower().startswith("entail"):
                return int(index)
        return -1

    def __call__(self, sequences, *args, **kwargs):
        if len(args) == 1 and "candidate_labels" not in kwargs:
            kwargs["candidate_labels"] = args[0]
        elif args:
            raise ValueError(f"Unable to understand extra arguments {args}")
        opts = merge_call_kwargs(self, kwargs)
        if opts.get("multi_class") is not None:
            logger.warning("The `multi_class` argument has been renamed to `multi_label`.")
            opts["multi_label"] = opts["multi_class"]
        labels = parse_labels(opts.get("candidate_labels"))
        template = opts.get("hypothesis_template", "This example is {}.")
        if not isinstance(template, str) or template.format(labels[0]) == template:
            raise ValueError(f'The provided hypothesis_template "{template}" was not able to be '
                             f"formatted with the target labels. Make sure the passed template "
                             f"includes formatting syntax such as {{}} where the label should go.")
        batch_size = opts.get("batch_size", 1)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int (got {batch_size!r})")
        if self.entailment_id == -1:
            logger.warning("Failed to determine 'entailment' label id from the label2id mapping in "
                           "the model config. Setting to -1.")
        texts, single = texts_of(sequences, self.task, "sequence")
        results = [self._one(text, labels, template, bool(opts.get("multi_label", False)), batch_size)
                   for text in texts]
        return results[0] if single else results

    def _one(self, text: str, labels: list[str], template: str, multi_label: bool, batch_size: int):
        features = [self._tokenize_pair(text, template.format(label)) for label in labels]
        logits = []
        for start in range(0, len(features), batch_size):
            logits.append(np.asarray(self.forward(features[start:start + batch_size])["logits"],
                                     dtype=np.float32))
        logits = np.concatenate(logits)                        # [n_labels, n_nli_classes]
        entail = self.entailment_id
        if multi_label or len(labels) == 1:
            contradiction = -1 if entail == 0 else 0
            pair = logits[:, [contradiction, entail]]          # [n_labels, 2]
            scores = softmax(pair)[:, 1]                       # P(entailment) per label
        else:
            entail_logits = logits[:, entail]                  # [n_labels]
            scores = softmax(entail_logits)                    # across labels, sums to 1
        order = list(reversed(scores.argsort()))               # best first (ties: as transformers)
        return {"sequence": text, "labels": [labels[i] for i in order],
                "scores": [float(scores[i]) for i in order]}

    def _tokenize_pair(self, premise: str, hypothesis: str) -> dict:
        """Tokenize (premise, hypothesis), truncating only the premise; if even that cannot fit,
        do not truncate (transformers' fallback)."""
        try:
            enc = self.encode(premise, hypothesis, truncation="only_first")
        except Exception as err:
            if "too short" not in str(err):
                raise
            enc = self.encode(premise, hypothesis)
        return {k: v[0] for k, v in enc.items()
                if k in ("input_ids", "attention_mask", "token_type_ids")}


def parse_labels(labels) -> list[str]:
    """A list of labels, or a comma-separated string of them ("a, b,c" -> ['a', 'b', 'c'])."""
    if isinstance(labels, str):
        labels = [label.strip() for label in labels.split(",") if label.strip()]
    if labels is None or not isinstance(labels, (list, tuple)) or len(labels) == 0:
        raise ValueError("You must include at least one label and at least one sequence: pass "
                         "candidate_labels=['label one', 'label two', ...]")
    if not all(isinstance(label, str) for label in labels):
        raise TypeError(f"candidate_labels must be strings (got {labels!r})")
    return list(labels)
