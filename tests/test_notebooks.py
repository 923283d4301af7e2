"""The committed notebooks are what their build scripts make, with the outputs saved (so the
plots show without running anything). `make notebooks` rebuilds them; `make test` runs them."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SCRIPTS = sorted(NOTEBOOKS.glob("make_*.py"))


def built(script: Path):
    """The Notebook object a build script defines (its cells), without writing anything."""
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        spec = importlib.util.spec_from_file_location(f"_nb_{script.stem}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(NOTEBOOKS))
    return module.NB


def test_every_notebook_has_a_build_script():
    assert SCRIPTS, "no notebooks/make_*.py"
    names = {built(s).path.name for s in SCRIPTS}
    assert names == {p.name for p in NOTEBOOKS.glob("*.ipynb")}


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_the_committed_notebook_is_its_script_with_outputs(script):
    nb = built(script)
    committed = json.loads(nb.path.read_text(encoding="utf-8"))
    want = nb.build()
    assert [text(c["source"]) for c in committed["cells"]] == [c["source"] for c in want.cells], \
        f"{nb.path.name} is older than {script.name}: run `make notebooks`"
    code = [c for c in committed["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code), f"{nb.path.name} was saved unexecuted"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{nb.path.name} was saved with an error: {errors[0].get('ename')}"
    plots = [c for c in code if "plt.subplots" in text(c["source"])]
    assert plots, f"{nb.path.name} draws no plot"
    for cell in plots:
        kinds = {k for o in cell["outputs"] for k in o.get("data", {})}
        assert "image/png" in kinds, f"{nb.path.name} {cell['id']}: the plot was not saved"


def text(source) -> str:
    """A cell's source as one string (.ipynb files store it as a list of lines)."""
    return "".join(source) if isinstance(source, list) else source
