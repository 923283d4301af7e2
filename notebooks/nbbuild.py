"""The machinery the notebook builders (make_01.py, make_02.py, make_03.py) share.

A builder creates a `Notebook`, adds cells with `nb.md(...)` and `nb.code(...)` in reading
order, then calls `nb.write()`; the .ipynb is saved without outputs and with stable cell ids,
so regenerating an unchanged builder rewrites the same file.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


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

    def write(self) -> None:
        notebook = self.build()
        nbformat.validate(notebook)
        self.path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
        print(f"wrote {self.path} ({len(notebook.cells)} cells)")
