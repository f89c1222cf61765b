"""Notebook hygiene that strict nbval and the website rely on.

nbval only compares cells that were executed when the notebook was stored, and the
site shows the stored outputs, so every notebook must be stored fully executed, top
to bottom in one fresh kernel, with no errors or warnings in its outputs.
"""

from __future__ import annotations

import importlib.util
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_execution_timestamps(path):
    """`make execute` stores none, so re-running an unchanged chapter changes nothing."""
    nb = json.loads(path.read_text())
    stamped = [i for i, c in enumerate(nb["cells"]) if "execution" in c.get("metadata", {})]
    assert not stamped, f"{path.name}: cells {stamped} carry execution timestamps (use `make execute`)"


def _colab_cell():
    spec = importlib.util.spec_from_file_location("colab_cell", ROOT / "tools" / "colab_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_colab_install_cell(path):
    """Pinned to the release of bpkit.__version__, with the extras the chapter imports, hidden
    on the site, silent where bpkit is importable: exactly what tools/colab_cell.py writes."""
    problems = _colab_cell().problems(path)
    assert not problems, "\n".join(problems) + "\n(fix: python tools/colab_cell.py)"


def image_outputs(nb):
    """(cell index, cell) for every code cell with an image among its outputs."""
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
            and any(k.startswith("image/") for o in c.get("outputs", []) for k in o.get("data", {}))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_alt_text(path):
    """Screen readers read a figure's alt text; without it myst-nb writes the image's hashed
    file name.  Each cell with an image output carries, in its metadata,
    {"mystnb": {"image": {"alt": "A line plot of ... showing that ..."}}}: a sentence that
    says what the figure shows, and one figure per cell (the alt text is per cell)."""
    nb = json.loads(path.read_text())
    problems = []
    for i, cell in image_outputs(nb):
        n_images = sum(any(k.startswith("image/") for k in o.get("data", {})) for o in cell["outputs"])
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
        if not isinstance(alt, str) or len(alt.split()) < 6:
            problems.append(f"cell {i}: no alt text (or under six words): {alt!r}")
        elif re.search(r"\.(png|svg|jpe?g)\b|^(figure|plot|image)\.?$", alt, flags=re.I):
            problems.append(f"cell {i}: alt text names a file, not what the figure shows: {alt!r}")
        if n_images > 1:
            problems.append(f"cell {i}: {n_images} figures in one cell (one figure per cell, one alt text each)")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)
