"""The shared model code: forward hooks, the one attention-mask validator, the input checks
every family runs and the hints they give a student, and the tied/aliased weights."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import minitf
from minitf.attention import check_mask
from minitf.modeling import LayerNorm, Linear, Module, TransposedLinear

ROOT = Path(__file__).resolve().parents[1] / "weights"
FAMILIES = ["tiny-gpt2", "tiny-bert", "tiny-distilbert-mlm", "tiny-roberta-mlm",
            "tiny-longformer", "tiny-reformer"]


def load(name):
    """The base model and its tokenizer (a tokenizer-less checkpoint gets a stand-in that
    returns plain lists, as a tokenizer called without return_tensors does)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny checkpoints without a pooler
        model = minitf.AutoModel.from_pretrained(ROOT / name)
    if (ROOT / name / "config.json").is_file() and any(
            (ROOT / name / f).is_file() for f in ("tokenizer.json", "vocab.txt", "vocab.json")):
        return model, minitf.AutoTokenizer.from_pretrained(ROOT / name)
    return model, ListTokenizer()


class ListTokenizer:
    """Ids from the characters (for a checkpoint that ships no tokenizer)."""

    def __call__(self, text, return_tensors=None):
        from minitf.tokenizers import BatchEncoding

        rows = [[5 + ord(c) % 20 for c in t] for t in ([text] if isinstance(text, str) else text)]
        if return_tensors == "np":
            return BatchEncoding({"input_ids": np.array(rows), "attention_mask": np.ones((len(rows), len(rows[0])), np.int64)})
        rows = rows[0] if isinstance(text, str) else rows
        mask = [1] * len(rows) if isinstance(text, str) else [[1] * len(r) for r in rows]
        return BatchEncoding({"input_ids": rows, "attention_mask": mask})


# -- forward hooks --------------------------------------------------------------------------------
def test_calling_a_module_runs_forward_then_its_hooks():
    ln = LayerNorm(3)
    x = np.array([[1.0, 2.0, 6.0]], np.float32)
    seen = []
    h1 = ln.register_forward_hook(lambda m, args, out: seen.append((m, args[0].shape, out.shape)))
    h2 = ln.register_forward_hook(lambda m, args, out: out * 2)  # a hook may replace the output
    np.testing.assert_allclose(ln(x), 2 * ln.forward(x))
    assert seen == [(ln, (1, 3), (1, 3))]
    h2.remove()
    h2.remove()  # removing twice is harmless
    np.testing.assert_allclose(ln(x), ln.forward(x))
    h1.remove()
    assert not ln.has_forward_hooks()
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]  # hooks are not weights


def test_a_container_without_forward_says_so():
    class Stack(Module):
        def __init__(self):
            self.layer = [LayerNorm(2)]

    with pytest.raises(TypeError, match="Stack is a container without a forward"):
        Stack()(np.ones((1, 2), np.float32))


def test_a_hooked_linear_shows_its_output_before_the_fused_activation():
    rng = np.random.default_rng(0)
    for layer, w in ((Linear(4, 3), rng.normal(size=(3, 4))), (TransposedLinear(4, 3), rng.normal(size=(4, 3)))):
        layer.weight = w.astype(np.float32)
        layer.bias = rng.normal(size=3).astype(np.float32)
        x = rng.normal(size=(2, 4)).astype(np.float32)
        fused = layer(x, activation="gelu")
        seen = []
        handle = layer.register_forward_hook(lambda m, a, out: seen.append(out))
        unfused = layer(x, activation="gelu")
        handle.remove()
        np.testing.assert_allclose(seen[0], layer(x), rtol=1e-6)             # the pre-activation
        np.testing.assert_allclose(unfused, minitf.ops.gelu(seen[0]), rtol=1e-6)
        np.testing.assert_allclose(unfused, fused, rtol=1e-5, atol=1e-6)


def test_trace_uses_hooks_and_patches_no_class():
    from minitf.debug import trace

    model, tok = load("tiny-gpt2")
    calls = {cls: cls.__call__ for cls in {type(m) for _, m in model.named_modules()}}
    with trace(model, include=lambda name: name.endswith("mlp.c_fc") or name == "") as outputs:
        assert all(cls.__call__ is fn for cls, fn in calls.items())
        out = model(**tok("Hello world", return_tensors="np"))
    assert sorted(outputs) == ["", "h.0.mlp.c_fc", "h.1.mlp.c_fc"]
    np.testing.assert_array_equal(outputs[""], out.last_hidden_state)
    assert not any(m.has_forward_hooks() for _, m in model.named_modules())  # removed after


