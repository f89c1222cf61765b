"""Figures' alt text in the chapters: list what is missing, or carry it over from another commit.

Usage::

    python tools/alt_text.py                 # list every figure cell without alt text
    python tools/alt_text.py --from REF      # copy alt text from git REF (a branch, tag or
                                             # commit) into figure cells whose code is
                                             # identical there and that have none here

Alt text lives in the cell's metadata, ``{"mystnb": {"image": {"alt": "..."}}}`` (myst-nb
writes it into the page's ``<img alt>``); tests/test_notebook_hygiene.py requires it on every
cell with an image output.  ``--from`` only ever adds that metadata key: the cells' sources
and stored outputs are untouched, so nbval's comparison is unaffected.  A chapter rewritten
since REF keeps whatever alt text its author gave it; cells whose code changed are listed,
to be described by hand.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def figure_cells(nb: dict) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
            and any(k.startswith("image/") for o in c.get("outputs", []) for k in o.get("data", {}))]


def alt_of(cell: dict) -> str:
    return cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")


def at_ref(ref: str, path: pathlib.Path) -> dict | None:
    rel = path.relative_to(ROOT).as_posix()
    done = subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=ROOT, capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else None


def main(argv: list[str]) -> int:
    ref = argv[argv.index("--from") + 1] if "--from" in argv else None
    missing = 0
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        raw = path.read_text(encoding="utf-8")
        nb = json.loads(raw)
        known = {}
        if ref:
            old = at_ref(ref, path)
            known = {"".join(c["source"]): alt_of(c) for _, c in figure_cells(old)} if old else {}
        for i, cell in figure_cells(nb):
            if alt_of(cell):
                continue
            alt = known.get("".join(cell["source"]))
            if alt:
                cell.setdefault("metadata", {}).setdefault("mystnb", {}).setdefault("image", {})["alt"] = alt
                print(f"{path.name} cell {i}: alt text copied from {ref}")
            else:
                missing += 1
                first = "".join(cell["source"]).strip().splitlines()[0][:60]
                print(f"{path.name} cell {i}: NO ALT TEXT ({first!r})")
        new = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        if new != raw:
            path.write_text(new, encoding="utf-8")
    print(f"{missing} figure(s) without alt text")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
