"""Count lines of code in Python files: no blank lines, no comments, no docstrings.

Usage: ``python tools/count_loc.py bpkit/*.py`` prints one line per file and the total.
A line counts when it holds at least one token that is not a comment, a newline or part
of a docstring (a string literal that is the first statement of a module, class or
function).  ``--functions`` also lists each top-level function and class.

``python tools/count_loc.py --reading`` counts the *reading path* of chapters 1-10
(:data:`READING_PATH`, the order of the API page's reading guide) without the boundary
checks a reader skips: top-level functions named ``_check_*`` (and the shared
``check_params``, ``check_loss_output``).
"""

from __future__ import annotations

import argparse
import ast
import io
import pathlib
import tokenize

#: The modules a reader of chapters 1-10 reads, in the reading guide's order.
READING_PATH = ("layers", "losses", "mlp", "optim", "train", "datasets", "gradcheck",
                "recurrence", "seqmodel")


def docstring_lines(tree: ast.AST) -> set[int]:
    """Line numbers covered by docstrings."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_lines(source: str) -> set[int]:
    """Line numbers that hold code (not blank, comment-only or docstring)."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER, tokenize.ENCODING}
    doc = docstring_lines(ast.parse(source))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in skip:
            continue
        for n in range(tok.start[0], tok.end[0] + 1):
            if n not in doc:
                lines.add(n)
    return lines


def count(path: pathlib.Path) -> int:
    return len(code_lines(path.read_text()))


def is_check(name: str) -> bool:
    """A boundary check: ``_check_*``, or one of the checks other modules import."""
    return name.startswith("_check") or name in ("check_params", "check_loss_output")


def per_function(path: pathlib.Path) -> list[tuple[str, int]]:
    source = path.read_text()
    lines = code_lines(source)
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            out.append((node.name, len([n for n in lines if first <= n <= node.end_lineno])))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="*", type=pathlib.Path)
    ap.add_argument("--functions", action="store_true", help="also count per top-level def")
    ap.add_argument("--reading", action="store_true",
                    help="count the reading path of chapters 1-10, without the boundary checks")
    args = ap.parse_args(argv)
    if args.reading:
        root = pathlib.Path(__file__).resolve().parents[1] / "bpkit"
        total = 0
        for name in READING_PATH:
            path = root / f"{name}.py"
            checks = sum(k for fn, k in per_function(path) if is_check(fn))
            n = count(path) - checks
            total += n
            print(f"{n:6d}  bpkit/{name}.py  (without {checks} lines of boundary checks)")
        print(f"{total:6d}  reading path")
        return total
    total = 0
    for path in args.files:
        n = count(path)
        total += n
        print(f"{n:6d}  {path}")
        if args.functions:
            for name, k in per_function(path):
                print(f"{k:10d}    {name}")
    print(f"{total:6d}  total")
    return total


if __name__ == "__main__":
    main()
