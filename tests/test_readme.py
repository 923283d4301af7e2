"""The README shows what minitf really does: every `>>>` example runs as a doctest, the other
Python snippets run, and the `minitf tour` excerpt is what the tour prints offline."""
import doctest
import re
from pathlib import Path

import numpy as np
import pytest

import minitf

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
BLOCKS = [(lang, body) for lang, body in FENCE.findall(README)]
DOCTESTS = [body for lang, body in BLOCKS if lang == "python" and ">>>" in body]
SNIPPETS = [body for lang, body in BLOCKS if lang == "python" and ">>>" not in body]
FLOAT = re.compile(r"\d+\.\d{5,}")


def test_readme_names_the_make_targets():
    assert "make demo" in README and "make test" in README


@pytest.mark.parametrize("index", range(len(DOCTESTS)))
def test_readme_examples_run_as_doctests(index, monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples use paths relative to the repository
    test = doctest.DocTestParser().get_doctest(DOCTESTS[index], {}, f"README.md[python {index}]",
                                               str(ROOT / "README.md"), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    assert runner.tries > 0


@pytest.fixture
def tiny_gpt2():
    model = minitf.AutoModelForCausalLM.from_pretrained(ROOT / "weights" / "tiny-gpt2")
    ids = np.array([[288, 444, 350]])
    return model, ids


@pytest.mark.parametrize("index", [i for i, s in enumerate(SNIPPETS) if "hf_model" not in s])
def test_readme_snippets_run(index, tiny_gpt2, monkeypatch):
    monkeypatch.setenv("PYTHONBREAKPOINT", "0")  # breakpoint() in a snippet: no debugger here
    model, ids = tiny_gpt2
    scope = {"minitf": minitf, "model": model, "ids": ids}
    exec(compile(SNIPPETS[index], f"README.md[snippet {index}]", "exec"), scope)
    assert scope["out"].logits.shape == (1, 3, model.config.vocab_size)


@pytest.mark.parametrize("index", [i for i, s in enumerate(SNIPPETS) if "hf_model" in s])
@pytest.mark.parity
def test_readme_compare_snippet_runs(index, tiny_gpt2, capsys):
    transformers = pytest.importorskip("transformers")
    model, ids = tiny_gpt2
    hf_model = transformers.GPT2LMHeadModel.from_pretrained(ROOT / "weights" / "tiny-gpt2").eval()
    scope = {"minitf": minitf, "model": model, "hf_model": hf_model, "ids": ids}
    exec(compile(SNIPPETS[index], f"README.md[snippet {index}]", "exec"), scope)
    assert scope["report"].first is None, capsys.readouterr().out


def sections(text: str) -> dict[str, list[str]]:
    """'== task ==' -> the lines under it, with the repository prefix and float tails removed
    (the last digits of a score depend on the backend's rounding)."""
    out, current = {}, None
    for line in text.replace(str(ROOT) + "/", "").splitlines():
        line = FLOAT.sub(lambda m: f"{float(m.group()):.4f}", line.rstrip())
        if line.startswith("== ") and line.endswith(" =="):
            current = out.setdefault(line, [])
        elif current is not None and line.strip():
            current.append(line)
    return out


def tour_excerpt() -> str:
    start = README.index("from `minitf tour`")
    return next(body for lang, body in FENCE.findall(README[start:]) if lang == "")


def test_the_tour_excerpt_is_what_the_tour_prints(tmp_path, monkeypatch, capsys):
    from minitf.cli import main

    if not (ROOT / "weights" / "real" / "all-MiniLM-L6-v2").is_dir():
        pytest.skip("weights/real is missing (make weights)")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: the offline models
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["tour", "--offline"]) == 0
    printed = sections(capsys.readouterr().out)
    shown = sections(tour_excerpt())
    assert shown, "the README has no tour excerpt"
    for header, lines in shown.items():
        assert header in printed, f"the tour prints no {header} section"
        missing, at = [], 0
        for line in lines:  # each README line, in order, among the printed ones
            if line in printed[header][at:]:
                at += printed[header][at:].index(line) + 1
            else:
                missing.append(line)
        assert not missing, (f"{header}: README lines not printed by the tour (in this order):\n"
                             + "\n".join(missing) + "\n--- the tour printed:\n"
                             + "\n".join(printed[header]))


def test_the_tour_runs_each_task_on_the_offline_model_the_errors_name(tmp_path, monkeypatch, capsys):
    """The 'not cached' error of a task names `offline_model(task)`: the tour really uses it."""
    from minitf.cli import main
    from minitf.pipelines import offline_model

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(ROOT)
    assert main(["tour", "--offline"]) == 0
    printed = sections(capsys.readouterr().out)
    for header, lines in printed.items():
        task = header.strip("= ")
        if offline_model(task) is None or not (ROOT / offline_model(task)).is_dir():
            continue
        assert lines[0] == f"model: {offline_model(task)}", header
