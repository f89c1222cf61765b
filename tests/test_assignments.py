"""The graded assignments (nbgrader, ``assignments/``) work end to end, from the command line.

The static checks of the instructor notebooks run anywhere.  The pipeline tests run the real
``make validate``, ``make release``, ``make autograde SUBMISSIONS=...``, ``make grades`` and
``make feedback`` on a temporary copy of the course, so the repository is not touched, with
the grading venv that ``make test`` sets up and names in ``BPKIT_GRADING_VENV`` (there, a
missing nbgrader fails).  A plain ``pytest`` without that variable uses ``assignments/.venv``
if ``make grading-setup`` made it, and skips the pipeline tests otherwise.

The test students hand in every problem set in ``source/`` (``PIPELINE``); most are made by
``assignments/grader/synthetic.py`` from the release, so a new problem set is covered too:

``solution`` / ``untouched``
    full marks / zero, and graded;
``classic_bug``
    the solution with one classic mistake (``BUGS``), which must cost exactly its task:
    problem set 1 takes the sigmoid derivative of z instead of a (task 2), problem set 2
    forgets the gradient that arrives from step t + 1 in BPTT (task 2), problem set 3 does not
    sum a broadcast input's gradient over the broadcast axes (task 1);
``late``
    the solution, handed in three started days after the due date: 30 % off;
``sneaky``, ``hang``, ``crash``
    a failure in one task (a hidden test, an endless loop, ``os._exit``) costs that task only;
``tamper_*``
    task 1 wrong, plus rebinding the test helpers, editing, deleting or re-labelling a test
    cell: they score exactly what their functions earn, and are listed;
``broken``
    a hand-in that is not a notebook: not graded, everyone else is (exit status 1).

The cases that need no nbgrader (memory, output flood, segfault, patching numpy or bpkit)
are graded by the judge alone (``JUDGE_ONLY``).
"""

from __future__ import annotations

import csv
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
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
    "ps3_autodiff": ("task1_add_backward",
                     "return unbroadcast(dout, tuple(a_shape)), unbroadcast(dout, tuple(b_shape))",
                     "return dout, dout"),
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


def test_the_problem_sets_are_there():
    assert {"ps1_static_backprop", "ps2_bptt"} <= set(ASSIGNMENTS)
    assert set(BUGS) <= set(ASSIGNMENTS)


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
sys.path.insert(0, str(COURSE / "grader"))
import synthetic  # noqa: E402  (assignments/grader: standard library only)
from job import build_job, split_hidden  # noqa: E402

#: Students of the pipeline run: the three of old, a late one, the failure and tampering
#: cases that touch nbgrader (synthetic.py), and a hand-in that is not a notebook.
PIPELINE = ("solution", "untouched", "classic_bug", "late", "sneaky", "hang", "crash",
            "tamper_helpers", "tamper_edit", "tamper_delete", "tamper_metadata", "broken")
#: Cases graded by the judge alone (no nbgrader), faster.
JUDGE_ONLY = ("zeros", "memory", "flood", "segfault", "tamper_numpy", "tamper_bpkit")
TEST_LIMITS = {"timeout": 15.0, "memory_mb": 1024}
DUE, HANDED_IN = "2030-01-01 12:00:00 UTC", "2030-01-03 13:00:00 UTC"  # 3 started days late: -30 %


def grading_venv() -> pathlib.Path:
    named = os.environ.get("BPKIT_GRADING_VENV")
    venv = pathlib.Path(named) if named else COURSE / ".venv"
    if not (venv / "bin" / "nbgrader").exists():
        if named:
            pytest.fail(f"BPKIT_GRADING_VENV={named} has no nbgrader; `make grading-setup` makes it")
        pytest.skip("no grading venv (assignments/.venv): `make test` or `make grading-setup` sets it up")
    return venv


