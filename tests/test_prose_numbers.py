"""No measured number is typed by hand in a chapter's prose.

Numbers that come from a run belong in the computation: glue them into the text
(``{glue:text}`name:.2f```) or print and assert them in a code cell.  Settings that a
chapter *chooses* (a learning rate, an epsilon) are written in math or code spans
(``$\\eta = 0.1$``, ```lr=0.1```).  So in the markdown cells of every notebook in
``chapters/``, outside

- ``$math$``, ``$$math$$`` and ``\\begin{...}...\\end{...}`` environments,
- inline ```code``` and code fences (the *contents* of MyST directives such as
  ``{exercise}`` or ``{note}`` are prose and are checked),
- roles such as ``{glue:text}`...```, ``{cite:p}`...``` or ``{py:func}`...```,
- link targets, URLs and HTML tags,

there must be no decimal number (``0.75``), no percentage (``93%``, ``93 percent``) and
no ratio of counts (``19/100``, ``19 out of 100``, ``19 of 100``).  Plain integers are
allowed.  ``ALLOWED`` lists the few constants that may appear as prose (version numbers
of tools); keep it short.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts)

#: Constants allowed in prose, as regular expressions matched against the stripped text.
ALLOWED = (
    r"\b(?:Python|Jupyter Book|Sphinx|MathJax|numpy|NumPy|SymPy|nbval|Colab)\s+v?\d+(?:\.\d+)+(?:\.x)?",
)

#: Directives whose body is code or math, not prose.
CODE_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode", "math", "literalinclude",
                   "glue:math", "glue:figure", "raw"}

PATTERNS = {
    "decimal": re.compile(r"(?<![\w.])\d*\.\d+"),
    "percentage": re.compile(r"\d+(?:\.\d+)?\s*(?:%|\\%|percent\b|per cent\b)", re.I),
    "ratio of counts": re.compile(r"(?<![\w./])\d+\s*/\s*\d+(?![\w./])"
                                  r"|\b\d+\s+(?:out\s+of|of)\s+(?:the\s+|all\s+|its\s+)?\d+\b"),
}


def _strip_fences(text: str) -> str:
    """Remove code fences; keep the prose body of other MyST directives."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^(\s*)(`{3,}|~{3,}|:{3,})\s*(\{([^}]*)\})?(.*)$", lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        fence, directive, argument = m.group(2), m.group(4), m.group(5)
        j = i + 1
        while j < len(lines) and not re.match(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[j]):
            j += 1
        body = lines[i + 1:j]
        if directive is not None and directive.strip() not in CODE_DIRECTIVES:
            out.append(argument)                                       # a directive's title is prose
            out.extend(ln for ln in body if not re.match(r"^\s*:[\w-]+:", ln))  # options are not
        i = j + 1
    return "\n".join(out)


def prose(markdown: str) -> str:
    """The prose of a markdown cell: everything the rule applies to."""
    text = markdown.replace("\\$", " DOLLAR ")
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = _strip_fences(text)
    text = re.sub(r"\{[\w:.-]+\}`[^`]*`", " ROLE ", text)            # {glue:text}`x:.2f`, {cite:p}`k`
    text = re.sub(r"(`+)(.+?)\1", " CODE ", text, flags=re.S)        # inline code
    text = re.sub(r"\$\$.*?\$\$", " MATH ", text, flags=re.S)
    text = re.sub(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", " MATH ", text, flags=re.S)
    text = re.sub(r"\$[^$]+\$", " MATH ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)                           # link targets
    text = re.sub(r"https?://\S+", " URL ", text)
    text = re.sub(r"<[^>]+>", " ", text)                               # HTML tags
    for allowed in ALLOWED:
        text = re.sub(allowed, " ALLOWED ", text)
    return text


def hand_typed_numbers(markdown: str) -> list[tuple[str, str]]:
    """``(kind, match)`` for every decimal, percentage or ratio of counts in the prose."""
    text = prose(markdown)
    found = []
    for kind, pattern in PATTERNS.items():
        found.extend((kind, m.group(0).strip()) for m in pattern.finditer(text))
    return found


# ---- the checker on examples -------------------------------------------------------------

@pytest.mark.parametrize("markdown", [
    "The loss falls to 0.0032 after 30 steps.",
    "It solves XOR on 93% of the seeds.",
    "It solves XOR on 93 percent of the seeds.",
    "Only 19/100 seeds learn.",
    "Only 19 out of 100 seeds learn.",
    "19 of 100 runs solve it.",
    "an error of .5 at the kink",
    "```{exercise} Saturation at 0.9975\n:label: ex\n\nShow it.\n```",
    "```{note}\nThe ratio is 2.5 here.\n```",
])
def test_checker_flags_hand_typed_numbers(markdown):
    assert hand_typed_numbers(markdown), markdown


@pytest.mark.parametrize("markdown", [
    "Train for 10,000 epochs with seed 3 (chapter 4).",
    "With $\\eta = 0.1$ and `lr=0.1` the loss is {glue:text}`final_loss:.4f`.",
    "$$\\frac{1}{2N}\\sum_n (0.5 - y_n)^2$$",
    "A cost of {glue:text}`ratio:.1f` forward passes {cite:p}`goodfellow2016deep`.",
    "See [the docs](https://example.org/v1.2/page.html) and {py:func}`bpkit.gradcheck.rel_error`.",
    "```python\nlr = 0.1  # 50% of the time\n```",
    "```{exercise} Gradients add\n:label: ex-0.5\n\nWork it out for $x = 1.5$.\n```",
    "Built with Jupyter Book 1.x and Python 3.11 on numpy 2.4.6.",
    "A price of \\$5 and a layer 1/layer 2 comparison in words.",
    "\\begin{aligned} z &= 0.7 \\end{aligned}",
])
def test_checker_accepts_math_code_glue_and_integers(markdown):
    assert hand_typed_numbers(markdown) == [], hand_typed_numbers(markdown)


# ---- every chapter ----------------------------------------------------------------------

def test_there_are_chapters():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_hand_typed_numbers_in_prose(path):
    nb = json.loads(path.read_text())
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for kind, match in hand_typed_numbers("".join(cell["source"])):
            problems.append(f"cell {i}: {kind} {match!r}")
    assert not problems, (
        f"{path.name}: numbers typed by hand in the prose — glue measured numbers "
        f"({{glue:text}}`name:.2f`), put chosen settings in $math$ or `code`:\n  " + "\n  ".join(problems))
