"""Re-execute notebooks in place, top to bottom, each in a fresh kernel.

Usage: ``python tools/execute_notebooks.py [PATH ...]`` (files or folders; default ``chapters``).
This is how the stored outputs are made: run it after editing a chapter, then
commit the notebook.  Cells tagged ``raises-exception`` may raise; any other
error stops with a traceback.
"""

from __future__ import annotations

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient


def execute(path: pathlib.Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:  # no timestamps: re-running an unchanged chapter changes nothing
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    targets = [pathlib.Path(a) for a in (argv or ["chapters"])]
    paths = []
    for t in targets:
        paths.extend(sorted(t.rglob("*.ipynb")) if t.is_dir() else [t])
    for p in paths:
        if ".ipynb_checkpoints" in p.parts or "_build" in p.parts:
            continue
        print(f"{p}: {execute(p):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
