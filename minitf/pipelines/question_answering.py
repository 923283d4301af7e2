"""question-answering: find the answer to a question as a span of a context (extractive QA).

With the course's default model (``pipeline("question-answering")``:
distilbert-base-cased-distilled-squad)::

    qa(question="Where do I work?",
       context="My name is Sylvain and I work at Hugging Face in Brooklyn")
    {'score': 0.6385, 'start': 33, 'end': 45, 'answer': 'Hugging Face'}

The same call on the committed tiny random DistilBERT (the span means nothing; it is still a
span of the context):

    >>> from minitf import pipeline
    >>> qa = pipeline("question-answering", model="weights/tiny-distilbert-qa")
    >>> context = "My name is Sylvain and I work at Hugging Face in Brooklyn"
    >>> out = qa(question="Where do I work?", context=context)
    >>> out["answer"], context[out["start"]:out["end"]] == out["answer"], round(out["score"], 3)
    ('name is Sylvain and I work at Hugging Face', True, 0.13)

Span decoding, exactly as transformers 4.x does it (transformers 5 dropped this pipeline):
1. tokenize ``[CLS] question [SEP] context [SEP]``, truncating only the context to
   ``max_seq_len`` (default ``min(model_max_length, 384)``); a longer context is cut into
   several windows that overlap by ``doc_stride`` tokens (default ``min(max_seq_len // 2, 128)``);
2. the model gives a start logit and an end logit per token;
3. every token that is not context (question, [SEP], padding) gets -10000, except [CLS];
   a softmax over the window turns each into probabilities ``p_start``, ``p_end``;
4. the null score ``p_start[CLS] * p_end[CLS]`` is kept (the "no answer" score), then [CLS]'s
   probabilities are set to 0;
5. span scores are the outer product ``p_start[i] * p_end[j]``, kept only for ``i <= j < i +
   max_answer_len`` (upper triangle, band of width ``max_answer_len``);
6. the best spans (``top_k * 2 + 10`` of them, since some merge) are mapped back to characters:
   the start of the word of the first token to the end of the word of the last token;
   spans with the same text (ignoring case) add their scores; the answers of all windows are
   sorted by score and the ``top_k`` best are kept;
7. with ``handle_impossible_answer=True`` the lowest null score of the windows competes as
   ``{'score': null, 'start': 0, 'end': 0, 'answer': ''}``.

One question gives one dict (a list of dicts when ``top_k > 1``); several give a list of those.
``start``/``end`` are character offsets into the context: ``context[start:end] == answer``.
``max_question_len`` is accepted and, as in transformers' fast path, not used.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..ops import softmax
from .base import Pipeline, check_not_empty, merge_call_kwargs


class QuestionAnsweringPipeline(Pipeline):
    task = "question-answering"
    model_loader = "AutoModelForQuestionAnswering"
    call_arguments = ("question", "context", "top_k", "topk", "doc_stride", "max_answer_len",
                      "max_seq_len", "max_question_len", "handle_impossible_answer",
                      "align_to_words", "padding")

    def __call__(self, *args, **kwargs):
        examples = self._examples(args, kwargs)
        kwargs.pop("question", None)
        kwargs.pop("context", None)
        opts = merge_call_kwargs(self, kwargs)
        opts.pop("question", None)
        opts.pop("context", None)
        top_k = opts.get("top_k", opts.get("topk", 1))
        if "topk" in opts and "top_k" not in opts:
            warnings.warn("topk parameter is deprecated, use top_k instead", UserWarning, stacklevel=2)
        if not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k parameter should be >= 1 (got {top_k})")
        max_answer_len = opts.get("max_answer_len", 15)
        if not isinstance(max_answer_len, int) or max_answer_len < 1:
            raise ValueError(f"max_answer_len parameter should be >= 1 (got {max_answer_len})")
        results = []
        for question, context in examples:
            windows = self.preprocess(question, context, opts.get("max_seq_len"),
                                      opts.get("doc_stride"))
            results.append(self.postprocess(windows, context, top_k,
                                            opts.get("handle_impossible_answer", False),
                                            max_answer_len, opts.get("align_to_words", True)))
        return results[0] if len(results) == 1 else results

    # ---- inputs -----------------------------------------------------------------------------------
    def _examples(self, args: tuple, kwargs: dict) -> list[tuple[str, str]]:
        """[(question, context), ...] from the forms transformers accepts."""
        if len(args) == 2 and all(isinstance(a, str) for a in args):
            items = [{"question": args[0], "context": args[1]}]
        elif len(args) == 1:
            items = args[0]
        elif args:
            items = list(args)
        elif "question" in kwargs and "context" in kwargs:
            q, c = kwargs["question"], kwargs["context"]
            if isinstance(q, list) and isinstance(c, str):
                items = [{"question": x, "context": c} for x in q]
            elif isinstance(q, list) and isinstance(c, list):
                if len(q) != len(c):
                    raise ValueError("Questions and contexts don't have the same lengths")
                items = [{"question": x, "context": y} for x, y in zip(q, c)]
            elif isinstance(q, str) and isinstance(c, str):
                items = [{"question": q, "context": c}]
            else:
                raise ValueError(f"question-answering: question= and context= must be strings or "
                                 f"lists of strings (got {type(q).__name__} and {type(c).__name__})")
        else:
            raise ValueError("question-answering needs a question and a context: "
                             "qa(question='...', context='...') or qa({'question': ..., 'context': ...})")
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, (list, tuple)) or not items:
            raise ValueError(f"question-answering: give a dict {{'question', 'context'}} or a "
                             f"non-empty list of them (got {type(items).__name__})")
        examples = []
        for item in items:
            if not isinstance(item, dict):
                raise ValueError(f"{item!r} argument needs to be of type dict with keys "
                                 f"'question' and 'context'")
            for key in ("question", "context"):
                if key not in item:
                    raise KeyError("You need to provide a dictionary with keys "
                                   "{question:..., context:...}")
                if item[key] is None:
                    raise ValueError(f"`{key}` cannot be None")
                if not isinstance(item[key], str):
                    raise TypeError(f"`{key}` must be a string (got {type(item[key]).__name__})")
                check_not_empty(item[key], self.task, key)
            examples.append((item["question"], item["context"]))
        return examples

    # ---- steps ------------------------------------------------------------------------------------
    def preprocess(self, question: str, context: str, max_seq_len=None, doc_stride=None) -> list[dict]:
        """Tokenize the pair into windows; each window's model inputs, p_mask and alignment."""
        tok = self.tokenizer
        if max_seq_len is None:
            max_seq_len = min(self.max_positions() or 384, 384)
        if doc_stride is None:
            doc_stride = min(max_seq_len // 2, 128)
        if doc_stride > max_seq_len:
            raise ValueError(f"`doc_stride` ({doc_stride}) is larger than `max_seq_len` ({max_seq_len})")
        question_first = tok.padding_side == "right"
        self._check_room(question, context, max_seq_len, doc_stride)
        try:
            enc = tok(question if question_first else context,
                      context if question_first else question,
                      truncation="only_second" if question_first else "only_first",
                      max_length=max_seq_len, stride=doc_stride, return_token_type_ids=True,
                      return_overflowing_tokens=True, return_offsets_mapping=True,
                      return_special_tokens_mask=True)
        except Exception as err:  # e.g. a question longer than max_seq_len leaves no room
            raise ValueError(f"question-answering could not fit the question and the context in "
                             f"max_seq_len={max_seq_len} tokens with doc_stride={doc_stride}: {err}. "
                             f"Use a shorter question, a larger max_seq_len or a smaller "
                             f"doc_stride.") from err
        windows = []
        context_index = 1 if question_first else 0
        for i in range(len(enc["input_ids"])):
            ids = list(enc["input_ids"][i])
            sequence_ids = enc.sequence_ids(i)
            # p_mask: 1 where a token cannot be part of the answer (all but context and [CLS])
            p_mask = [int(s != 1) if question_first else 0 for s in sequence_ids]
            if tok.cls_token_id is not None:
                for j, t in enumerate(ids):
                    if t == tok.cls_token_id:
                        p_mask[j] = 0
            windows.append({
                "features": {k: list(enc[k][i]) for k in
                             ("input_ids", "attention_mask", "token_type_ids") if k in enc},
                "p_mask": np.array(p_mask),
                "offsets": [tuple(int(x) for x in o) for o in enc["offset_mapping"][i]],
                "word_ids": enc.word_ids(i), "sequence_ids": sequence_ids,
                "context_index": context_index})
        return windows

    def _check_room(self, question: str, context: str, max_seq_len: int, doc_stride: int) -> None:
        """Clear errors where the `tokenizers` library fails (or panics) in the windowing."""
        tok = self.tokenizer
        n_question = len(tok(question, add_special_tokens=False, verbose=False)["input_ids"])
        n_context = len(tok(context, add_special_tokens=False, verbose=False)["input_ids"])
        room = max_seq_len - n_question - tok.num_special_tokens_to_add(pair=True)
        if n_question + n_context + tok.num_special_tokens_to_add(pair=True) <= max_seq_len:
            return  # everything fits in one window
        if room <= 0:
            raise ValueError(
                f"question-answering: the question is {n_question} tokens, which leaves no room "
                f"for the context in max_seq_len={max_seq_len} tokens; use a shorter question or "
                f"a larger max_seq_len (transformers: 'Sequence to truncate too short')")
        if doc_stride >= room:
            raise ValueError(
                f"question-answering: doc_stride={doc_stride} must be smaller than the room left "
                f"for the context in each window ({room} tokens = max_seq_len {max_seq_len} - "
                f"question {n_question} - special tokens); lower doc_stride or raise max_seq_len")

    def postprocess(self, windows: list[dict], context: str, top_k: int = 1,
                    handle_impossible_answer: bool = False, max_answer_len: int = 15,
                    align_to_words: bool = True):
        min_null_score = 1000000.0  # large and positive
        answers = []
        for w in windows:
            out = self.forward([w["features"]])
            start_logits = np.asarray(out["start_logits"], dtype=np.float32)  # [1, seq]
            end_logits = np.asarray(out["end_logits"], dtype=np.float32)      # [1, seq]
            attention_mask = np.array([w["features"].get("attention_mask")
                                       or [1] * len(w["features"]["input_ids"])])
            pre_topk = top_k * 2 + 10 if align_to_words else top_k
            starts, ends, scores, min_null_score = select_starts_ends(
                start_logits, end_logits, w["p_mask"], attention_mask, min_null_score, pre_topk,
                handle_impossible_answer, max_answer_len)
            for s, e, score in zip(starts, ends, scores):
                start_char, end_char = self.get_indices(w, int(s), int(e), align_to_words)
                text = context[start_char:end_char]
                same = next((a for a in answers if a["answer"].lower() == text.lower()), None)
                if same is not None:
                    same["score"] += float(score)
                else:
                    answers.append({"score": float(score), "start": start_char, "end": end_char,
                                    "answer": text})
        if handle_impossible_answer:
            answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda a: a["score"], reverse=True)[:top_k]
        return answers[0] if len(answers) == 1 else answers

    @staticmethod
    def get_indices(window: dict, s: int, e: int, align_to_words: bool) -> tuple[int, int]:
        """Character span of tokens s..e: widened to whole words when align_to_words."""
        offsets = window["offsets"]
        if align_to_words:
            start_chars = word_to_chars(window, window["word_ids"][s])
            end_chars = word_to_chars(window, window["word_ids"][e])
            if start_chars is not None and end_chars is not None:
                return start_chars[0], end_chars[1]
        return offsets[s][0], offsets[e][1]


