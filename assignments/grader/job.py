"""What the judge needs to grade one submitted notebook, read from trusted and untrusted files.

``build_job(source, submitted)`` takes the instructor's notebook (trusted: read-only cells,
test cells with their hidden tests) and the student's notebook (untrusted: only its code is
used, as the student's code) and returns a JSON-able job for judge.py.  It also lists what
the submission did to the parts it must not change (``findings``): read-only cells edited,
deleted or stripped of their grader metadata, metadata changed, and code that rebinds a
read-only name or patches a module.  Nothing here executes the student's code.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re

LABEL = re.compile(r"BEGIN SOLUTION\s*\(\s*Task\s+(\d+)\s*:\s*implement\s+([A-Za-z_]\w*)\s*\)")
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
NB_KEYS = ("grade", "solution", "locked", "points", "task")

#: Calls and names that student code has no business with; each use is listed for the instructor.
SUSPICIOUS = {"setattr", "delattr", "globals", "vars", "__builtins__", "builtins", "__import__",
              "importlib", "ctypes", "gc", "inspect", "_getframe", "f_globals", "f_locals", "f_back",
              "__code__", "__globals__", "__closure__", "modules", "settrace", "setprofile",
              "get_ipython", "set_custom_exc", "reload"}


def src(cell: dict) -> str:
    s = cell.get("source", "")
    return s if isinstance(s, str) else "".join(s)


def meta(cell: dict) -> dict:
    m = cell.get("metadata", {})
    m = m.get("nbgrader", {}) if isinstance(m, dict) else {}
    return m if isinstance(m, dict) else {}


def norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip()


def split_hidden(code: str) -> tuple[str, set[int]]:
    """(the code without its hidden-test regions, 1-based numbers of the hidden lines in `code`)."""
    visible, hidden, inside = [], set(), False
    for number, line in enumerate(code.split("\n"), start=1):
        if HIDDEN[0] in line:
            inside = True
            hidden.add(number)
        elif HIDDEN[1] in line:
            inside = False
            hidden.add(number)
        elif inside:
            hidden.add(number)
        else:
            visible.append(line)
    return "\n".join(visible), hidden


def bound_names(tree: ast.AST) -> dict[str, tuple]:
    """Top-level names a module binds -> how: ("import", module, attr) or ("other", line)."""
    out = {}
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = ("import", a.name, None)
                else:
                    top = a.name.split(".")[0]
                    out[top] = ("import", top, None)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                out[a.asname or a.name] = ("import", "." * node.level + (node.module or ""), a.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = ("other", node.lineno)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    out[sub.id] = ("other", getattr(sub, "lineno", 0))
    return out


def parse(code: str):
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def attribute_root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def static_findings(label: str, code: str, protected: dict[str, tuple], imported: set[str]) -> list[str]:
    """What one student cell does to names it must not touch, found in its source."""
    tree = parse(code)
    if tree is None:
        return []
    found = []
    for name, how in bound_names(tree).items():
        if name in protected and how != protected[name] and not name.startswith("_"):
            found.append(f"{label}: rebinds `{name}`, which a read-only cell defines")
    imported = imported | {n for n, how in bound_names(tree).items() if how[0] == "import"}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Global):
            for name in node.names:
                if name in protected:
                    found.append(f"{label}, line {line}: `global {name}` (a read-only name)")
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    root = attribute_root(sub)
                    if root in imported or root in protected:
                        found.append(f"{label}, line {line}: assigns to `{ast.unparse(sub)}`")
        if isinstance(node, ast.Name) and node.id in SUSPICIOUS:
            found.append(f"{label}, line {line}: uses `{node.id}`")
        elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS:
            found.append(f"{label}, line {line}: uses `.{node.attr}`")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for m in mods:
                if m.split(".")[0] in SUSPICIOUS:
                    found.append(f"{label}, line {line}: imports `{m}`")
    return list(dict.fromkeys(found))


def build_job(source: dict, submitted: dict, limits: dict | None = None) -> dict:
    """The judge's job for one submitted notebook; see the module docstring."""
    trusted, tests, demo, proxied, tasks = [], [], set(), [], []
    locked_ids, source_meta = {}, {}
    for cell in source["cells"]:
        m, code = meta(cell), src(cell)
        gid = m.get("grade_id")
        if gid:
            source_meta[gid] = (cell["cell_type"], m)
        if cell["cell_type"] != "code":
            if gid and m.get("locked"):
                locked_ids[gid] = norm(code)
            continue
        if m.get("grade"):
            visible, hidden = split_hidden(code)
            tests.append({"id": gid, "code": code, "hidden": sorted(hidden),
                          "points": m.get("points", 0)})
            locked_ids[gid] = norm(visible)
        elif m.get("solution"):
            for number, fn in LABEL.findall(code):
                tasks.append({"task": int(number), "function": fn, "cell": gid, "test": "test_" + gid})
                proxied.append(fn)
            tree = parse(code)
            if tree is not None:
                proxied.extend(n for n, how in bound_names(tree).items() if how[0] == "other")
        elif m.get("locked") and gid:
            visible, _ = split_hidden(code)
            trusted.append({"id": gid, "code": visible, "judge_code": code})
            locked_ids[gid] = norm(visible)
        elif not m:
            demo.add(norm(code))

    protected, imported = {}, set()
    for cell in trusted:
        tree = parse(cell["judge_code"])
        if tree is not None:
            names = bound_names(tree)
            protected.update(names)
            imported |= {n for n, how in names.items() if how[0] == "import"}

    findings, student = [], []
    cells = submitted.get("cells") if isinstance(submitted, dict) else None
    if not isinstance(cells, list):
        cells = []
        findings.append("the notebook has no cells")
    present = {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        m, code = meta(cell), src(cell)
        gid = m.get("grade_id")
        if gid in source_meta:
            present.setdefault(gid, []).append(index)
            ctype, smeta = source_meta[gid]
            changed = [f"{k}: {smeta.get(k)!r} -> {m.get(k)!r}" for k in NB_KEYS
                       if bool(smeta.get(k)) != bool(m.get(k)) or (k == "points" and smeta.get(k) != m.get(k)
                                                                   and smeta.get("grade"))]
            if cell.get("cell_type") != ctype:
                changed.append(f"cell_type: {ctype!r} -> {cell.get('cell_type')!r}")
            if changed:
                findings.append(f"changes the grader metadata of cell `{gid}` ({'; '.join(changed)})")
            if gid in locked_ids:
                if norm(code) != locked_ids[gid]:
                    findings.append(f"edits the read-only cell `{gid}`")
                continue  # the instructor's version runs instead
        elif gid:
            findings.append(f"adds a cell with grader metadata `{gid}` that the assignment does not have")
        elif m:
            findings.append(f"cell {index + 1} has grader metadata without a grade_id")
        if cell.get("cell_type") != "code":
            continue
        if not m and norm(code) in demo:
            continue  # an instructor's ungraded cell that only runs the student's functions
        text = norm(code)
        stripped = [k for k, v in locked_ids.items() if v and v == text]
        if stripped:
            findings.append(f"removed the grader metadata of the read-only cell `{stripped[0]}`")
        label = gid if gid else f"cell {index + 1}"
        student.append({"key": str(index), "label": label, "code": code})
    for gid in locked_ids:
        if gid not in present:
            findings.append(f"deletes the read-only cell `{gid}` (or its grader metadata)")
        elif len(present[gid]) > 1:
            findings.append(f"has {len(present[gid])} copies of the cell `{gid}`")
    for cell in student:
        findings.extend(static_findings(cell["label"], cell["code"], protected, imported))
    job = {"trusted": trusted, "tests": tests, "student": student, "tasks": tasks,
           "proxied": sorted(set(proxied)), "findings": list(dict.fromkeys(findings)),
           "limits": limits or {}}
    job["key"] = hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()
    return job


def solution_of(source: dict) -> dict:
    """The instructor's notebook as a student who wrote the reference solutions would hand it in."""
    nb = json.loads(json.dumps(source))
    for cell in nb["cells"]:
        if meta(cell).get("solution"):
            cell["source"] = "\n".join(line for line in src(cell).split("\n")
                                       if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
        if meta(cell).get("grade"):
            cell["source"] = split_hidden(src(cell))[0]
    return nb