def new_course(tmp_path_factory, name="course") -> pathlib.Path:
    course = tmp_path_factory.mktemp(name)
    shutil.copytree(COURSE / "source", course / "source")
    shutil.copytree(COURSE / "grader", course / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(COURSE / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as fh:  # the test's limits and due dates
        fh.write(f"\nc.SecureExecute.timeout = {TEST_LIMITS['timeout']}\n"
                 f"c.SecureExecute.memory_mb = {TEST_LIMITS['memory_mb']}\n"
                 f"c.LatePolicy.due_dates = {dict.fromkeys(ASSIGNMENTS, DUE)!r}\n")
    return course


def runner(venv, course, tmp_path_factory):
    jupyter = tmp_path_factory.mktemp("jupyter")  # no user-level Jupyter config or kernels
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(JUPYTER_CONFIG_DIR=str(jupyter / "config"), JUPYTER_DATA_DIR=str(jupyter / "data"),
               JUPYTER_PLATFORM_DIRS="1")
    seconds = {}

    def make(target, *variables, status=0):
        start = time.perf_counter()
        proc = subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", f"GVENV={venv}",
                               f"COURSE={course}", target, *variables],
                              env=env, capture_output=True, text=True, timeout=900)
        seconds[target] = time.perf_counter() - start
        out = proc.stdout + proc.stderr
        # make exits with 2 whenever a recipe fails; the recipe's own status is in its message
        failed = re.search(r"make: \*\*\* \[.*\] Error (\d+)", out)
        code = int(failed.group(1)) if failed else proc.returncode
        assert code == status, f"make {target}: status {code}, not {status}:\n{out[-6000:]}"
        assert "Exception while loading config" not in out, f"make {target}: nbgrader_config.py fails:\n{out}"
        return out, code

    return make, seconds


def hand_in(inbox: pathlib.Path, student: str, path: pathlib.Path, nb) -> None:
    (inbox / student).mkdir(parents=True, exist_ok=True)
    target = inbox / student / path.name
    target.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1))


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    venv = grading_venv()
    course = new_course(tmp_path_factory)
    make, seconds = runner(venv, course, tmp_path_factory)
    logs = {"validate": make("validate")[0], "release": make("release")[0]}
    inbox = tmp_path_factory.mktemp("inbox")
    handed = set()
    for path in SOURCES:
        assignment = path.parent.name
        source = load(path)
        release = load(course / "release" / assignment / path.name)
        made = synthetic.variants(source, release)
        made["late"] = made["solution"]
        if assignment in BUGS:
            bug_cell, right, wrong = BUGS[assignment]
            buggy = json.loads(json.dumps(made["solution"]))
            cell = cells_by_id(buggy)[bug_cell]
            assert src(cell).count(right) == 1, f"{bug_cell} no longer contains `{right}`: update BUGS"
            cell["source"] = src(cell).replace(right, wrong)
            made["classic_bug"] = buggy
        for student in PIPELINE:
            if student == "broken":
                if path == SOURCES[0]:
                    hand_in(inbox, student, path, '{"cells": [ this is not JSON')
                    handed.add((assignment, student))
            elif student in made:
                hand_in(inbox, student, path, made[student])
                handed.add((assignment, student))
    (inbox / "late" / "timestamp.txt").write_text(HANDED_IN + "\n")
    logs["autograde"], status = make("autograde", f"SUBMISSIONS={inbox}", status=1)
    logs["grades"] = make("grades")[0]
    logs["feedback"] = make("feedback")[0]
    with open(course / "grades.csv", newline="") as fh:
        totals = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}
    scores = {}
    with open(course / "grades_tasks.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            scores.setdefault((r["assignment"], r["student_id"]), {})[r["task"]] = (
                float(r["score"]), float(r["max_score"]))
    with open(course / "tampering.csv", newline="") as fh:
        tampering = list(csv.DictReader(fh))
    with open(course / "grading_summary.csv", newline="") as fh:
        summary = list(csv.DictReader(fh))
    print("pipeline seconds:", {k: round(v, 1) for k, v in seconds.items()})
    return SimpleNamespace(course=course, logs=logs, totals=totals, scores=scores, seconds=seconds,
                           status=status, handed=handed, tampering=tampering, summary=summary, make=make,
                           inbox=inbox)


