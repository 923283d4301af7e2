"""Expected outputs of the understanding pipelines, made with transformers (run by hand).

    .venv/bin/python weights/make_fixtures_pipelines.py

Runs the transformers 4.x pipelines (text-classification, token-classification,
question-answering, fill-mask, feature-extraction, zero-shot-classification) on the committed
tiny random checkpoints (`weights/tiny-bert*`, `tiny-distilbert-*`, `tiny-roberta-*`) for
every case in `CASES` and writes `tests/fixtures/pipelines_expected.json`.
`tests/test_pipelines_understanding.py` replays the cases with minitf, without torch;
`tests/parity/test_pipelines_live.py` runs the same `CASES` against transformers live.

A case is ``(case_id, task, checkpoint, pipeline_kwargs, inputs, call_kwargs)``; `inputs` is
passed positionally unless it is None (question answering passes ``question=``/``context=``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights"
EXPECTED = ROOT / "tests" / "fixtures" / "pipelines_expected.json"

SENTIMENT = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
NER = "My name is Sylvain and I work at Hugging Face in Brooklyn."
NER_2 = "Angela Merkel met Emmanuel Macron in Strasbourg, said the reporter from Reuters."
CONTEXT = ("My name is Sylvain and I work at Hugging Face in Brooklyn. Hugging Face was founded "
           "in 2016 by French entrepreneurs in New York City.")
LONG_CONTEXT = " ".join([CONTEXT] * 6)
MASK_TEXT = "This course will teach you all about {mask} models."
ZERO_SHOT = "This is a course about the Transformers library"
LABELS = ["education", "politics", "business"]

# (case_id, task, checkpoint folder under weights/, pipeline(...) kwargs, inputs, call kwargs)
CASES = [
    # ---- text-classification ------------------------------------------------------------------
    ("tc_single", "sentiment-analysis", "tiny-bert-seqcls", {}, SENTIMENT[0], {}),
    ("tc_list", "sentiment-analysis", "tiny-bert-seqcls", {}, SENTIMENT, {}),
    ("tc_topk_none", "text-classification", "tiny-bert-seqcls", {}, SENTIMENT[0], {"top_k": None}),
    ("tc_topk_none_list", "text-classification", "tiny-bert-seqcls", {}, SENTIMENT, {"top_k": None}),
    ("tc_topk_1", "text-classification", "tiny-bert-seqcls", {}, SENTIMENT, {"top_k": 1}),
    ("tc_topk_init", "text-classification", "tiny-bert-seqcls", {"top_k": None}, SENTIMENT[0], {}),
    ("tc_return_all", "text-classification", "tiny-bert-seqcls", {}, SENTIMENT[1],
     {"return_all_scores": True}),
    ("tc_sigmoid", "text-classification", "tiny-bert-seqcls", {}, SENTIMENT,
     {"function_to_apply": "sigmoid", "top_k": None}),
    ("tc_none", "text-classification", "tiny-bert-seqcls", {}, SENTIMENT[0],
     {"function_to_apply": "none"}),
    ("tc_pair", "text-classification", "tiny-bert-nli", {},
     {"text": "A man is eating.", "text_pair": "Someone eats food."}, {}),
    ("tc_pair_list", "text-classification", "tiny-bert-nli", {},
     [{"text": "A man is eating.", "text_pair": "Someone eats food."},
      {"text": "A man is eating.", "text_pair": "Nobody is eating."}], {"top_k": 2}),
    ("tc_truncation", "text-classification", "tiny-bert-seqcls", {}, " ".join(SENTIMENT * 60),
     {"truncation": True}),
    ("tc_distilbert", "sentiment-analysis", "tiny-distilbert-seqcls", {}, SENTIMENT, {"top_k": None}),
    ("tc_roberta", "sentiment-analysis", "tiny-roberta-seqcls", {}, SENTIMENT, {}),
    # ---- token-classification -----------------------------------------------------------------
    *[(f"ner_{s}", "ner", "tiny-bert-tokcls", {"aggregation_strategy": s}, NER, {})
      for s in ("none", "simple", "first", "average", "max")],
    *[(f"ner_{s}_all", "token-classification", "tiny-bert-tokcls", {}, [NER, NER_2],
       {"aggregation_strategy": s, "ignore_labels": []}) for s in ("none", "simple", "first", "average", "max")],
    ("ner_grouped_entities", "ner", "tiny-bert-tokcls", {"grouped_entities": True}, NER, {}),
    ("ner_grouped_ignore_subwords", "ner", "tiny-bert-tokcls",
     {"grouped_entities": True, "ignore_subwords": True}, NER_2, {}),
    ("ner_stride", "ner", "tiny-bert-tokcls", {"aggregation_strategy": "first", "stride": 8},
     " ".join([NER, NER_2] * 6), {"ignore_labels": []}),
    ("ner_unknown_chars", "ner", "tiny-bert-tokcls", {}, "Ωmega ☃ met Zoë in Köln", {"ignore_labels": []}),
    # ---- question-answering -------------------------------------------------------------------
    ("qa_single", "question-answering", "tiny-bert-qa", {}, None,
     {"question": "Where do I work?", "context": CONTEXT}),
    ("qa_top_k", "question-answering", "tiny-bert-qa", {}, None,
     {"question": "Where do I work?", "context": CONTEXT, "top_k": 5}),
    ("qa_impossible", "question-answering", "tiny-bert-qa", {}, None,
     {"question": "Where do I work?", "context": CONTEXT, "top_k": 3, "handle_impossible_answer": True}),
    ("qa_max_answer_len", "question-answering", "tiny-bert-qa", {}, None,
     {"question": "Who founded it?", "context": CONTEXT, "top_k": 3, "max_answer_len": 2}),
    ("qa_no_align", "question-answering", "tiny-bert-qa", {}, None,
     {"question": "Who founded it?", "context": CONTEXT, "top_k": 3, "align_to_words": False}),
    ("qa_long_context", "question-answering", "tiny-bert-qa", {}, None,
     {"question": "When was Hugging Face founded?", "context": LONG_CONTEXT, "top_k": 3}),
    ("qa_doc_stride", "question-answering", "tiny-bert-qa", {}, None,
     {"question": "When was Hugging Face founded?", "context": LONG_CONTEXT, "max_seq_len": 48,
      "doc_stride": 16, "top_k": 4, "handle_impossible_answer": True}),
    ("qa_questions_list", "question-answering", "tiny-bert-qa", {}, None,
     {"question": ["Where do I work?", "What is my name?"], "context": CONTEXT}),
    ("qa_dict_list", "question-answering", "tiny-bert-qa", {},
     [{"question": "Where do I work?", "context": CONTEXT},
      {"question": "Where?", "context": "In Brooklyn."}], {}),
    ("qa_short_context", "question-answering", "tiny-bert-qa", {}, None,
     {"question": "In which city and borough do the people who founded Hugging Face work today?",
      "context": "Brooklyn."}),
    ("qa_distilbert", "question-answering", "tiny-distilbert-qa", {}, None,
     {"question": "Where do I work?", "context": CONTEXT, "top_k": 2}),
    # ---- fill-mask --------------------------------------------------------------------------------
    ("fm_distilbert", "fill-mask", "tiny-distilbert-mlm", {}, MASK_TEXT.format(mask="[MASK]"), {}),
    ("fm_distilbert_top2_list", "fill-mask", "tiny-distilbert-mlm", {},
     [MASK_TEXT.format(mask="[MASK]"), "Paris is the [MASK] of France."], {"top_k": 2}),
    ("fm_list_of_one", "fill-mask", "tiny-distilbert-mlm", {}, [MASK_TEXT.format(mask="[MASK]")],
     {"top_k": 3}),
    ("fm_two_masks", "fill-mask", "tiny-distilbert-mlm", {}, "The [MASK] sat on the [MASK].", {"top_k": 3}),
    ("fm_targets", "fill-mask", "tiny-distilbert-mlm", {}, MASK_TEXT.format(mask="[MASK]"),
     {"targets": ["the", "models", "course"]}),
    ("fm_bert", "fill-mask", "tiny-bert", {}, "Paris is the [MASK] of France.", {"top_k": 4}),
    ("fm_roberta", "fill-mask", "tiny-roberta-mlm", {}, MASK_TEXT.format(mask="<mask>"), {"top_k": 2}),
    ("fm_roberta_targets", "fill-mask", "tiny-roberta-mlm", {}, MASK_TEXT.format(mask="<mask>"),
     {"targets": [" the", " models", "course"]}),
    # ---- feature-extraction -----------------------------------------------------------------------
    ("fe_bert", "feature-extraction", "tiny-bert", {}, "This is a simple test.", {}),
    ("fe_bert_list", "feature-extraction", "tiny-bert", {}, ["Hello world!", "This is a simple test."], {}),
    ("fe_distilbert", "feature-extraction", "tiny-distilbert-mlm", {}, "This is a simple test.", {}),
    ("fe_roberta", "feature-extraction", "tiny-roberta-mlm", {}, "This is a simple test.", {}),
    # ---- zero-shot-classification -----------------------------------------------------------------
    ("zs_single", "zero-shot-classification", "tiny-bert-nli", {}, ZERO_SHOT, {"candidate_labels": LABELS}),
    ("zs_multi_label", "zero-shot-classification", "tiny-bert-nli", {}, ZERO_SHOT,
     {"candidate_labels": LABELS, "multi_label": True}),
    ("zs_comma_labels", "zero-shot-classification", "tiny-bert-nli", {},
     [ZERO_SHOT, "Who will win the election?"], {"candidate_labels": "education, politics,business"}),
    ("zs_one_label", "zero-shot-classification", "tiny-bert-nli", {}, ZERO_SHOT,
     {"candidate_labels": ["education"]}),
    ("zs_template", "zero-shot-classification", "tiny-bert-nli", {}, ZERO_SHOT,
     {"candidate_labels": LABELS, "hypothesis_template": "The topic of this text is {}."}),
    ("zs_long_text", "zero-shot-classification", "tiny-bert-nli", {}, " ".join([ZERO_SHOT] * 80),
     {"candidate_labels": LABELS}),
    ("zs_no_entailment_label", "zero-shot-classification", "tiny-roberta-seqcls", {}, ZERO_SHOT,
     {"candidate_labels": LABELS}),
]


def jsonable(x):
    """Pipeline outputs as JSON: NumPy / torch scalars and arrays become floats and lists."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "detach"):
        x = x.detach().numpy()
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def run_case(pipe, inputs, call_kwargs):
    """Call a pipeline (transformers' or minitf's) the way a case says."""
    if inputs is None:
        return pipe(**call_kwargs)
    return pipe(inputs, **call_kwargs)


def transformers_pipeline(task, checkpoint, init):
    import transformers

    return transformers.pipeline(task, model=str(WEIGHTS / checkpoint), device="cpu", **init)


def main() -> int:
    import warnings

    import transformers

    missing = sorted({c[2] for c in CASES if not (WEIGHTS / c[2]).is_dir()})
    if missing:
        print(f"missing checkpoints under {WEIGHTS}: {missing}", file=sys.stderr)
        return 1
    cases = []
    pipes = {}
    for case_id, task, checkpoint, init, inputs, call in CASES:
        key = (task, checkpoint, json.dumps(init, sort_keys=True))
        if key not in pipes:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipes[key] = transformers_pipeline(task, checkpoint, init)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = run_case(pipes[key], inputs, call)
        cases.append({"id": case_id, "task": task, "checkpoint": checkpoint, "init": init,
                      "inputs": inputs, "call": call, "expected": jsonable(out)})
        print(f"{case_id:28s} ok")
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    EXPECTED.write_text(json.dumps({"transformers_version": transformers.__version__,
                                    "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {EXPECTED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
