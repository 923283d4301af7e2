"""The kernel contract of minitf.backend: what a kernel declares, the one acceptance check,
float64 kernels exact to float64 rounding, and the warm-up at model load."""
import dataclasses
import doctest
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minitf import backend, ops
from minitf.attention import causal_mask, padding_mask
from minitf.backend import kernel, use_backend

pytest.importorskip("numba")
ROOT = Path(__file__).resolve().parents[1]


def test_backend_docstring_examples():
    result = doctest.testmod(backend)
    assert result.attempted > 0 and result.failed == 0


# -- declaring and accepting -----------------------------------------------------------------------

def test_every_kernel_declares_what_it_takes_and_computes_its_examples():
    """Each registered kernel has dtypes and warm-up examples; every example is taken through
    `kernel` (the one acceptance check), and the kernel returns an array of the input's dtype:
    never a 'not handled' sentinel."""
    kernels = backend.registered("numba")
    assert set(kernels) >= {"layer_norm", "add_layer_norm", "gelu", "gelu_new", "bias_activation",
                            "softmax", "masked_softmax", "attention"}
    with use_backend("numba"):
        for op, k in kernels.items():
            assert k.device == "cpu" and k.dtypes and k.examples is not None, op
            for dtype in k.dtypes:
                for args in k.examples(np.dtype(dtype)):
                    assert kernel(op, *args) is k.fn, (op, dtype)
                    out = k.fn(*args)
                    assert isinstance(out, np.ndarray) and out.dtype == dtype, (op, dtype)


def _declined_and_reference(op_call, op, *kernel_args):
    """`kernel` declines these arguments, and the op gives the reference's numbers (to float32
    rounding: a later step of the op may still take a kernel)."""
    with use_backend("numba"):
        assert kernel(op, *kernel_args) is None
        got = op_call()
    with use_backend("numpy"):
        ref = op_call()
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)
    assert got.dtype == ref.dtype


def test_inputs_a_kernel_does_not_declare_run_the_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 8)).astype(np.float32)
    w, b = np.ones(8, np.float32), np.zeros(8, np.float32)
    x16 = x.astype(np.float16)
    _declined_and_reference(lambda: ops.gelu(x16), "gelu", x16)  # a dtype not declared
    w64 = w.astype(np.float64)  # mixed dtypes: the reference upcasts, a kernel would not
    _declined_and_reference(lambda: ops.layer_norm(x, w64, b), "layer_norm", x, w64, b, 1e-5)
    _declined_and_reference(lambda: ops.layer_norm(x, w[:1], b[:1]), "layer_norm", x, w[:1], b[:1], 1e-5)
    _declined_and_reference(lambda: ops.softmax(x, mask=x > 0), "masked_softmax", x, x > 0, False)  # 2-D
    y = rng.normal(size=(4, 8)).astype(np.float32)
    _declined_and_reference(lambda: ops.linear(x, y.T, b[:4], "relu"), "bias_activation",
                            x @ y.T, b[:4], "relu")  # an activation with no fused kernel
    strided = np.zeros((3, 16), np.float32)[:, ::2]
    with use_backend("numba"):
        assert kernel("bias_activation", strided, b, "gelu") is None  # it writes in place: C order
        assert kernel("bias_activation", x, b, None) is None  # the bias alone on a small array
        q = rng.normal(size=(1, 2, 3, 8))
        assert kernel("attention", q, q, q, None, None) is None  # float64: not registered
        q = q.astype(np.float32)
        assert kernel("attention", q, q[:, :1], q[:, :1], None, None) is None  # heads differ
        assert kernel("attention", q[0], q[0], q[0], None, None) is None  # 3-D

    class Sub(np.ndarray):
        """An ndarray subclass: a kernel may not know what it means."""

    _declined_and_reference(lambda: np.asarray(ops.gelu(x.view(Sub))), "gelu", x.view(Sub))
    with use_backend("numpy"):
        assert kernel("gelu", x) is None  # the reference backend has no kernels


