"""Synthetic submissions for any problem set in ``source/``: the tests and ``make grade-class-demo``.

``variants(source, release)`` returns ``{kind: notebook}``.  Every variant starts from the
release with the instructor's solutions filled in (``solution``), so that its expected score
follows from what it changes:

solution        every answer right
untouched       the release as handed out
zeros           task 1 returns zeros (a wrong answer of the right shape): loses task 1
sneaky          task 1 answers right on its first call only (the visible test), then zeros:
                it fails in a hidden test (the feedback must not show that test's code)
hang            task 2 (or the only task) loops forever
memory          task 1 allocates until it runs out of memory
crash           the last task's function kills its process (``os._exit(1)``)
segfault        the last task's function crashes the interpreter (a null pointer through ctypes)
flood           task 1 prints 20 000 long lines (12 MB) per call, then answers right
tamper_helpers  = zeros, and rebinds the test helpers so that they accept anything
tamper_numpy    = zeros, and patches numpy's comparison functions where they live
tamper_bpkit    = zeros, and patches bpkit's reference functions and gradient checks to agree
tamper_edit     = zeros, and rewrites task 1's read-only test cell to a print
tamper_delete   = zeros, and deletes task 1's test cell
tamper_metadata = zeros, strips the grader metadata of task 1's test cell and marks its own
                  answer cell as a graded cell worth that many points
"""

from __future__ import annotations

import json

from job import LABEL, bound_names, meta, parse, split_hidden, src

#: kind -> (task position it targets, or None)
KINDS = ("solution", "untouched", "zeros", "sneaky", "hang", "memory", "crash", "segfault", "flood",
         "tamper_helpers", "tamper_numpy", "tamper_bpkit", "tamper_edit", "tamper_delete",
         "tamper_metadata")
TAMPER = tuple(k for k in KINDS if k.startswith("tamper_"))

ZEROS = '''
def _zeros(value):
    import numpy as _np
    if isinstance(value, _np.ndarray):
        return _np.zeros_like(value)
    if isinstance(value, float):
        return 0.0
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*[_zeros(v) for v in value])
    if isinstance(value, (tuple, list)):
        return type(value)(_zeros(v) for v in value)
    if isinstance(value, dict):
        return {k: _zeros(v) for k, v in value.items()}
    return value
'''

PRELUDE = {
    "hang": "    while True:\n        pass\n",
    "memory": ("    import numpy as _np\n    _hog = []\n    while True:\n"
               "        _hog.append(_np.ones(2 ** 24))\n"),
    "crash": "    import os as _os\n    _os._exit(1)\n",
    "segfault": "    import ctypes as _ctypes\n    _ctypes.string_at(0)\n",
    "flood": "    for _i in range(20_000):\n        print('flood' * 100, _i)\n",
}


def wrap(fn: str, prelude: str = "", zero: bool = False, sneaky: bool = False) -> str:
    body = f"    return {'_zeros(' if zero else ''}_original_{fn}(*args, **kwargs){')' if zero else ''}\n"
    if sneaky:
        return (f"\n{ZEROS}\n_original_{fn} = {fn}\n_calls = []\n\n\ndef {fn}(*args, **kwargs):\n"
                f"    _calls.append(1)\n    out = _original_{fn}(*args, **kwargs)\n"
                f"    return out if len(_calls) == 1 else _zeros(out)\n")
    return (f"\n{ZEROS if zero else ''}\n_original_{fn} = {fn}\n\n\ndef {fn}(*args, **kwargs):\n"
            f"{prelude}{body}")


def _copy(nb):
    return json.loads(json.dumps(nb))


def _cells(nb):
    return {meta(c).get("grade_id"): c for c in nb["cells"] if meta(c).get("grade_id")}