def test_transposed_linear_is_gpt2_projection_with_checkpoint_names():
    import minitf.modeling as modeling

    assert not hasattr(modeling, "Conv1D")  # the name is kept for ops.conv1d's real convolution
    model, _ = load("tiny-gpt2")
    assert isinstance(model.h[0].attn.c_attn, TransposedLinear)
    assert "h.0.attn.c_attn.weight" in dict(model.named_parameters())


# -- the mask validator ---------------------------------------------------------------------------
def test_check_mask_shapes_values_and_types():
    assert check_mask(None, (1, 3)) is None
    np.testing.assert_array_equal(check_mask(np.array([[1.0, 0.0]]), (1, 2)), [[True, False]])
    np.testing.assert_array_equal(check_mask([[True, False]], (1, 2)), [[True, False]])
    with pytest.raises(ValueError, match=r"attention_mask has shape \(2,\), but input_ids has shape \(1, 3\)"):
        check_mask([1, 1], (1, 3))
    with pytest.raises(ValueError, match=r"attention_mask must hold only 0 and 1.*\[-1, 0, 1\]"):
        check_mask([[1, 0, -1]], (1, 3))
    with pytest.raises(TypeError, match="attention_mask must hold 0/1 numbers"):
        check_mask(np.array([["a", "b"]]), (1, 2))
    with pytest.raises(ValueError, match="rows of different lengths need padding"):
        check_mask([[1, 1], [1]], (2, 2))


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_checks_its_mask_the_same_way(name):
    model, _ = load(name)
    ids = np.array([[5, 6, 7, 8]])
    with pytest.raises(ValueError, match=r"attention_mask has shape \(1, 3\), but input_ids"):
        model(input_ids=ids, attention_mask=np.ones((1, 3), np.int64))
    with pytest.raises(ValueError, match=r"attention_mask must hold only 0 and 1"):
        model(input_ids=ids, attention_mask=np.array([[1, 1, 2, 1]]))


def test_generate_checks_the_mask_with_the_same_validator():
    model, _ = load("tiny-gpt2")
    model = minitf.AutoModelForCausalLM.from_pretrained(ROOT / "tiny-gpt2")
    with pytest.raises(ValueError, match=r"attention_mask must hold only 0 and 1"):
        model.generate(np.array([[5, 6]]), attention_mask=np.array([[3, 1]]), max_new_tokens=1)


# -- what a student passes ------------------------------------------------------------------------
@pytest.mark.parametrize("name", FAMILIES)
def test_the_hints_a_student_gets(name):
    model, tok = load(name)
    # tok("...") without return_tensors gives lists for one sequence: read as one row
    single = model(**tok("Hello world")).last_hidden_state
    batched = model(**tok("Hello world", return_tensors="np")).last_hidden_state
    np.testing.assert_array_equal(single, batched)
    with pytest.raises(ValueError, match=r'rows of different lengths; pad them to one length: '
                                         r'tok\(texts, padding=True, return_tensors="np"\)'):
        model(**tok(["Hello world, how are you", "Hi"]))
    with pytest.raises(TypeError, match=r"whole output \(a BatchEncoding\) as input_ids; unpack it: model\(\*\*enc\)"):
        model(tok("Hello world", return_tensors="np"))
    vocab = model.config.vocab_size
    with pytest.raises(IndexError, match=rf"input_ids contains id {vocab}, but vocab_size={vocab}.*"
                                         r"the tokenizer and the model do not match"):
        model(input_ids=np.array([[5, vocab]]))


# -- tied and aliased weights ---------------------------------------------------------------------
def test_aliased_keys_sit_beside_tied_keys():
    from minitf.modeling import EncoderPreTrainedModel, PreTrainedModel

    assert "aliased_keys" in vars(PreTrainedModel) and "aliased_keys" not in vars(EncoderPreTrainedModel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlm = minitf.AutoModelForMaskedLM.from_pretrained(ROOT / "tiny-bert")
    for alias, source in mlm.aliased_keys.items():
        assert mlm.get_parameter(alias) is mlm.get_parameter(source)
        assert alias not in mlm.state_dict() and source in mlm.state_dict()