def points(path: pathlib.Path) -> dict[str, float]:
    """grade_id of every test cell -> its points."""
    return {meta(c)["grade_id"]: float(meta(c)["points"]) for c in graded_cells(load(path))}


def test_instructor_notebooks_pass_their_tests(pipeline):
    assert pipeline.logs["validate"].count("Success! Your notebook passes all the tests.") == len(SOURCES)
    assert pipeline.logs["validate"].count("the judge gives the instructor's solution full marks") == len(SOURCES)


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


@pytest.mark.parametrize("path", [p for p in SOURCES if p.parent.name in BUGS], ids=lambda p: p.parent.name)
def test_classic_bug_costs_exactly_its_task(pipeline, path):
    bug_cell = BUGS[path.parent.name][0]
    assert pipeline.scores[(path.parent.name, "classic_bug")] == {
        gid: (0.0 if gid == "test_" + bug_cell else p, p) for gid, p in points(path).items()}


@pytest.mark.parametrize("kind", ["sneaky", "hang", "crash", "tamper_helpers", "tamper_edit", "tamper_delete",
                                  "tamper_metadata"])
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_failures_and_tampering_cost_exactly_the_broken_task(pipeline, path, kind):
    """A hang or a killed process loses that task only; tampering gains nothing: each of these
    students is `zeros` (or `solution`) plus the failure, and scores what the functions earn."""
    want = synthetic.expected(kind, load(path))
    assert pipeline.scores[(path.parent.name, kind)] == {gid: (want[gid], p) for gid, p in points(path).items()}


def test_tampering_submissions_are_listed(pipeline):
    tried = {(r["assignment"], r["student_id"]) for r in pipeline.tampering}
    expected = {(a, s) for a, s in pipeline.handed if s.startswith("tamper_")}
    assert tried == expected
    out = pipeline.logs["autograde"]
    section = out[out.index("Tampering:"):out.index("Late:")]
    for a, s in expected:
        assert f"{s} {a}:" in section
    findings = {(r["assignment"], r["student_id"]): r["finding"] for r in pipeline.tampering}
    for a in ASSIGNMENTS:
        assert "rebinds `check_close`" in " ".join(r["finding"] for r in pipeline.tampering
                                                   if r["student_id"] == "tamper_helpers" and r["assignment"] == a)
        assert "edits the read-only cell" in findings.get((a, "tamper_edit"), "")
        assert "deletes the read-only cell" in findings.get((a, "tamper_delete"), "")


def test_autograde_grades_everyone_and_summarises_failures(pipeline):
    """Exit status 1: one hand-in is not a notebook; every other submission is graded, and
    the summary says what failed for whom."""
    assert pipeline.status == 1
    out = pipeline.logs["autograde"]
    assert "Not graded: 1 submissions" in out and f"broken {ASSIGNMENTS[0]}:" in out
    graded = {(a, s) for a, s in pipeline.handed if s != "broken"}
    assert graded <= {k for k, row in pipeline.totals.items() if row["raw_score"] != ""}
    kinds = {(r["assignment"], r["student_id"], r["status"]) for r in pipeline.summary}
    for a in ASSIGNMENTS:
        assert (a, "hang", "timed out") in kinds
        assert (a, "crash", "process died") in kinds
        assert (a, "untouched", "not implemented") in kinds
        assert f"hang {a}" in out and f"crash {a}" in out


def test_late_work_loses_its_penalty(pipeline):
    for a in ASSIGNMENTS:
        row = pipeline.totals[(a, "late")]
        assert row["timestamp"].startswith(HANDED_IN[:19]) and row["duedate"].startswith(DUE[:19])
        assert float(row["late_submission_penalty"]) == pytest.approx(0.3 * float(row["raw_score"]))
        assert float(row["score"]) == pytest.approx(0.7 * float(row["max_score"]))
        assert float(pipeline.totals[(a, "solution")]["late_submission_penalty"]) == 0.0
    for a, s in pipeline.handed:
        assert (pipeline.course / "submitted" / s / a / "timestamp.txt").is_file()


