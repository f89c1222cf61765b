"""The graded assignments (nbgrader, ``assignments/``) work end to end, from the command line.

The static checks of the instructor notebooks run anywhere.  The pipeline tests run the real
``make validate``, ``make release``, ``make autograde SUBMISSIONS=...``, ``make grades`` and
``make feedback`` on a temporary copy of the course, so the repository is not touched, with
the grading venv that ``make test`` sets up and names in ``BPKIT_GRADING_VENV`` (there, a
missing nbgrader fails).  A plain ``pytest`` without that variable uses ``assignments/.venv``
if ``make grading-setup`` made it, and skips the pipeline tests otherwise.

Three test students hand in every assignment:

``solution``
    the release with every solution cell filled in with the instructor's code: full marks;
``untouched``
    the release as handed out (every stub raises NotImplementedError): zero, and graded;
``classic_bug``
    the solution with one classic mistake, which must cost exactly the points of its task:
    problem set 1 takes the sigmoid derivative of the pre-activation z instead of the output a
    (task 2, ``sigmoid_backward``); problem set 2 forgets the gradient that arrives from step
    t + 1 in BPTT (task 2, ``rnn_backward``).  The later tasks are graded on their own: their
    tests run the student's function with bpkit's versions of the functions it calls.
"""

from __future__ import annotations

import csv
import json
import os
import pathlib
import re
import shutil
import subprocess
import time
from types import SimpleNamespace

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
COURSE = ROOT / "assignments"
SOURCES = sorted((COURSE / "source").glob("*/*.ipynb"))
ASSIGNMENTS = [p.parent.name for p in SOURCES]
STUDENTS = ("solution", "untouched", "classic_bug")

#: assignment -> (solution cell, text of the right line, the same line with the classic bug)
BUGS = {
    "ps1_static_backprop": ("task2_sigmoid_backward",
                            "return da * cache.a * (1.0 - cache.a)",
                            "return da * cache.z * (1.0 - cache.z)"),
    "ps2_bptt": ("task2_rnn_backward",
                 "rnn_step_backward(dHs[:, t] + dh_next, caches[t])",
                 "rnn_step_backward(dHs[:, t], caches[t])"),
}

LABEL = re.compile(r"### BEGIN SOLUTION \((Task (\d+): implement (\w+))\)$")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


# --------------------------------------------------------------------------- helpers
def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text())


def src(cell: dict) -> str:
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


def meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def cells_by_id(nb: dict) -> dict[str, dict]:
    return {meta(c)["grade_id"]: c for c in nb["cells"] if meta(c).get("grade_id")}


def solution_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if meta(c).get("solution")]


def graded_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if meta(c).get("grade")]


