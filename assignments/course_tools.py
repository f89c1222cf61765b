"""The chores around nbgrader that the Makefile runs (with the grading venv's Python).

``python course_tools.py validate COURSE``
    Run ``nbgrader validate`` on every instructor notebook ``COURSE/source/*/*.ipynb``, then
    grade each instructor solution with the judge (grader/judge.py) as a student's hand-in.
    Exit with status 1 unless every notebook passes all its tests both ways.

``python course_tools.py collect SUBMISSIONS COURSE``
    Copy hand-ins into nbgrader's layout ``COURSE/submitted/<student>/<assignment>/`` and
    record each hand-in time in ``timestamp.txt`` beside it.  SUBMISSIONS holds one folder per
    student, named by the student id, with the notebooks that student handed in, under the
    names of the release::

        SUBMISSIONS/alice/ps1_static_backprop.ipynb
        SUBMISSIONS/alice/ps2_bptt.ipynb
        SUBMISSIONS/bob/ps1_static_backprop.ipynb

    nbgrader's own layout, ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``, is
    accepted too.  The hand-in time is, in this order: ``timestamp.txt`` in the assignment's
    folder, ``timestamp.txt`` in the student's folder, or the notebook file's modification
    time (keep it when you copy or unzip: ``cp -p``, ``unzip``, ``rsync -t``).  An earlier
    hand-in of the same student and assignment is replaced.

``python course_tools.py due-dates COURSE``
    Write the due dates of ``c.LatePolicy.due_dates`` (nbgrader_config.py) into the gradebook.

``python course_tools.py autograde COURSE [SUBMISSIONS] [--jobs N]``
    collect (if SUBMISSIONS is given), due dates, then grade every submitted notebook: the
    judges run N at a time (default: the number of CPUs), then ``nbgrader autograde`` records
    their scores, then the summary.  Exit status: 0 every submission was graded (wrong
    answers, failed tasks and tampering included: see the summary); 1 some submission could
    not be graded (listed); 2 nothing was graded (the SUBMISSIONS folder has problems); 3 the
    grading environment (bpkit, numpy, the course's sources, the gradebook or other
    students' hand-ins) changed while students' code ran: the grades are not to be trusted.

``python course_tools.py summary COURSE``
    Print what failed for whom, the tampering found, the late penalties; write
    ``grading_summary.csv`` (one row per student, assignment and task) and ``tampering.csv``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import csv
import datetime as dt
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

SUCCESS = "Success! Your notebook passes all the tests."
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
HERE = pathlib.Path(__file__).resolve().parent


def nbgrader(args: list[str], course: pathlib.Path, log=None) -> subprocess.CompletedProcess:
    """Run this venv's nbgrader in the course folder (where nbgrader_config.py is)."""
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    if log is not None:
        return subprocess.run([os.path.join(bindir, "nbgrader"), *args], cwd=course, env=env,
                              stdout=log, stderr=subprocess.STDOUT, text=True)
    return subprocess.run([os.path.join(bindir, "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True)


def load_config(course: pathlib.Path):
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def sources(course: pathlib.Path) -> list[pathlib.Path]:
    return sorted(course.glob("source/*/*.ipynb"))


# ------------------------------------------------------------------------- validate
def validate(course: pathlib.Path) -> int:
    from job import solution_of
    from nbgrader_plugin import grade_file, limits_of

    notebooks = [p.relative_to(course).as_posix() for p in sources(course)]
    if not notebooks:
        print(f"validate: no notebooks in {course / 'source'}", file=sys.stderr)
        return 1
    proc = nbgrader(["validate", *notebooks], course)
    out = proc.stderr + proc.stdout  # nbgrader's log, then the verdict on each notebook
    print(out, end="")
    passed = out.count(SUCCESS)
    if proc.returncode != 0 or "Exception while loading config" in out or passed != len(notebooks):
        print(f"validate: {passed} of {len(notebooks)} notebooks pass all their tests", file=sys.stderr)
        return 1
    limits = limits_of(load_config(course))
    failed = 0
    for path in sources(course):
        tmp = course / "grading_reports" / "_validate"
        tmp.mkdir(parents=True, exist_ok=True)
        sub = tmp / path.name
        sub.write_text(json.dumps(solution_of(json.loads(path.read_text()))))
        report = grade_file(str(path), str(sub), str(tmp / (path.stem + ".json")), limits, reuse=False)
        bad = {g: t["failure"] for g, t in report["tests"].items() if not t["ok"]}
        if bad or report["tamper"]:
            failed += 1
            print(f"validate: the judge does not give {path.stem} full marks: {bad} {report['tamper']}",
                  file=sys.stderr)
        else:
            print(f"validate: {path.stem}: the judge gives the instructor's solution full marks "
                  f"({report['seconds']:.1f} s)")
    shutil.rmtree(course / "grading_reports" / "_validate", ignore_errors=True)
    if failed:
        return 1
    print(f"validate: all {len(notebooks)} instructor notebooks pass all their tests")
    return 0


# -------------------------------------------------------------------------- collect
def handin_time(nb: pathlib.Path, student_dir: pathlib.Path) -> str:
    for stamp in (nb.parent / "timestamp.txt", student_dir / "timestamp.txt"):
        if stamp.is_file() and stamp.read_text().strip():
            return stamp.read_text().strip()
    when = dt.datetime.fromtimestamp(nb.stat().st_mtime, dt.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def collect(submissions: pathlib.Path, course: pathlib.Path) -> int:
    from nbgrader.utils import parse_utc

    # notebook file name -> assignment id, from the instructor versions
    owner = {nb.name: nb.parent.name for nb in sources(course)}
    assignments = set(owner.values())
    if not submissions.is_dir():
        print(f"collect: {submissions} is not a folder", file=sys.stderr)
        return 1
    plan, problems = [], []
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        student = student_dir.name
        if not STUDENT_ID.match(student):
            problems.append(f"{student_dir}: not usable as a student id (letters, digits, . _ @ + -)")
            continue
        found = [nb for nb in sorted(student_dir.rglob("*.ipynb"))
                 if ".ipynb_checkpoints" not in nb.parts]
        if not found:
            problems.append(f"{student_dir}: no notebook")
        for nb in found:
            rel = nb.relative_to(student_dir).parts
            if len(rel) == 2 and rel[0] in assignments and owner.get(rel[1]) == rel[0]:
                assignment = rel[0]
            elif len(rel) == 1 and rel[0] in owner:
                assignment = owner[rel[0]]
            else:
                problems.append(f"{nb}: unknown notebook; expected one of "
                                f"{', '.join(sorted(owner))} (named as in the release)")
                continue
            stamp = handin_time(nb, student_dir)
            try:
                parse_utc(stamp)
            except ValueError:
                problems.append(f"{nb}: hand-in time {stamp!r} is not a date and time")
                continue
            plan.append((student, assignment, nb, stamp))
    copied = []
    if not problems:  # all or nothing
        for student, assignment, nb, stamp in plan:
            dest = course / "submitted" / student / assignment / nb.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(nb, dest)
            (dest.parent / "timestamp.txt").write_text(stamp + "\n")
            copied.append((student, assignment))
    for p in problems:
        print(f"collect: {p}", file=sys.stderr)
    students = {s for s, _ in copied}
    print(f"collect: {len(copied)} notebooks of {len(students)} students -> {course / 'submitted'} "
          f"(hand-in times in timestamp.txt)")
    return 1 if problems else 0


def due_dates(course: pathlib.Path) -> int:
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import parse_utc
    from nbgrader_plugin import LatePolicy

    config = load_config(course)
    dates = LatePolicy(config=config).due_dates
    coursedir = CourseDirectory(config=config)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for path in sources(course):
            name = path.parent.name
            due = parse_utc(dates[name]) if name in dates else None
            gb.update_or_create_assignment(name, duedate=due)
            print(f"due-dates: {name}: {due.strftime('%Y-%m-%d %H:%M UTC') if due else 'no due date'}")
    return 0


# ------------------------------------------------------------------------ integrity
def fingerprint(course: pathlib.Path) -> dict[str, tuple]:
    """Files that students' code must not change: installed bpkit and numpy, the course's
    sources and configuration, the grader, the gradebook and the hand-ins."""
    import numpy

    import bpkit

    roots = [pathlib.Path(bpkit.__file__).parent, pathlib.Path(numpy.__file__).parent, course / "source",
             course / "submitted", course / "grader"]
    files = [course / "nbgrader_config.py", course / "gradebook.db", HERE / "course_tools.py"]
    for root in roots:
        files.extend(p for p in root.rglob("*") if "__pycache__" not in p.parts)
    out = {}
    for p in files:
        try:
            st = p.stat()
        except OSError:
            continue
        if p.is_file():
            out[str(p)] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    return out


def changed(before: dict, after: dict) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


# ------------------------------------------------------------------------ autograde
def submitted_notebooks(course: pathlib.Path) -> list[tuple[str, str, pathlib.Path]]:
    names = {p.parent.name: p.name for p in sources(course)}
    out = []
    for student_dir in sorted((course / "submitted").glob("*")):
        for assignment, nbname in sorted(names.items()):
            nb = student_dir / assignment / nbname
            if nb.is_file():
                out.append((student_dir.name, assignment, nb))
    return out


def autograde(course: pathlib.Path, submissions: pathlib.Path | None, jobs: int) -> int:
    from nbgrader_plugin import grade_file, limits_of

    start = time.monotonic()
    if submissions is not None and collect(submissions, course) != 0:
        print("autograde: nothing graded: fix the SUBMISSIONS folder first", file=sys.stderr)
        return 2
    due_dates(course)
    limits = limits_of(load_config(course))
    work = submitted_notebooks(course)
    before = fingerprint(course)
    reports_dir = course / "grading_reports"
    errors = {}
    print(f"autograde: judging {len(work)} notebooks, {jobs} at a time ...", flush=True)

    def judge(item):
        student, assignment, nb = item
        source = course / "source" / assignment / nb.name
        report = reports_dir / student / assignment / (nb.stem + ".json")
        return grade_file(str(source), str(nb), str(report), limits)

    digests = {}
    with futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        todo = {pool.submit(judge, item): item for item in work}
        for done, fut in enumerate(futures.as_completed(todo), start=1):
            student, assignment, nb = todo[fut]
            try:
                fut.result()
                path = reports_dir / student / assignment / (nb.stem + ".json")
                digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except Exception as exc:  # noqa: BLE001 - one submission's problem stays its own
                errors[(student, assignment)] = f"the judge failed: {exc}"
            if done % 50 == 0 or done == len(todo):
                print(f"autograde: {done}/{len(todo)} judged ({time.monotonic() - start:.0f} s)", flush=True)
    judged = time.monotonic()
    tampered = changed(before, fingerprint(course))
    tampered += [str(p) for p, d in digests.items()
                 if not p.exists() or hashlib.sha256(p.read_bytes()).hexdigest() != d]
    if tampered:
        print("autograde: STOPPED: files changed while students' code ran; the grades are not to be "
              "trusted. Restore them and grade again in an isolated environment (README.md):", file=sys.stderr)
        for f in tampered[:30]:
            print(f"  {f}", file=sys.stderr)
        return 3
    log = course / "autograde.log"
    with open(log, "w") as fh:
        proc = nbgrader(["autograde", "*", "--force"], course, log=fh)
    text = log.read_text()
    for m in re.finditer(r"There was an error processing assignment: \S+?/submitted/([^/]+)/([^/\s]+)", text):
        errors.setdefault((m.group(1), m.group(2)), f"nbgrader failed (see {log})")
    for student, assignment, nb in work:
        graded = course / "autograded" / student / assignment / nb.name
        if not graded.exists() and (student, assignment) not in errors:
            errors[(student, assignment)] = f"no graded notebook (see {log})"
    if proc.returncode != 0 and not errors:
        errors[("(nbgrader)", "*")] = f"nbgrader autograde exited with status {proc.returncode} (see {log})"
    print(f"autograde: nbgrader recorded the scores ({time.monotonic() - judged:.0f} s; its log: {log})")
    status = summary(course, errors=errors)
    print(f"autograde: {len(work)} notebooks of {len({s for s, _, _ in work})} students in "
          f"{time.monotonic() - start:.0f} s")
    return status


# -------------------------------------------------------------------------- summary
def summary(course: pathlib.Path, errors: dict | None = None) -> int:
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.coursedir import CourseDirectory

    errors = errors or {}
    config = load_config(course)
    coursedir = CourseDirectory(config=config)
    rows, tamper_rows, late, lines = [], [], [], []
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for student, assignment, nb in submitted_notebooks(course):
            report_path = course / "grading_reports" / student / assignment / (nb.stem + ".json")
            try:
                report = json.loads(report_path.read_text())
            except (OSError, ValueError):
                errors.setdefault((student, assignment), "no grading report")
                continue
            try:
                sub = gb.find_submission(assignment, student)
            except MissingEntry:
                errors.setdefault((student, assignment), "not in the gradebook")
                continue
            task_of = {t["test"]: t for t in report.get("tasks", [])}
            failed = []
            for gid, test in report["tests"].items():
                t = task_of.get(gid, {})
                f = test["failure"]
                rows.append([student, assignment, t.get("task", ""), t.get("function", gid),
                             0.0 if f else test["points"], test["points"],
                             f["kind"] if f else "passed", f["message"] if f else ""])
                if f:
                    failed.append(f"task {t.get('task', gid)} {t.get('function', '')}: {f['kind']}"
                                  + (f" ({f['ename']})" if f["kind"] == "error" else ""))
            for finding in report["tamper"]:
                tamper_rows.append([student, assignment, finding])
            if sub.late_submission_penalty:
                late.append(f"  {student} {assignment}: {sub.total_seconds_late / 86400:.1f} days late, "
                            f"penalty {sub.late_submission_penalty:g} points")
            if failed:
                lines.append(f"  {student} {assignment} {sub.score:g}/{sub.max_score:g}: " + "; ".join(failed))
    with open(course / "grading_summary.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "assignment", "task", "function", "score", "max_score", "status", "message"])
        w.writerows(rows)
    with open(course / "tampering.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "assignment", "finding"])
        w.writerows(tamper_rows)
    print(f"\nSummary ({course / 'grading_summary.csv'})")
    print(f"Failed tasks ({len(lines)} submissions with at least one):")
    print("\n".join(lines) if lines else "  none")
    tried = sorted({(s, a) for s, a, _ in tamper_rows})
    print(f"Tampering: {len(tried)} submissions tried (their scores count only what their functions "
          f"earn; details in {course / 'tampering.csv'}):")
    for s, a in tried:
        found = [f for s2, a2, f in tamper_rows if (s2, a2) == (s, a)]
        print(f"  {s} {a}: {found[0]}" + (f" (+{len(found) - 1} more)" if len(found) > 1 else ""))
    if not tried:
        print("  none")
    print(f"Late: {len(late)} submissions")
    print("\n".join(late) if late else "  none")
    print(f"Not graded: {len(errors)} submissions")
    for (s, a), why in sorted(errors.items()):
        print(f"  {s} {a}: {why}")
    if not errors:
        print("  none")
    return 1 if errors else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("validate").add_argument("course")
    p = sub.add_parser("collect")
    p.add_argument("submissions")
    p.add_argument("course")
    sub.add_parser("due-dates").add_argument("course")
    p = sub.add_parser("autograde")
    p.add_argument("course")
    p.add_argument("submissions", nargs="?")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    sub.add_parser("summary").add_argument("course")
    args = parser.parse_args(argv)
    course = pathlib.Path(args.course).resolve()
    # nbgrader calls the alembic tool of this venv
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    # the grader of the course being graded (a copy of the course carries its own)
    sys.path.insert(0, str(course / "grader" if (course / "grader").is_dir() else HERE / "grader"))
    if args.cmd == "validate":
        return validate(course)
    if args.cmd == "collect":
        return collect(pathlib.Path(args.submissions).resolve(), course)
    if args.cmd == "due-dates":
        return due_dates(course)
    if args.cmd == "autograde":
        subs = pathlib.Path(args.submissions).resolve() if args.submissions else None
        return autograde(course, subs, args.jobs)
    return summary(course)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
