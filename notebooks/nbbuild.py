"""The machinery the notebook builders (make_01.py, make_02.py, make_03.py) share.

A builder creates a `Notebook`, adds cells with `nb.md(...)` and `nb.code(...)` in reading
order, then calls `nb.write()`: the notebook is executed (from notebooks/, as the tests run
it) and saved *with its outputs*, so the plots show on GitHub without running anything.
Cell ids are stable and no timings are recorded, so regenerating an unchanged builder
changes only outputs that really change (timings printed by the cells, for instance).

    .venv/bin/python notebooks/make_01.py            # build, execute, save with outputs
    .venv/bin/python notebooks/make_01.py --no-run   # build only, outputs empty
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELL_TIMEOUT_S = 600  # one cell; the slowest (generation sweeps on the CPU) take a few seconds


class Notebook:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.cells: list[tuple[str, str]] = []

    def md(self, text: str) -> None:
        self.cells.append(("md", text.strip("\n")))

    def code(self, text: str) -> None:
        self.cells.append(("code", text.strip("\n")))

    def build(self) -> nbformat.NotebookNode:
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        for i, (kind, src) in enumerate(self.cells):
            cell = new_markdown_cell(src) if kind == "md" else new_code_cell(src)
            cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives the same file
            nb.cells.append(cell)
        return nb

    def execute(self, notebook: nbformat.NotebookNode) -> None:
        """Run every cell in a fresh kernel, in notebooks/, filling in the outputs (in place).
        A failing cell raises with the cell's source and traceback, and nothing is written."""
        from nbclient import NotebookClient

        start = time.perf_counter()
        NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                       resources={"metadata": {"path": str(self.path.parent)}},
                       record_timing=False).execute()
        notebook.metadata["language_info"] = {"name": "python"}  # not the kernel's full version
        print(f"executed {self.path.name} in {time.perf_counter() - start:.1f} s")

    def write(self, run: bool | None = None) -> None:
        """Build, execute (unless `run` is False or --no-run was given) and save the notebook."""
        notebook = self.build()
        if run is None:
            run = "--no-run" not in sys.argv[1:]
        if run:
            self.execute(notebook)
        nbformat.validate(notebook)
        self.path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
        print(f"wrote {self.path} ({len(notebook.cells)} cells, {'with' if run else 'without'} outputs)")