def region(text: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines inside begin..end regions, lines outside them); marker lines are in neither."""
    inside, outside, within = [], [], False
    for line in text.split("\n"):
        if begin in line:
            within = True
        elif end in line:
            within = False
        else:
            (inside if within else outside).append(line)
    return inside, outside


def tasks(nb: dict) -> list[tuple[int, str, str, int]]:
    """(task number, function, solution grade_id, points of its test cell), in order."""
    ids = cells_by_id(nb)
    out = []
    for cell in solution_cells(nb):
        label = next(LABEL.search(line.strip()) for line in src(cell).split("\n")
                     if "BEGIN SOLUTION" in line)
        gid = meta(cell)["grade_id"]
        out.append((int(label.group(2)), label.group(3), gid, meta(ids["test_" + gid])["points"]))
    return out


def solved(release: dict, source: dict) -> dict:
    """The release with every solution cell replaced by the instructor's code (markers removed)."""
    nb = json.loads(json.dumps(release))
    ids = cells_by_id(source)
    for cell in solution_cells(nb):
        code = src(ids[meta(cell)["grade_id"]])
        cell["source"] = "\n".join(line for line in code.split("\n")
                                   if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
    return nb


# ------------------------------------------------------------- the instructor notebooks
def pins(path: pathlib.Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.M)
    return {name.lower().replace("_", "-"): version for name, version in found}


def test_grading_env_runs_the_notebooks_on_the_books_versions():
    """numpy and ipykernel, pinned in both requirement files, must agree."""
    grading, book = pins(ROOT / "requirements-grading.txt"), pins(ROOT / "requirements.txt")
    shared = set(grading) & set(book)
    assert {"numpy", "ipykernel"} <= shared
    assert {k: grading[k] for k in shared} == {k: book[k] for k in shared}


def test_there_are_two_assignments():
    assert ASSIGNMENTS == ["ps1_static_backprop", "ps2_bptt"]
    assert set(BUGS) == set(ASSIGNMENTS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_source_is_stored_clean(path):
    nb = load(path)
    assert path.stem == path.parent.name, "nbgrader convention: <assignment>/<assignment>.ipynb"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, (
                f"{path.name}: store the instructor notebook without outputs")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_nbgrader_metadata(path):
    nb = load(path)
    ids = [meta(c)["grade_id"] for c in nb["cells"] if meta(c)]
    assert len(ids) == len(set(ids)), f"duplicate grade_id in {ids}"
    for cell in nb["cells"]:
        m = meta(cell)
        if not m:
            continue
        assert m["schema_version"] == 3 and {"grade", "solution", "locked", "grade_id"} <= set(m)
        if m["grade"]:  # an autograded test cell: locked, points, visible and hidden tests
            assert cell["cell_type"] == "code" and m["locked"] and not m["solution"]
            assert m["points"] > 0 and m["grade_id"].startswith("test_")
            hidden, visible = region(src(cell), "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
            assert any(line.strip() for line in hidden), f"{m['grade_id']}: no hidden tests"
            assert "assert_own_work(" in "\n".join(hidden)
        if m["solution"]:  # an answer cell: one labelled solution region per function
            assert cell["cell_type"] == "code" and not m["locked"] and not m["grade"]
            text = src(cell)
            labels = [LABEL.search(line.strip()) for line in text.split("\n") if "BEGIN SOLUTION" in line]
            assert len(labels) == 1 and labels[0], (
                f"{m['grade_id']}: open the region with `### BEGIN SOLUTION (Task N: implement <function>)`")
            fn = labels[0].group(3)
            assert f"def {fn}(" in text and m["grade_id"].endswith("_" + fn)
    numbers = [t[0] for t in tasks(nb)]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_points_table_matches_the_cells(path):
    nb = load(path)
    intro = src(nb["cells"][0])
    table = [(int(n), fn, int(p)) for n, fn, p in re.findall(r"^\| (\d+) \| `(\w+)` \| (\d+) \|$", intro, re.M)]
    assert table == [(n, fn, p) for n, fn, _, p in tasks(nb)]
    total = re.search(r"\*\*total\*\* \| \*\*(\d+)\*\*", intro)
    assert total and int(total.group(1)) == sum(meta(c)["points"] for c in graded_cells(nb))


# ------------------------------------------------------------------------ the pipeline
def grading_venv() -> pathlib.Path:
    named = os.environ.get("BPKIT_GRADING_VENV")
    venv = pathlib.Path(named) if named else COURSE / ".venv"
    if not (venv / "bin" / "nbgrader").exists():
        if named:
            pytest.fail(f"BPKIT_GRADING_VENV={named} has no nbgrader; `make grading-setup` makes it")
        pytest.skip("no grading venv (assignments/.venv): `make test` or `make grading-setup` sets it up")
    return venv


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    venv = grading_venv()
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(COURSE / "source", course / "source")
    shutil.copy2(COURSE / "nbgrader_config.py", course)
    jupyter = tmp_path_factory.mktemp("jupyter")  # no user-level Jupyter config or kernels
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(JUPYTER_CONFIG_DIR=str(jupyter / "config"), JUPYTER_DATA_DIR=str(jupyter / "data"),
               JUPYTER_PLATFORM_DIRS="1")
    seconds = {}

    def make(target, *variables):
        start = time.perf_counter()
        proc = subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", f"GVENV={venv}",
                               f"COURSE={course}", target, *variables],
                              env=env, capture_output=True, text=True, timeout=600)
        seconds[target] = time.perf_counter() - start
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"make {target} failed:\n{out[-6000:]}"
        assert "Exception while loading config" not in out, f"make {target}: nbgrader_config.py fails:\n{out}"
        return out

    logs = {"validate": make("validate"), "release": make("release")}
    inbox = tmp_path_factory.mktemp("inbox")
    for path in SOURCES:
        assignment = path.parent.name
        release = load(course / "release" / assignment / path.name)
        solution = solved(release, load(path))
        bug_cell, right, wrong = BUGS[assignment]
        buggy = json.loads(json.dumps(solution))
        cell = cells_by_id(buggy)[bug_cell]
        assert src(cell).count(right) == 1, f"{bug_cell} no longer contains `{right}`: update BUGS"
        cell["source"] = src(cell).replace(right, wrong)
        for student, nb in zip(STUDENTS, (solution, release, buggy)):
            (inbox / student).mkdir(exist_ok=True)
            (inbox / student / path.name).write_text(json.dumps(nb, indent=1))
    logs["autograde"] = make("autograde", f"SUBMISSIONS={inbox}")
    logs["grades"] = make("grades")
    logs["feedback"] = make("feedback")
    with open(course / "grades.csv", newline="") as fh:
        totals = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}
    scores = {}
    with open(course / "grades_tasks.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            scores.setdefault((r["assignment"], r["student_id"]), {})[r["task"]] = (
                float(r["score"]), float(r["max_score"]))
    return SimpleNamespace(course=course, logs=logs, totals=totals, scores=scores, seconds=seconds)