def word_to_chars(window: dict, word: int | None) -> tuple[int, int] | None:
    """(start, end) characters of `word` in the context part of a window, as the `tokenizers`
    Encoding.word_to_chars: from the first to the last token of that word; None if none."""
    if word is None:
        return None
    seq, ctx = window["sequence_ids"], window["context_index"]
    tokens = [i for i, w in enumerate(window["word_ids"]) if w == word and seq[i] == ctx]
    if not tokens:
        return None
    return window["offsets"][tokens[0]][0], window["offsets"][tokens[-1]][1]


def select_starts_ends(start, end, p_mask, attention_mask, min_null_score=1000000.0, top_k=1,
                       handle_impossible_answer=False, max_answer_len=15):
    """Mask, normalise and decode one window's logits ([1, seq] each) into the best spans."""
    allowed = np.abs(np.array(p_mask) - 1)                 # 1 = may be in the answer  [seq]
    if attention_mask is not None:
        allowed = allowed & attention_mask                 # [1, seq]
    allowed = np.atleast_2d(allowed)
    start = np.where(allowed == 0, -10000.0, start)
    end = np.where(allowed == 0, -10000.0, end)
    start = softmax(start)                                 # p_start  [1, seq]
    end = softmax(end)                                     # p_end    [1, seq]
    if handle_impossible_answer:
        min_null_score = min(min_null_score, float(start[0, 0] * end[0, 0]))
    start[0, 0] = end[0, 0] = 0.0                          # [CLS] is the null answer, not a span
    starts, ends, scores = decode_spans(start, end, top_k, max_answer_len, allowed)
    return starts, ends, scores, min_null_score


def decode_spans(start, end, top_k: int, max_answer_len: int, allowed):
    """The `top_k` best (start, end) token pairs with start <= end < start + max_answer_len."""
    outer = np.matmul(start[:, :, None], end[:, None, :])               # [1, seq, seq]
    candidates = np.tril(np.triu(outer), max_answer_len - 1)            # the allowed band
    flat = candidates.flatten()
    if top_k == 1:
        order = [int(np.argmax(flat))]
    elif len(flat) < top_k:
        order = np.argsort(-flat)
    else:
        best = np.argpartition(-flat, top_k)[0:top_k]
        order = best[np.argsort(-flat[best])]
    starts, ends = np.unravel_index(order, candidates.shape)[1:]
    # transformers tests membership against np.nonzero of the 2-D mask, whose row indices (all 0)
    # also let token 0 through; spans at token 0 score 0 anyway ([CLS] was zeroed above).
    ok_positions = np.concatenate(np.nonzero(allowed))
    keep = np.isin(starts, ok_positions) & np.isin(ends, ok_positions)
    starts, ends = starts[keep], ends[keep]
    return starts, ends, candidates[0, starts, ends]
