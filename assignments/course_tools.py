"""Two chores around nbgrader that the Makefile runs (with the grading venv's Python).

``python course_tools.py validate COURSE``
    Run ``nbgrader validate`` on every instructor notebook ``COURSE/source/*/*.ipynb`` and
    exit with status 1 unless every one of them passes all its tests (``nbgrader validate``
    itself exits with 0 either way).

``python course_tools.py collect SUBMISSIONS COURSE``
    Copy hand-ins into nbgrader's layout ``COURSE/submitted/<student>/<assignment>/``.
    SUBMISSIONS holds one folder per student, named by the student id, with the notebooks
    that student handed in, under the names of the release::

        SUBMISSIONS/alice/ps1_static_backprop.ipynb
        SUBMISSIONS/alice/ps2_bptt.ipynb
        SUBMISSIONS/bob/ps1_static_backprop.ipynb

    nbgrader's own layout, ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``, is
    accepted too.  An earlier hand-in of the same student and assignment is replaced.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

SUCCESS = "Success! Your notebook passes all the tests."
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


def nbgrader(args: list[str], course: pathlib.Path) -> subprocess.CompletedProcess:
    """Run this venv's nbgrader in the course folder (where nbgrader_config.py is)."""
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([os.path.join(bindir, "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True)


def validate(course: pathlib.Path) -> int:
    notebooks = sorted(p.relative_to(course).as_posix() for p in course.glob("source/*/*.ipynb"))
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
    print(f"validate: all {len(notebooks)} instructor notebooks pass all their tests")
    return 0


def collect(submissions: pathlib.Path, course: pathlib.Path) -> int:
    # notebook file name -> assignment id, from the instructor versions
    owner = {nb.name: nb.parent.name for nb in course.glob("source/*/*.ipynb")}
    assignments = set(owner.values())
    if not submissions.is_dir():
        print(f"collect: {submissions} is not a folder", file=sys.stderr)
        return 1
    copied, problems = [], []
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
            dest = course / "submitted" / student / assignment / nb.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(nb, dest)
            copied.append((student, assignment))
    for p in problems:
        print(f"collect: {p}", file=sys.stderr)
    students = {s for s, _ in copied}
    print(f"collect: {len(copied)} notebooks of {len(students)} students -> {course / 'submitted'}")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "validate":
        return validate(pathlib.Path(argv[1]).resolve())
    if len(argv) == 3 and argv[0] == "collect":
        return collect(pathlib.Path(argv[1]).resolve(), pathlib.Path(argv[2]).resolve())
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
