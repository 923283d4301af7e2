"""The understanding pipelines live against transformers' (`make parity`).

1. Every case of `weights/make_fixtures_pipelines.py`, run by both libraries now (so a newer
   transformers 4.x, or a regenerated tiny checkpoint, is checked without refreshing fixtures).
2. Models made here on the fly for what the committed checkpoints do not cover: RoBERTa and
   DistilBERT token classification (RoBERTa's byte-level BPE takes the "no word boundaries"
   heuristic of transformers), RoBERTa question answering.
3. The real all-MiniLM-L6-v2: feature extraction, and the pooled sentence embeddings against
   the same pooling computed with torch on transformers' hidden states.
"""
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import minitf  # noqa: E402

pytestmark = pytest.mark.parity
ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "weights"
MINILM = WEIGHTS / "real" / "all-MiniLM-L6-v2"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


recipe = _load("make_fixtures_pipelines", WEIGHTS / "make_fixtures_pipelines.py")
golden = _load("test_pipelines_understanding", ROOT / "tests" / "test_pipelines_understanding.py")
assert_matches = golden.assert_matches


def both(task, path, **init):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = transformers.pipeline(task, model=str(path), device="cpu", **init)
        ours = minitf.pipeline(task, model=str(path), **init)
    return ours, ref


def compare(ours, ref, inputs, **call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = recipe.jsonable(recipe.run_case(ref, inputs, call))
        got = recipe.run_case(ours, inputs, call)
    assert_matches(got, want)


@pytest.mark.parametrize("case", recipe.CASES, ids=[c[0] for c in recipe.CASES])
def test_case_live(case):
    case_id, task, checkpoint, init, inputs, call = case
    ours, ref = both(task, WEIGHTS / checkpoint, **init)
    compare(ours, ref, inputs, **call)


# ---- 2. models made on the fly --------------------------------------------------------------------
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
TEXTS = ["My name is Sylvain and I work at Hugging Face in Brooklyn.",
         "Angela Merkel met Emmanuel Macron in Strasbourg, said the reporter from Reuters."]


def _make(tmp_path, family, head, tokenizer_from):
    """A random transformers model with a head, saved with the tokenizer of `tokenizer_from`."""
    torch.manual_seed(0)
    kw = {"roberta": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=64, max_position_embeddings=130, type_vocab_size=1,
                          pad_token_id=1, bos_token_id=0, eos_token_id=2),
          "distilbert": dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                             max_position_embeddings=128)}[family]
    tok = transformers.AutoTokenizer.from_pretrained(str(WEIGHTS / tokenizer_from))
    if head == "AutoModelForTokenClassification":
        kw.update(id2label=dict(enumerate(NER_LABELS)), label2id={k: i for i, k in enumerate(NER_LABELS)})
    config = transformers.AutoConfig.for_model(family, vocab_size=len(tok), initializer_range=0.3, **kw)
    model = getattr(transformers, head).from_config(config).eval()
    folder = tmp_path / f"{family}-{head}"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("family,tokenizer_from", [("roberta", "tiny-roberta-mlm"),
                                                   ("distilbert", "tiny-distilbert-mlm")])
@pytest.mark.parametrize("strategy", ["none", "simple", "first", "average", "max"])
def test_token_classification_other_families(tmp_path, family, tokenizer_from, strategy):
    folder = _make(tmp_path, family, "AutoModelForTokenClassification", tokenizer_from)
    ours, ref = both("ner", folder, aggregation_strategy=strategy)
    compare(ours, ref, TEXTS, ignore_labels=[])


def test_question_answering_roberta(tmp_path):
    folder = _make(tmp_path, "roberta", "AutoModelForQuestionAnswering", "tiny-roberta-mlm")
    ours, ref = both("question-answering", folder)
    context = " ".join(TEXTS * 4)
    compare(ours, ref, None, question="Where do I work?", context=context, top_k=4)
    compare(ours, ref, None, question="Who met Macron?", context=context, max_seq_len=40,
            doc_stride=10, top_k=3, handle_impossible_answer=True)


# ---- 3. the real all-MiniLM-L6-v2 -----------------------------------------------------------------
SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "A man is riding a horse.",
             "A monkey is playing drums."]


@pytest.mark.skipif(not (MINILM / "model.safetensors").is_file(), reason="needs `make weights`")
def test_minilm_feature_extraction_and_sentence_embeddings():
    ours, ref = both("feature-extraction", MINILM)
    compare(ours, ref, SENTENCES)
    # sentence-transformers' recipe (mean pooling, L2 normalisation) on transformers' states
    tok = transformers.AutoTokenizer.from_pretrained(str(MINILM))
    model = transformers.AutoModel.from_pretrained(str(MINILM)).eval()
    enc = tok(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    want = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)
    embed = minitf.pipeline("feature-extraction", model=str(MINILM), pooling="mean", normalize=True,
                            return_tensors=True)
    np.testing.assert_allclose(np.stack(embed(SENTENCES)), want.numpy(), atol=1e-5)
    got = minitf.pipelines.feature_extraction.sentence_embeddings(SENTENCES, embed.model, embed.tokenizer)
    np.testing.assert_allclose(got, want.numpy(), atol=1e-5)