def test_grades_csv_has_every_student_and_assignment(pipeline):
    students = {s for _, s in pipeline.handed}
    assert set(pipeline.totals) == {(a, s) for a in ASSIGNMENTS for s in students}
    for key, row in pipeline.totals.items():
        if key not in pipeline.scores:  # handed nothing in for this assignment
            assert float(row["score"]) == 0.0
            continue
        tasks_ = pipeline.scores[key].values()
        assert float(row["raw_score"]) == sum(s for s, _ in tasks_)
        assert float(row["max_score"]) == sum(m for _, m in tasks_)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_feedback_pages_show_scores_but_not_hidden_tests(pipeline, path):
    import html
    total = sum(points(path).values())
    hidden, visible = [], set()
    for cell in graded_cells(load(path)):
        lines = src(cell).split("\n")
        shown, numbers = split_hidden(src(cell))
        hidden += [lines[i - 1].strip() for i in numbers]
        visible |= {line.strip() for line in shown.split("\n")}
    hidden = [h for h in hidden if len(h) > 12 and not h.startswith("#") and h not in visible]
    assert hidden
    pages = 0
    for a, student in sorted(pipeline.handed):
        if a != path.parent.name or student == "broken":
            continue
        page = (pipeline.course / "feedback" / student / a / (path.stem + ".html")).read_text()
        pages += 1
        score = float(pipeline.totals[(a, student)]["score"])  # after a late penalty
        assert f"Score: {score:.1f} / {total:.1f}" in page
        for line in hidden:
            assert html.escape(line) not in page and line not in page, f"{student}: `{line}` in the feedback"
        assert "HIDDEN TESTS" not in page
    sneaky = (pipeline.course / "feedback" / "sneaky" / path.parent.name / (path.stem + ".html")).read_text()
    assert "a hidden test" in sneaky  # the failing line, without its code
    assert pages >= len(PIPELINE) - 1


def test_a_bad_submissions_folder_grades_nobody(pipeline, tmp_path):
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / "homework.ipynb").write_text("{}")
    before = sorted(p.name for p in (pipeline.course / "submitted").iterdir())
    out, status = pipeline.make("autograde", f"SUBMISSIONS={tmp_path}", status=2)
    assert status == 2 and "unknown notebook" in out and "nothing graded" in out
    assert sorted(p.name for p in (pipeline.course / "submitted").iterdir()) == before


def test_a_submission_that_changes_the_grading_environment_stops_the_run(tmp_path_factory):
    """Exit status 3: a student's code wrote to the course's files while it was graded."""
    venv = grading_venv()
    course = new_course(tmp_path_factory, "vandalised")
    make, _ = runner(venv, course, tmp_path_factory)
    inbox = tmp_path_factory.mktemp("vandal")
    path = SOURCES[0]
    from job import solution_of
    nb = solution_of(load(path))
    cell = next(c for c in nb["cells"] if meta(c).get("solution"))
    cell["source"] = src(cell) + f"\n\nwith open({str(course / 'nbgrader_config.py')!r}, 'a') as _f:\n    _f.write('#')\n"
    hand_in(inbox, "vandal", path, nb)
    out, status = make("autograde", f"SUBMISSIONS={inbox}", status=3)
    assert status == 3 and "files changed while students' code ran" in out
    assert "nbgrader_config.py" in out


