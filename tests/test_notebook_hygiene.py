"""Notebook hygiene that strict nbval and the website rely on.

nbval only compares cells that were executed when the notebook was stored, and the
site shows the stored outputs, so every notebook must be stored fully executed, top
to bottom in one fresh kernel, with no errors or warnings in its outputs.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
TOC = (ROOT / "_toc.yml").read_text()


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no chapter notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_executed_in_order(path):
    nb = json.loads(path.read_text())
    counts = [c.get("execution_count") for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} — store it run top to bottom in a fresh kernel "
        f"(`make execute`); nbval silently skips unexecuted cells")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_errors_or_warnings_in_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(code_cells(nb)):
        tags = cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                assert "raises-exception" in tags, f"{path.name} cell {i}: error output without raises-exception tag"
            if out["output_type"] == "stream" and out["name"] == "stderr":
                raise AssertionError(f"{path.name} cell {i}: output on stderr: {''.join(out['text'])[:200]}")
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r"\b\w*Warning\b:", text), f"{path.name} cell {i}: a warning in the output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_toc_and_uses_python3(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    rel = path.relative_to(ROOT).with_suffix("").as_posix()
    assert f"file: {rel}\n" in TOC, f"{rel} is not listed in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_checks_against_bpkit(path):
    """Every chapter asserts its math against bpkit (or is explicitly prose-only)."""
    nb = json.loads(path.read_text())
    src = "\n".join("".join(c["source"]) for c in code_cells(nb))
    assert "import bpkit" in src or "from bpkit" in src, f"{path.name} does not use bpkit"