def test_register_and_kernel_errors():
    with pytest.raises(ValueError, match="kernels register for backend 'numba' or 'cuda'"):
        backend.register("numpy", "gelu", dtypes=("float32",))
    with pytest.raises(ValueError, match=r"numba/gelu: dtypes must name floating-point dtypes"):
        backend.register("numba", "gelu", dtypes=("int32",))
    with pytest.raises(ValueError, match=r"numba/gelu: dtypes must name floating-point dtypes"):
        backend.register("numba", "gelu", dtypes=())
    with pytest.raises(TypeError, match=r"kernel\('gelu'\) needs the arguments"):
        kernel("gelu")
    with pytest.raises(ValueError, match="backend must be 'numba' or 'cuda'"):
        backend.registered("numpy")
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda'"):
        backend.warm_up("float32", "tpu")


def test_accepted_kernel_is_called_with_the_op_arguments(monkeypatch):
    """The op hands the kernel exactly the arguments `kernel` saw (so `accepts` judged them)."""
    seen = []
    k = backend.registered("numba")["layer_norm"]

    def spy(*args):
        seen.append(args)
        return k.fn(*args)

    monkeypatch.setitem(backend._registry["numba"], "layer_norm", dataclasses.replace(k, fn=spy))
    x, w, b = np.ones((2, 4), np.float32), np.ones(4, np.float32), np.zeros(4, np.float32)
    with use_backend("numba"):
        ops.layer_norm(x, w, b, 1e-6)
    assert len(seen) == 1 and seen[0][0] is x and seen[0][1:] == (w, b, 1e-6)


# -- float64: exact, or not registered ---------------------------------------------------------

def _float64_cases():
    """op -> a call of the minitf op that runs that kernel, on float64 inputs."""
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 4, 2000), [-40, -10, -5.5, -1e-8, 0, 1e-8, 5.5, 10, 40]])
    rows = rng.normal(3, 2, (5, 3, 129))
    r = rng.normal(0, 2, rows.shape)
    w, b = rng.normal(size=129), rng.normal(size=129)
    scores = rng.normal(0, 4, (2, 3, 7, 9))
    mask = causal_mask(7, 9) & padding_mask(np.array([[0] * 9, [0, 0] + [1] * 7]))  # a dead row
    h = rng.normal(0, 2, (300, 20))
    wl, bl = rng.normal(size=(20, 450)), rng.normal(size=450)  # 135000 outputs: bias alone taken
    return {
        "gelu": lambda: ops.gelu(x),
        "gelu_new": lambda: ops.gelu_new(x),
        "layer_norm": lambda: ops.layer_norm(rows, w, b, 1e-5),
        "add_layer_norm": lambda: ops.layer_norm(rows, w, b, 1e-5, residual=r),
        "softmax": lambda: ops.softmax(scores),
        "masked_softmax": lambda: ops.softmax(scores, mask=mask),
        "bias_activation": lambda: [ops.linear(h, wl, bl, name) for name in ("gelu", "gelu_new", None)],
    }


def test_every_float64_kernel_is_exact_to_float64_rounding(monkeypatch):
    """Every kernel registered for float64 is run (checked) through its op, and agrees with the
    NumPy reference in float64 to 1e-14 of the result's size (float32 constants or fits would
    be off by 1e-8 or more). Registering a float64 kernel needs a case here."""
    float64_ops = {op for op, k in backend.registered("numba").items() if "float64" in k.dtypes}
    cases = _float64_cases()
    assert float64_ops == set(cases)
    calls = []
    for op in float64_ops:
        k = backend.registered("numba")[op]
        monkeypatch.setitem(backend._registry["numba"], op, dataclasses.replace(
            k, fn=lambda *a, _op=op, _fn=k.fn: calls.append(_op) or _fn(*a)))
    for op, call in cases.items():
        with use_backend("numpy"):
            refs = call()
        calls.clear()
        with use_backend("numba"):
            gots = call()
        assert op in calls, f"{op}: the float64 kernel did not run"
        for got, ref in zip(*(v if isinstance(v, list) else [v] for v in (gots, refs))):
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-14 * np.abs(ref).max(), err_msg=op)