def points(path: pathlib.Path) -> dict[str, float]:
    """grade_id of every test cell -> its points."""
    return {meta(c)["grade_id"]: float(meta(c)["points"]) for c in graded_cells(load(path))}


def test_instructor_notebooks_pass_their_tests(pipeline):
    assert pipeline.logs["validate"].count("Success! Your notebook passes all the tests.") == len(SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_release_has_stubs_and_no_solutions_or_hidden_tests(pipeline, path):
    source = load(path)
    release = load(pipeline.course / "release" / path.parent.name / path.name)
    text = json.dumps(release)
    for marker in MARKERS:
        assert marker not in text, f"the release contains `{marker}`"
    assert [meta(c).get("grade_id") for c in release["cells"]] == [meta(c).get("grade_id") for c in source["cells"]]
    by_id = cells_by_id(source)
    for number, fn, gid, _ in tasks(source):
        stub, answer = src(cells_by_id(release)[gid]), src(by_id[gid])
        assert f'raise NotImplementedError("Task {number}: implement {fn}")' in stub
        stub_lines = {line.strip() for line in stub.split("\n")}
        for line in region(answer, "BEGIN SOLUTION", "END SOLUTION")[0]:
            if line.strip() and not line.strip().startswith("#"):
                assert line.strip() not in stub_lines, f"{gid}: the release contains `{line.strip()}`"
    for cell in graded_cells(source):
        visible = region(src(cell), "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")[1]
        released = src(cells_by_id(release)[meta(cell)["grade_id"]])
        assert released.rstrip() == "\n".join(visible).rstrip()
    for cell in release["cells"]:
        assert not cell.get("outputs")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_solution_gets_full_marks(pipeline, path):
    assert pipeline.scores[(path.parent.name, "solution")] == {
        gid: (p, p) for gid, p in points(path).items()}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_untouched_release_gets_zero_and_is_graded(pipeline, path):
    assert pipeline.scores[(path.parent.name, "untouched")] == {
        gid: (0.0, p) for gid, p in points(path).items()}
    graded = load(pipeline.course / "autograded" / "untouched" / path.parent.name / path.name)
    for cell in graded_cells(graded):  # every test cell ran and stopped at the stub
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        assert [e["ename"] for e in errors] == ["NotImplementedError"], meta(cell)["grade_id"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_classic_bug_costs_exactly_its_task(pipeline, path):
    bug_cell = BUGS[path.parent.name][0]
    assert pipeline.scores[(path.parent.name, "classic_bug")] == {
        gid: (0.0 if gid == "test_" + bug_cell else p, p) for gid, p in points(path).items()}


def test_grades_csv_has_every_student_and_assignment(pipeline):
    assert set(pipeline.totals) == {(a, s) for a in ASSIGNMENTS for s in STUDENTS}
    for key, row in pipeline.totals.items():
        tasks_ = pipeline.scores[key].values()
        assert float(row["score"]) == sum(s for s, _ in tasks_)
        assert float(row["max_score"]) == sum(m for _, m in tasks_)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_feedback_pages_show_scores_but_not_hidden_tests(pipeline, path):
    total = sum(points(path).values())
    for student in STUDENTS:
        page = (pipeline.course / "feedback" / student / path.parent.name / (path.stem + ".html")).read_text()
        score = sum(s for s, _ in pipeline.scores[(path.parent.name, student)].values())
        assert f"Score: {score:.1f} / {total:.1f}" in page
    solution_page = (pipeline.course / "feedback" / "solution" / path.parent.name / (path.stem + ".html")).read_text()
    assert "HIDDEN TESTS" not in solution_page
