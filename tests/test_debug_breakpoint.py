"""Stepping through the readable NumPy code: under MINITF_BACKEND=numpy (or
``minitf.backend.use_backend("numpy")``) a breakpoint in attention/full.py's NumPy path is hit;
with the Numba kernels on, the fused kernel runs instead and the line is never reached.

A debugger (pdb, an IDE) stops at a line through the same `sys.settrace` hook used here, so
"the tracer sees the line run" is "a breakpoint there would stop"."""
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minitf
from minitf.attention import full

ROOT = Path(__file__).resolve().parents[1]
TINY_GPT2 = ROOT / "weights" / "tiny-gpt2"


def breakpoint_line() -> int:
    """The line of scaled_dot_product_attention's NumPy path that turns scores into weights."""
    lines, first = inspect.getsourcelines(full.scaled_dot_product_attention)
    hits = [first + i for i, line in enumerate(lines) if "ops.softmax(" in line]
    assert hits, "scaled_dot_product_attention has no `ops.softmax(` line to break at"
    return hits[0]


def count_hits(run) -> int:
    """How many times `run()` executes the breakpoint line of attention/full.py."""
    target, filename, hits = breakpoint_line(), full.__file__, [0]

    def local(frame, event, arg):
        if event == "line" and frame.f_lineno == target:
            hits[0] += 1
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename == filename else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(previous)
    return hits[0]


@pytest.fixture
def forward():
    import numpy as np

    model = minitf.AutoModelForCausalLM.from_pretrained(TINY_GPT2)
    ids = np.array([[288, 444, 350, 253]])
    return lambda: model(input_ids=ids)


def test_the_numpy_backend_runs_the_readable_attention(forward):
    with minitf.backend.use_backend("numpy"):
        assert count_hits(forward) == minitf.AutoConfig.from_pretrained(TINY_GPT2).n_layer  # once a layer


def test_with_the_kernels_on_the_fused_attention_runs_instead(forward):
    pytest.importorskip("numba")
    with minitf.backend.use_backend("numba"):
        assert count_hits(forward) == 0


def test_minitf_backend_numpy_in_the_environment_hits_the_breakpoint():
    script = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
import numpy as np, minitf
from test_debug_breakpoint import count_hits
model = minitf.AutoModelForCausalLM.from_pretrained({str(TINY_GPT2)!r})
print(minitf.backend.get_backend(), count_hits(lambda: model(input_ids=np.array([[288, 444, 350]]))))
"""
    env = {**os.environ, "MINITF_BACKEND": "numpy"}
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["numpy", "2"]