def test_float64_erf_gelu_is_the_exact_one():
    """The issue's case: the erf-GELU kernel took float64 but evaluated its float32 fit (off by
    ~4e-8 at |x| ~ 3). In float64 it is now 0.5 x (1 + erf(x / sqrt 2)) with libm's erf."""
    x = np.linspace(-12, 12, 4801)
    exact = np.array([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x])
    with use_backend("numba"):
        assert kernel("gelu", x) is not None
        got = ops.gelu(x)
        fused = ops.linear(x[:, None], np.ones((1, 3)), np.zeros(3), "gelu")  # bias + GELU kernel
    assert np.abs(got - exact).max() <= 1e-15 * np.abs(x).max()
    assert np.abs(fused - exact[:, None]).max() <= 1e-15 * np.abs(x).max()


def test_float32_gelus_are_still_the_fast_fits():
    """float32 keeps the vectorised rational fits (within 2e-6 of exact, not bit-equal to libm)."""
    x = np.linspace(-6, 6, 1201).astype(np.float32)
    exact = np.array([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x.astype(np.float64)])
    with use_backend("numba"):
        got = ops.gelu(x)
    assert got.dtype == np.float32 and np.abs(got - exact).max() < 2e-6


# -- warm-up -----------------------------------------------------------------------------------

def test_warm_up_is_done_once_per_dtype():
    with use_backend("numba"):
        backend.warm_up("float32")
        assert backend.warm_up("float32") == 0.0
        assert backend.warm_up(np.float16) >= 0.0  # no kernel takes float16: nothing to do
    with use_backend("numpy"):
        assert backend.warm_up("float64") == 0.0  # no kernels under the reference backend


_AFTER_LOAD = r"""
import json, sys
import numba, numpy as np
import minitf
from minitf.kernels import cpu

def versions():  # compiled versions of every Numba function of the kernel module
    return {n: len(f.signatures) for n, f in vars(cpu).items()
            if isinstance(f, numba.core.dispatcher.Dispatcher)}

root = sys.argv[1]
gpt2 = minitf.AutoModelForCausalLM.from_pretrained(root + "/weights/tiny-gpt2")
bert = minitf.AutoModel.from_pretrained(root + "/weights/tiny-bert")
bert64 = minitf.AutoModel.from_pretrained(root + "/weights/tiny-bert", dtype="float64")
before = versions()
ids = np.random.default_rng(0).integers(0, 500, (2, 9))
mask = np.ones_like(ids)
mask[1, :3] = 0
gpt2.generate(ids, attention_mask=mask, max_new_tokens=6, min_new_tokens=6)
gpt2.generate(ids[:1], max_new_tokens=3, num_beams=2)
for model in (bert, bert64):
    model(input_ids=ids % 100, attention_mask=mask)
print(json.dumps({"gpt2": gpt2.kernel_compile_seconds, "bert": bert.kernel_compile_seconds,
                  "bert64": bert64.kernel_compile_seconds,
                  "stats": gpt2.generation_stats.kernel_compile_s,
                  "stats_text": str(gpt2.generation_stats),
                  "new": {n: versions()[n] - c for n, c in before.items() if versions()[n] != c}}))
"""


@pytest.mark.filterwarnings("ignore")
def test_kernels_are_compiled_at_model_load_not_in_generate():
    """In a fresh process: loading a model compiles (or loads from Numba's cache) the kernels
    for its dtype, once; generation and forward passes afterwards compile nothing more, so the
    time to first token is the prefill. generation_stats reports the one-time cost apart."""
    if not (ROOT / "weights" / "tiny-gpt2" / "model.safetensors").exists():
        pytest.skip("weights/tiny-gpt2 is missing (make weights)")
    run = subprocess.run([sys.executable, "-c", _AFTER_LOAD, str(ROOT)], capture_output=True,
                         text=True, cwd=ROOT,
                         env={**os.environ, "MINITF_BACKEND": "numba", "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["new"] == {}, f"compiled after load: {out['new']}"
    assert out["gpt2"] > 0 and out["bert"] == 0.0 and out["bert64"] > 0  # once per dtype
    assert out["stats"] == out["gpt2"] and "kernel compilation" in out["stats_text"]
