"""Write the Colab install cell: the first code cell of every chapter, from one template.

Usage::

    python tools/colab_cell.py            # rewrite the cell in every chapters/*.ipynb
    python tools/colab_cell.py --check    # exit 1, listing the chapters whose cell differs

A chapter opened alone (Colab, or any Jupyter without bpkit) installs, from that cell, the
bpkit RELEASE named by ``bpkit.__version__`` (git tag ``v<version>``, see README.md,
"Releasing") with the extras the chapter imports: ``[symbolic]`` (SymPy) when it imports
``sympy`` or ``bpkit.symbolic``, and myst-nb when it imports ``myst_nb`` (for ``glue``).
Where all of that is importable already (``make lab``, nbval, Binder) the cell does
nothing and prints nothing.  The cell is tagged ``remove-cell``: the site does not show it.

Only the cell's source (and its tags) are written; its stored outputs stay empty, so the
strict nbval comparison is unaffected.  The notebook is written back byte-for-byte in
nbformat's own layout, so a chapter whose cell is already right is not touched (the tool
is idempotent).  tests/test_notebook_hygiene.py runs the ``--check``.
"""

from __future__ import annotations

import ast
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
REPOSITORY = "https://github.com/bpkit-book/bpkit"
DISTRIBUTION = "bpkit-book"  # the name on PyPI / in pip; the import name is bpkit
TAG = "remove-cell"

TEMPLATE = '''\
# Opened alone (e.g. on Colab)? Install bpkit {tag}{what}.
# Written by tools/colab_cell.py: change the template there, not here.
try:
{imports}
except ImportError:
    %pip install --quiet {requirements}'''


def version() -> str:
    """``bpkit.__version__``, read from bpkit/__init__.py without importing bpkit."""
    tree = ast.parse((ROOT / "bpkit" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "__version__"):
            return ast.literal_eval(node.value)
    raise SystemExit("bpkit/__init__.py has no __version__ = '...' line")


def pinned(package: str) -> str:
    """``package==version`` from constraints.txt (the versions the book is tested with)."""
    text = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    m = re.search(rf"^{re.escape(package)}==(\S+)", text, flags=re.M | re.I)
    if not m:
        raise SystemExit(f"{package} is not pinned in constraints.txt")
    return f"{package}=={m.group(1)}"


def is_install_cell(cell: dict) -> bool:
    return cell["cell_type"] == "code" and "%pip install" in "".join(cell["source"])


def imported_modules(nb: dict) -> set[str]:
    """Dotted names of every module the chapter's code cells import (install cell excluded)."""
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or is_install_cell(cell):
            continue
        for line in "".join(cell["source"]).splitlines():
            m = re.match(r"\s*from\s+([\w.]+)\s+import\b", line)
            if m:
                names.add(m.group(1))
                continue
            m = re.match(r"\s*import\s+(.+)", line)
            if m:
                names.update(part.split()[0] for part in m.group(1).split("#")[0].split(",") if part.strip())
    return names


def render(nb: dict) -> str:
    """The install cell's source for this notebook."""
    mods = {n.split(".")[0] for n in imported_modules(nb)} | {n for n in imported_modules(nb) if "." in n}
    ref = f"v{version()}"
    extras, checks, packages, what = [], ["bpkit"], [], []
    if "sympy" in mods or "bpkit.symbolic" in mods:
        extras.append("symbolic")
        checks.append("sympy")
        what.append("with SymPy")
    if "myst_nb" in mods:
        checks.append("myst_nb")
        packages.append(pinned("myst-nb"))
        what.append("and myst-nb" if what else "with myst-nb")
    extra = f"[{','.join(extras)}]" if extras else ""
    requirements = [f'"{DISTRIBUTION}{extra} @ git+{REPOSITORY}@{ref}"'] + [f'"{p}"' for p in packages]
    return TEMPLATE.format(tag=ref, what=(" " + " ".join(what)) if what else "",
                           imports="\n".join(f"    import {m}  # noqa: F401" for m in checks), requirements=" ".join(requirements))


def as_source(text: str) -> list[str]:
    lines = text.split("\n")
    return [ln + "\n" for ln in lines[:-1]] + [lines[-1]]


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def problems(path: pathlib.Path) -> list[str]:
    """Why this chapter's install cell is not what the template gives (empty: it is)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = first_code_cell(nb)
    if cell is None or not is_install_cell(cell):
        return [f"{path.name}: the first code cell is not the install cell"]
    out = []
    if "".join(cell["source"]) != render(nb):
        out.append(f"{path.name}: install cell differs from the template (run tools/colab_cell.py)")
    if TAG not in cell.get("metadata", {}).get("tags", []):
        out.append(f"{path.name}: install cell is not tagged {TAG}")
    if cell.get("outputs"):
        out.append(f"{path.name}: install cell has outputs (it must be silent where bpkit is importable)")
    return out


def rewrite(path: pathlib.Path) -> bool:
    """Rewrite the install cell; True if the file changed."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    cell = first_code_cell(nb)
    if cell is None:
        raise SystemExit(f"{path}: no code cell")
    if not is_install_cell(cell):  # a chapter without one: insert it after the title cell
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": []}
        if nb.get("nbformat_minor", 0) >= 5:
            cell["id"] = "colab-install"
        nb["cells"].insert(1 if nb["cells"] and nb["cells"][0]["cell_type"] == "markdown" else 0, cell)
    cell["source"] = as_source(render(nb))
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if TAG not in tags:
        tags.append(TAG)
    new = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    if new != raw:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def chapters() -> list[pathlib.Path]:
    return sorted(p for p in CHAPTERS.glob("*.ipynb"))


def main(argv: list[str]) -> int:
    paths = [pathlib.Path(a) for a in argv if a != "--check"] or chapters()
    if "--check" in argv:
        found = [msg for p in paths for msg in problems(p)]
        print("\n".join(found) or f"{len(paths)} install cells match the template")
        return 1 if found else 0
    for p in paths:
        print(f"{p.name}: {'rewritten' if rewrite(p) else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