# --------------------------------------------------------- the judge, without nbgrader
@pytest.fixture(scope="module")
def judged(pipeline):
    """The judge-only cases of every problem set, two judges at a time."""
    import concurrent.futures
    venv, course = grading_venv(), pipeline.course
    jobs = {}
    for path in SOURCES:
        release = load(course / "release" / path.parent.name / path.name)
        made = synthetic.variants(load(path), release)
        for kind in JUDGE_ONLY:
            jobs[(path.parent.name, kind)] = build_job(load(path), made[kind], TEST_LIMITS)

    def run(job):
        proc = subprocess.run([str(venv / "bin" / "python"), str(course / "grader" / "judge.py")],
                              input=json.dumps(job), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return dict(zip(jobs, pool.map(run, jobs.values())))


@pytest.mark.parametrize("kind", JUDGE_ONLY)
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_judge_isolates_failures_and_ignores_tampering(judged, path, kind):
    report = judged[(path.parent.name, kind)]
    got = {gid: t["points"] if t["ok"] else 0.0 for gid, t in report["tests"].items()}
    want = synthetic.expected(kind, load(path))
    if kind.startswith("tamper_"):  # sabotage may cost the saboteur more, never less
        assert all(got[g] <= want[g] for g in want) and report["tamper"], (got, want)
        first = min(want, key=lambda g: int(re.search(r"task(\d+)", g).group(1)))
        assert got[first] == 0.0
    else:
        assert got == want, {g: t["failure"] for g, t in report["tests"].items()}
    if kind == "memory":
        assert any(t["failure"] and t["failure"]["kind"] == "out of memory" for t in report["tests"].values())
    if kind == "flood":
        text = json.dumps(report["tests"])
        assert "output cut" in text and len(text) < 200_000


def _code_cell(source: str, **nbgrader) -> dict:
    m = {"nbgrader": {"schema_version": 3, "grade": False, "solution": False, "locked": False, **nbgrader}}
    return {"cell_type": "code", "metadata": m if nbgrader else {}, "source": source, "outputs": [],
            "execution_count": None}


MINI_ANSWER = '''class Value:
    ### BEGIN SOLUTION (Task 1: implement Value)
    def __init__(self, data):
        self.data, self.grad, self._back = float(data), 0.0, lambda: None

    def __mul__(self, other):
        out = Value(self.data * other.data)

        def back():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._back = back
        return out

    def backward(self):
        self.grad = 1.0
        self._back()
    ### END SOLUTION


def apply(f, x):
    return f(x) + 1
'''
MINI_TEST = '''a, b = Value(2.0), Value(3.0)
c = a * b
c.backward()
assert (a.grad, b.grad, c.data) == (3.0, 2.0, 6.0), (a.grad, b.grad, c.data)
### BEGIN HIDDEN TESTS
assert apply(lambda x: x * 10, 3) == 31
assert apply(twice, np.arange(3)).tolist() == [1, 3, 5]
assert_own_work(Value)
### END HIDDEN TESTS
'''


def test_judge_reaches_objects_and_callbacks():
    """A problem set whose task is a class (micrograd style) and whose tests pass functions:
    instances stay in the student's process and are reached through handles; a test's
    lambda is called back; a function of the read-only cells crosses by name."""
    from job import solution_of
    venv = grading_venv()
    setup = "import numpy as np\n\n\ndef twice(x):\n    return 2 * x\n\n\ndef assert_own_work(fn):\n    assert fn.__code__\n"
    nb = {"cells": [_code_cell(setup, grade_id="setup", locked=True),
                    _code_cell(MINI_ANSWER, grade_id="task1_Value", solution=True),
                    _code_cell(MINI_TEST, grade_id="test_task1_Value", grade=True, locked=True, points=2)],
          "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    reports = {}
    wrong = solution_of(nb)
    wrong["cells"][1]["source"] = wrong["cells"][1]["source"].replace("self.grad += other.data * out.grad", "self.grad += 0.0 * out.grad")
    for name, sub in (("right", solution_of(nb)), ("wrong", wrong)):
        proc = subprocess.run([str(venv / "bin" / "python"), str(COURSE / "grader" / "judge.py")],
                              input=json.dumps(build_job(nb, sub, TEST_LIMITS)), capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        reports[name] = json.loads(proc.stdout)["tests"]["test_task1_Value"]
    assert reports["right"]["ok"], reports["right"]
    assert not reports["wrong"]["ok"] and reports["wrong"]["failure"]["kind"] == "wrong answer"