def solved(release: dict, source: dict) -> dict:
    nb = _copy(release)
    by_id = _cells(source)
    for cell in nb["cells"]:
        if meta(cell).get("solution"):
            code = src(by_id[meta(cell)["grade_id"]])
            cell["source"] = "\n".join(line for line in code.split("\n")
                                       if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
    return nb


def tasks(source: dict) -> list[tuple[int, str, str]]:
    """(task number, function, answer cell id), in order."""
    out = []
    for cell in source["cells"]:
        if meta(cell).get("solution"):
            for number, fn in LABEL.findall(src(cell)):
                out.append((int(number), fn, meta(cell)["grade_id"]))
    return out


def target(kind: str, source: dict) -> tuple[int, str, str] | None:
    ts = tasks(source)
    if kind in ("hang",):
        return ts[1] if len(ts) > 1 else ts[0]
    if kind in ("crash", "segfault"):
        return ts[-1]
    if kind in ("zeros", "sneaky", "memory", "flood") or kind.startswith("tamper_"):
        return ts[0]
    return None


def helper_names(source: dict) -> list[str]:
    """Functions of the test-helper cell (or the last read-only code cell) and the gradient checks."""
    trusted = [c for c in source["cells"] if c["cell_type"] == "code" and meta(c).get("locked")
               and not meta(c).get("grade")]
    helpers = next((c for c in trusted if meta(c).get("grade_id") == "test_helpers"), trusted[-1])
    names = [n for n, how in bound_names(parse(split_hidden(src(helpers))[0])).items()
             if how[0] == "other" and not n.isupper()]
    for cell in trusted:
        for n, how in bound_names(parse(src(cell))).items():
            if how[0] == "import" and how[1].startswith("bpkit.gradcheck"):
                names.append(n)
    return list(dict.fromkeys(names))


TAMPER_CODE = {
    "tamper_numpy": '''
import numpy as _np
import numpy.testing as _npt
_np.allclose = lambda *args, **kwargs: True
_np.isclose = lambda a, b, *args, **kwargs: _np.ones(_np.broadcast(a, b).shape, bool)
_np.array_equal = lambda *args, **kwargs: True
_np.linalg.norm = lambda *args, **kwargs: 0.0
_npt.assert_allclose = lambda *args, **kwargs: None
''',
    "tamper_bpkit": '''
import bpkit.gradcheck
import bpkit.layers
import bpkit.mlp
import bpkit.rnn
import bpkit.train

bpkit.gradcheck.rel_error = lambda *args, **kwargs: 0.0
bpkit.gradcheck.numerical_gradient = lambda f, x, *args, **kwargs: x * 0.0
for _module in (bpkit.layers, bpkit.mlp, bpkit.rnn, bpkit.train):
    for _name in dir(_module):
        if "backward" in _name or _name.startswith("train"):
            setattr(_module, _name, (lambda f: lambda *a, **k: _zeros(f(*a, **k)))(getattr(_module, _name)))
''',
}


def variants(source: dict, release: dict) -> dict[str, dict]:
    base = solved(release, source)
    out = {"solution": base, "untouched": _copy(release)}
    for kind in KINDS[2:]:
        nb = _copy(base)
        number, fn, cell_id = target(kind, source)
        cell = _cells(nb)[cell_id]
        zero = kind == "zeros" or kind.startswith("tamper_")
        extra = wrap(fn, PRELUDE.get(kind, ""), zero=zero, sneaky=kind == "sneaky")
        test = _cells(nb)["test_" + cell_id]
        if kind == "tamper_helpers":
            extra += "\n\n" + "\n".join(f"def {n}(*args, **kwargs):\n    return 0.0\n" for n in helper_names(source))
        elif kind in TAMPER_CODE:
            extra += TAMPER_CODE[kind]
        elif kind == "tamper_edit":
            test["source"] = f'print("Task {number}: the visible tests pass.")\n'
        elif kind == "tamper_delete":
            nb["cells"].remove(test)
        elif kind == "tamper_metadata":
            test["metadata"].pop("nbgrader")
            test["source"] = "pass\n"
            points = meta(_cells(source)["test_" + cell_id])["points"]
            cell["metadata"]["nbgrader"].update(grade=True, points=points)
        cell["source"] = src(cell).rstrip("\n") + "\n" + extra
        out[kind] = nb
    return out


def expected(kind: str, source: dict) -> dict[str, float]:
    """test cell id -> the score the variant must get (tampering: as `zeros`, or less)."""
    points = {meta(c)["grade_id"]: float(meta(c)["points"]) for c in source["cells"] if meta(c).get("grade")}
    if kind == "untouched":
        return {g: 0.0 for g in points}
    t = target(kind, source)
    lost = {"test_" + t[2]} if t and kind not in ("solution", "flood") else set()
    return {g: 0.0 if g in lost else p for g, p in points.items()}
