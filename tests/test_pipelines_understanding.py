"""The understanding pipelines (text-classification, token-classification, question-answering,
fill-mask, feature-extraction, zero-shot-classification), without torch.

1. Golden fixtures: every case of `weights/make_fixtures_pipelines.py` (what transformers 4.57's
   pipelines return on the committed tiny checkpoints) is replayed with minitf: scores within
   1e-4, everything else (labels, order, words, offsets, answers, tokens) identical.
2. Behaviour: output shapes, sentence embeddings on the real all-MiniLM-L6-v2, batching.
3. Bad input: each gives a clear error.
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.pipelines.feature_extraction import cos_sim, mean_pooling, sentence_embeddings

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "weights"
MINILM = WEIGHTS / "real" / "all-MiniLM-L6-v2"
FIXTURES = json.loads((ROOT / "tests" / "fixtures" / "pipelines_expected.json").read_text())
CASES = FIXTURES["cases"]
TOL = 1e-4


def assert_matches(got, want, path="out"):
    """Same structure, keys in the same order, numbers within TOL, everything else equal."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: expected a dict, got {type(got).__name__}"
        assert list(got) == list(want), f"{path}: keys {list(got)} != {list(want)}"
        for key in want:
            assert_matches(got[key], want[key], f"{path}[{key!r}]")
    elif isinstance(want, list):
        got = got.tolist() if isinstance(got, np.ndarray) else got
        assert isinstance(got, list), f"{path}: expected a list, got {type(got).__name__}"
        assert len(got) == len(want), f"{path}: length {len(got)} != {len(want)}"
        if want and all(isinstance(w, float) for w in want):
            np.testing.assert_allclose(np.array(got, dtype=np.float64), want, atol=TOL, rtol=0,
                                       err_msg=path)
            return
        for i, (g, w) in enumerate(zip(got, want)):
            assert_matches(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert isinstance(got, (float, int)) and abs(got - want) <= TOL, f"{path}: {got!r} != {want!r}"
    else:
        assert got == want and type(got) is type(want), f"{path}: {got!r} != {want!r}"


_PIPES = {}


def get_pipe(task, checkpoint, init=None):
    key = (task, checkpoint, json.dumps(init or {}, sort_keys=True))
    if key not in _PIPES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _PIPES[key] = minitf.pipeline(task, model=str(WEIGHTS / checkpoint), **(init or {}))
    return _PIPES[key]


def run_case(case):
    pipe = get_pipe(case["task"], case["checkpoint"], case["init"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case["inputs"] is None:
            return pipe(**case["call"])
        return pipe(case["inputs"], **case["call"])


# ---- 1. golden fixtures ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_same_output_as_transformers(case):
    assert_matches(run_case(case), case["expected"])


def test_fixtures_cover_every_task():
    tasks = {minitf.pipelines.normalize_task(c["task"]) for c in CASES}
    assert tasks == {"text-classification", "token-classification", "question-answering",
                     "fill-mask", "feature-extraction", "zero-shot-classification"}


# ---- 2. behaviour ---------------------------------------------------------------------------------
UNDERSTANDING = ["text-classification", "token-classification", "question-answering", "fill-mask",
                 "feature-extraction", "zero-shot-classification"]


def fake_hub_cache(root: Path, repo_id: str, folder: Path) -> None:
    """Lay `folder`'s files out as huggingface_hub caches `repo_id` (refs/main -> snapshot)."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / "0123abc"
    snap.mkdir(parents=True)
    for f in folder.iterdir():
        (snap / f.name).symlink_to(f.resolve())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abc")


@pytest.mark.parametrize("task", UNDERSTANDING)
def test_model_none_loads_the_default_hub_id_from_the_cache(task, tmp_path, monkeypatch):
    """pipeline(task) with no model takes TASKS' default Hub id and finds it in the local
    Hugging Face cache (here: the offline checkpoint laid out under that id)."""
    from minitf.pipelines import TASKS, offline_model

    offline = ROOT / TASKS[task]["offline"]
    if not offline.is_dir():
        pytest.skip(f"{offline} is missing (make weights)")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match=rf"not in the Hugging Face cache.*{offline_model(task)}"):
        minitf.pipeline(task)
    fake_hub_cache(tmp_path, TASKS[task]["default"], offline)
    pipe = minitf.pipeline(task)
    assert isinstance(pipe, TASKS[task]["class"]) and pipe.task == task
    assert pipe.model.name_or_path == TASKS[task]["default"]
    assert pipe.tokenizer is pipe.preprocessor and pipe.tokenizer.vocab_size > 0


@pytest.mark.parametrize("alias,task,checkpoint", [("sentiment-analysis", "text-classification",
                         "tiny-bert-seqcls"), ("ner", "token-classification", "tiny-bert-tokcls")])
def test_an_alias_builds_the_task_it_names(alias, task, checkpoint):
    pipe = get_pipe(alias, checkpoint)
    assert pipe.task == task
    assert type(pipe) is minitf.pipelines.TASKS[task]["class"]


@pytest.mark.parametrize("task", UNDERSTANDING)
def test_pipelines_do_not_change_the_callers_tokenizer(task):
    """The tokenizer passed in is used as it is: padding side, special tokens, truncation and
    every other setting are the same after the calls (lazy caches aside)."""
    from minitf.pipelines import TASKS

    folder = ROOT / TASKS[task]["offline"]
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing (make weights)")
    tok = minitf.AutoTokenizer.from_pretrained(folder)
    before = tokenizer_state(tok)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = minitf.pipeline(task, model=str(folder), tokenizer=tok)
        assert pipe.tokenizer is tok
        text = f"Hugging Face is in Brooklyn and {tok.mask_token or ''} works there. " * 3
        calls = {
            "text-classification": lambda: (pipe([text, "short"], batch_size=2, truncation=True),
                                            pipe({"text": text, "text_pair": "Brooklyn"})),
            "token-classification": lambda: (pipe(text, aggregation_strategy="simple", stride=8),
                                             pipe([text, "Sylvain"])),
            "question-answering": lambda: pipe(question=["Where?", "Who?"], context=[text, text],
                                               doc_stride=8, max_seq_len=24),
            "fill-mask": lambda: pipe([f"Paris is the {tok.mask_token} of France."], top_k=2),
            "feature-extraction": lambda: pipe([text, "short"], truncation=True),
            "zero-shot-classification": lambda: pipe([text, "short"], candidate_labels=["a", "b"],
                                                     multi_label=True),
        }
        calls[task]()
    assert tokenizer_state(tok) == before


def tokenizer_state(tok) -> dict:
    """Every setting of a tokenizer, without the caches it fills lazily."""
    import pickle

    lazy = {"_cache", "_matchers", "_full_id_to_token"}
    return {k: pickle.dumps(v) for k, v in vars(tok).items() if k not in lazy}


def test_text_classification_shapes_and_batching():
    clf = get_pipe("sentiment-analysis", "tiny-bert-seqcls")
    texts = ["I love this.", "I hate this so much!", "Meh."]
    one = clf(texts[0])
    assert isinstance(one, list) and len(one) == 1 and list(one[0]) == ["label", "score"]
    assert isinstance(one[0]["score"], float)
    every = clf(texts[0], top_k=None)
    assert [r["score"] for r in every] == sorted((r["score"] for r in every), reverse=True)
    assert abs(sum(r["score"] for r in every) - 1) < 1e-5
    assert {r["label"] for r in every} == set(clf.model.config.id2label.values())
    batched = clf(texts, batch_size=3, top_k=None)
    assert_matches(batched, clf(texts, top_k=None))


def test_token_classification_regroups_word_pieces():
    text = "Angela Merkel met Emmanuel Macron in Strasbourg."
    ner = get_pipe("ner", "tiny-bert-tokcls")
    tokens = ner(text, ignore_labels=[])
    pieces = [t["word"] for t in tokens]
    assert "##ra" in pieces                                # Strasbourg -> st ##ra ##s ##b ...
    for t in tokens:
        assert list(t) == ["entity", "score", "index", "word", "start", "end"]
        assert t["word"].lstrip("#") == text[t["start"]:t["end"]].lower()
    words = ner(text, aggregation_strategy="first", ignore_labels=[])
    for w in words:
        assert list(w) == ["entity_group", "score", "word", "start", "end"]
    # with "first" a word never splits: every group starts and ends on a word boundary
    for w in words:
        s, e = w["start"], w["end"]
        assert s == 0 or not (text[s - 1].isalnum() and text[s].isalnum()), w
        assert e == len(text) or not (text[e - 1].isalnum() and text[e].isalnum()), w
    assert any("strasbourg" in w["word"] for w in words)
    assert all(w["word"] == " ".join(w["word"].split()) and "##" not in w["word"] for w in words)


def test_grouped_entities_is_the_old_spelling_of_simple():
    text = "Angela Merkel met Emmanuel Macron in Strasbourg."
    simple = get_pipe("ner", "tiny-bert-tokcls", {"aggregation_strategy": "simple"})(text)
    with pytest.warns(UserWarning, match="deprecated"):
        old = minitf.pipeline("ner", model=str(WEIGHTS / "tiny-bert-tokcls"), grouped_entities=True)(text)
    assert old == simple


def test_token_classification_truncates_long_text():
    ner = get_pipe("ner", "tiny-bert-tokcls")
    out = ner("Hugging Face in Brooklyn. " * 100, ignore_labels=[])
    assert max(t["index"] for t in out) < ner.tokenizer.model_max_length


def test_question_answering_offsets_point_into_the_context():
    qa = get_pipe("question-answering", "tiny-bert-qa")
    context = "My name is Sylvain and I work at Hugging Face in Brooklyn. " * 8
    answers = qa(question="Where do I work?", context=context, top_k=5, max_seq_len=40, doc_stride=12)
    assert len(answers) == 5
    for a in answers:
        assert list(a) == ["score", "start", "end", "answer"]
        assert context[a["start"]:a["end"]] == a["answer"]
    assert [a["score"] for a in answers] == sorted((a["score"] for a in answers), reverse=True)
    one = qa(question="Where do I work?", context=context)
    assert isinstance(one, dict)
    assert qa({"question": "Where do I work?", "context": context}) == one
    assert qa("Where do I work?", context) == one


def test_fill_mask_uses_the_models_own_mask_token():
    bert = get_pipe("fill-mask", "tiny-distilbert-mlm")
    roberta = get_pipe("fill-mask", "tiny-roberta-mlm")
    assert bert.tokenizer.mask_token == "[MASK]" and roberta.tokenizer.mask_token == "<mask>"
    out = roberta("Hello <mask>!")
    assert len(out) == 5 and list(out[0]) == ["score", "token", "token_str", "sequence"]
    assert [o["score"] for o in out] == sorted((o["score"] for o in out), reverse=True)
    assert out[0]["sequence"] == "Hello" + out[0]["token_str"] + "!"


def test_feature_extraction_shapes():
    fe = get_pipe("feature-extraction", "tiny-bert")
    nested = fe("This is a simple test.")
    array = fe("This is a simple test.", return_tensors=True)
    n_tokens = len(fe.tokenizer("This is a simple test.")["input_ids"])
    assert isinstance(nested, list) and len(nested) == 1 and len(nested[0]) == n_tokens
    assert array.shape == (1, n_tokens, fe.model.config.hidden_size) and array.dtype == np.float32
    np.testing.assert_allclose(np.array(nested), array, atol=1e-6)
    batched = fe(["Hi", "This is a simple test."], batch_size=2, return_tensors=True)
    assert batched[1].shape == array.shape
    np.testing.assert_allclose(batched[1], array, atol=1e-5)  # padding never shows


def test_mean_pooling_ignores_padding():
    states = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    pooled = mean_pooling(states, mask)
    np.testing.assert_allclose(pooled[0], states[0, :2].mean(0))
    np.testing.assert_allclose(pooled[1], states[1].mean(0))


@pytest.mark.skipif(not (MINILM / "model.safetensors").is_file(),
                    reason="the real all-MiniLM-L6-v2 is fetched by `make weights`")
def test_sentence_similarity_with_real_minilm():
    embed = minitf.pipeline("feature-extraction", model=str(MINILM), pooling="mean", normalize=True,
                            return_tensors=True)
    sentences = ["A man is eating food.", "A man is eating a piece of bread.",
                 "A man is riding a horse.", "A monkey is playing drums."]
    vectors = np.stack(embed(sentences))
    assert vectors.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    sim = cos_sim(vectors, vectors)
    assert sim[0, 1] > sim[0, 2] and sim[0, 1] > sim[0, 3]        # bread ~ food, not a horse
    assert sim[0, 1] > 0.5 and sim[0, 3] < 0.3
    # the one-call helper on a loaded model gives the same vectors, batched and padded
    fast = sentence_embeddings(sentences, embed.model, embed.tokenizer, batch_size=4)
    np.testing.assert_allclose(fast, vectors, atol=1e-5)


def test_zero_shot_scores():
    zs = get_pipe("zero-shot-classification", "tiny-bert-nli")
    out = zs("This is a course about the Transformers library", candidate_labels=["education", "politics"])
    assert list(out) == ["sequence", "labels", "scores"]
    assert abs(sum(out["scores"]) - 1) < 1e-5 and out["scores"] == sorted(out["scores"], reverse=True)
    multi = zs("This is a course", ["education", "politics"], multi_label=True)
    assert all(0 < s < 1 for s in multi["scores"])
    assert zs.entailment_id == zs.model.config.label2id["entailment"]
    batched = zs("This is a course", candidate_labels=["a", "b", "c"], batch_size=3)
    assert_matches(batched, zs("This is a course", candidate_labels=["a", "b", "c"]))


# ---- 3. bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("task,checkpoint,call", [
    ("text-classification", "tiny-bert-seqcls", lambda p: p("")),
    ("text-classification", "tiny-bert-seqcls", lambda p: p({"text": "a", "text_pair": "  "})),
    ("token-classification", "tiny-bert-tokcls", lambda p: p(["ok", ""])),
    ("fill-mask", "tiny-distilbert-mlm", lambda p: p("")),
    ("feature-extraction", "tiny-bert", lambda p: p("")),
    ("zero-shot-classification", "tiny-bert-nli", lambda p: p("", candidate_labels=["a"])),
    ("question-answering", "tiny-bert-qa", lambda p: p(question="", context="Brooklyn")),
    ("question-answering", "tiny-bert-qa", lambda p: p(question="Where?", context="")),
])
def test_empty_strings_are_errors(task, checkpoint, call):
    with pytest.raises(ValueError, match="empty"):
        call(get_pipe(task, checkpoint))


@pytest.mark.parametrize("labels", [None, [], "", " , "])
def test_zero_shot_needs_candidate_labels(labels):
    zs = get_pipe("zero-shot-classification", "tiny-bert-nli")
    with pytest.raises(ValueError, match="at least one label"):
        zs("A text", candidate_labels=labels)


def test_zero_shot_template_needs_a_placeholder():
    zs = get_pipe("zero-shot-classification", "tiny-bert-nli")
    with pytest.raises(ValueError, match="hypothesis_template"):
        zs("A text", candidate_labels=["a"], hypothesis_template="This example is about it.")


def test_fill_mask_needs_the_mask_token():
    with pytest.raises(ValueError, match=r"no mask_token \(\[MASK\]\)"):
        get_pipe("fill-mask", "tiny-distilbert-mlm")("This course will teach you all about models.")
    with pytest.raises(ValueError, match=r"no mask_token \(<mask>\)"):  # BERT's token in a RoBERTa text
        get_pipe("fill-mask", "tiny-roberta-mlm")("This course is about [MASK] models.")


def test_question_answering_bad_arguments():
    qa = get_pipe("question-answering", "tiny-bert-qa")
    context = "Hugging Face was founded in 2016 by French entrepreneurs in New York City. " * 4
    with pytest.raises(ValueError, match="no room for the context"):
        qa(question="Who founded it and when? " * 10, context=context, max_seq_len=40)
    with pytest.raises(ValueError, match="doc_stride=38 must be smaller"):
        qa(question="Who?", context=context, max_seq_len=40, doc_stride=38)
    with pytest.raises(ValueError, match="larger than `max_seq_len`"):
        qa(question="Who?", context=context, max_seq_len=40, doc_stride=50)
    with pytest.raises(ValueError, match="top_k"):
        qa(question="Who?", context=context, top_k=0)
    with pytest.raises(ValueError, match="same lengths"):
        qa(question=["Who?", "When?"], context=[context])
    with pytest.raises(ValueError, match="needs a question and a context"):
        qa()


def test_question_longer_than_context_still_works():
    qa = get_pipe("question-answering", "tiny-bert-qa")
    out = qa(question="In which city and borough do the people who founded Hugging Face work?",
             context="Brooklyn.")
    assert out["answer"] in ("Brooklyn", "Brooklyn.", ".") and out["start"] >= 0


@pytest.mark.parametrize("task,checkpoint", [
    ("text-classification", "tiny-bert-seqcls"), ("fill-mask", "tiny-distilbert-mlm"),
    ("feature-extraction", "tiny-bert")])
def test_inputs_over_the_maximum_length(task, checkpoint):
    pipe = get_pipe(task, checkpoint)
    text = "Hugging Face is in Brooklyn. " * 60 + pipe.tokenizer.mask_token
    with pytest.raises(ValueError, match="pass truncation=True"):
        pipe(text)


def test_truncation_true_cuts_to_the_model_length():
    fe = get_pipe("feature-extraction", "tiny-bert")
    out = fe("Hugging Face is in Brooklyn. " * 60, truncation=True, return_tensors=True)
    assert out.shape[1] == fe.tokenizer.model_max_length
    assert get_pipe("text-classification", "tiny-bert-seqcls")("word " * 500, truncation=True)


def test_unknown_aggregation_strategy():
    with pytest.raises(ValueError, match="unknown aggregation_strategy 'best'"):
        get_pipe("ner", "tiny-bert-tokcls")("Sylvain works in Brooklyn", aggregation_strategy="best")
    with pytest.raises(ValueError, match="unknown aggregation_strategy"):
        minitf.pipeline("ner", model=str(WEIGHTS / "tiny-bert-tokcls"), aggregation_strategy="biggest")("x")


class _SlowTokenizer:
    """A tokenizer that cannot give character offsets (transformers' "slow" tokenizers)."""
    is_fast = False

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __call__(self, *args, return_offsets_mapping=False, **kwargs):
        if return_offsets_mapping:
            raise NotImplementedError("no offsets")
        return self._inner(*args, **kwargs)


@pytest.mark.parametrize("strategy", ["simple", "first", "average", "max"])
def test_aggregation_needs_offsets(strategy):
    base = get_pipe("ner", "tiny-bert-tokcls")
    ner = minitf.pipeline("ner", model=base.model, tokenizer=_SlowTokenizer(base.tokenizer))
    plain = ner("Sylvain works in Brooklyn", ignore_labels=[])    # "none" works without offsets
    assert plain and all(t["start"] is None and t["end"] is None for t in plain)
    with pytest.raises(ValueError, match="needs the character offsets"):
        ner("Sylvain works in Brooklyn", aggregation_strategy=strategy)


def test_unknown_arguments_and_inputs():
    clf = get_pipe("text-classification", "tiny-bert-seqcls")
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) \['topk'\]"):
        clf("a text", topk=2)
    with pytest.raises(TypeError, match="string"):
        get_pipe("ner", "tiny-bert-tokcls")(42)
    with pytest.raises(ValueError, match="text pair"):
        clf([["a text", "its pair"]])
    with pytest.raises(ValueError, match="function_to_apply"):
        clf("a text", function_to_apply="softplus")
    with pytest.raises(TypeError, match="unexpected argument"):
        minitf.pipeline("fill-mask", model=str(WEIGHTS / "tiny-distilbert-mlm"), top_p=0.9)
    with pytest.raises(ValueError, match="stride"):
        get_pipe("ner", "tiny-bert-tokcls")("a text", stride=4)   # needs an aggregation_strategy
