"""nbgrader plug-ins of the course (nbgrader_config.py installs them).

``RepairMetadata``  (sanitizing step of ``nbgrader autograde``, before ``OverwriteCells``)
    Puts back the grader metadata of every cell from the instructor's notebook and strips
    grader metadata the assignment does not have, so that a submission with changed
    metadata is graded like any other instead of crashing nbgrader.
``SecureExecute``   (replaces nbgrader's ``Execute``)
    Grades the notebook with the judge (judge.py): the instructor's test cells run in a
    clean process against the student's functions, which run in another, limited process.
    It writes the test cells' outputs, from which nbgrader's ``SaveAutoGrades`` takes the
    scores as usual (an error output: no points), and a report per notebook in
    ``grading_reports/<student>/<assignment>/<notebook>.json`` (failures, tampering).
    ``course_tools.py autograde`` runs the judges in parallel before nbgrader; a report
    whose job is unchanged is reused.
``LatePolicy``      (the late-submission plug-in of ``AssignLatePenalties``)
    A fraction of the notebook's score per started day late, and the due dates.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict, Float, Integer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from job import build_job, meta  # noqa: E402

NB_KEYS = ("grade", "solution", "locked", "points", "task", "schema_version")


def _paths(pp, resources):
    info = resources["nbgrader"]
    coursedir = CourseDirectory(config=pp.config)
    student, assignment, notebook = info["student"], info["assignment"], info["notebook"]
    source = os.path.join(coursedir.format_path(coursedir.source_directory, ".", assignment), notebook + ".ipynb")
    submitted = os.path.join(coursedir.format_path(coursedir.submitted_directory, student, assignment),
                             notebook + ".ipynb")
    report = os.path.join(coursedir.root, "grading_reports", student, assignment, notebook + ".json")
    return source, submitted, report


def limits_of(config) -> dict:
    return SecureExecute(config=config).limits()


def run_judge(job: dict) -> dict:
    limits = job.get("limits") or {}
    cells = len(job["tests"]) + len(job["student"])
    # a judge that outlives every limit it enforces has a bug: give up on this notebook
    budget = 3 * limits.get("startup", 120) + 3 * (cells + 2) * limits.get("timeout", 30)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "judge.py")], input=json.dumps(job),
                          capture_output=True, text=True, timeout=budget)
    if proc.returncode != 0:
        raise RuntimeError(f"the judge failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


def grade_file(source_path: str, submitted_path: str, report_path: str, limits: dict, reuse: bool = True) -> dict:
    """Judge one submitted notebook (or reuse its report if the job is unchanged); save the report."""
    with open(source_path) as fh:
        source = json.load(fh)
    try:
        with open(submitted_path) as fh:
            submitted = json.load(fh)
    except (OSError, ValueError) as exc:
        submitted = {"cells": []}
        unreadable = f"the notebook cannot be read: {exc}"
    else:
        unreadable = None
    job = build_job(source, submitted, limits)
    if unreadable:
        job["findings"] = []  # nothing to compare: the hand-in is not a notebook
    if reuse and os.path.exists(report_path):
        try:
            with open(report_path) as fh:
                report = json.load(fh)
            if report.get("key") == job["key"]:
                return report
        except (OSError, ValueError):
            pass
    report = run_judge(job)
    report["tasks"] = job["tasks"]
    if unreadable:
        report["notes"].insert(0, unreadable)
    os.makedirs(os.path.dirname(report_path), exist_ok=True)
    tmp = report_path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(report, fh)
    os.replace(tmp, report_path)
    return report


class RepairMetadata(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        source_path, _, _ = _paths(self, resources)
        with open(source_path) as fh:
            source = json.load(fh)
        known = {meta(c)["grade_id"]: meta(c) for c in source["cells"] if meta(c).get("grade_id")}
        for cell in nb.cells:
            m = cell.metadata.get("nbgrader")
            if m is None:
                continue
            gid = m.get("grade_id") if isinstance(m, dict) else None
            if gid not in known:
                del cell.metadata["nbgrader"]
                continue
            for key in NB_KEYS:
                if key in known[gid]:
                    m[key] = known[gid][key]
                else:
                    m.pop(key, None)
        return nb, resources


class SecureExecute(NbGraderPreprocessor):
    timeout = Float(30.0, help="Seconds a test cell (or a cell of the student's code) may run.").tag(config=True)
    memory_mb = Integer(2048, help="Address-space limit of the process running a student's code.").tag(config=True)
    output_chars = Integer(10_000, help="Characters of output kept per cell; the rest is cut.").tag(config=True)
    startup = Float(120.0, help="Seconds to start the student's process (imports).").tag(config=True)

    def limits(self) -> dict:
        return {"timeout": self.timeout, "memory_mb": self.memory_mb, "output_chars": self.output_chars,
                "startup": self.startup}

    def preprocess(self, nb, resources):
        source_path, submitted_path, report_path = _paths(self, resources)
        report = grade_file(source_path, submitted_path, report_path, self.limits())
        with open(submitted_path) as fh:
            try:
                raw_ids = {meta(c).get("grade_id") for c in json.load(fh).get("cells", []) if isinstance(c, dict)}
            except (ValueError, AttributeError):
                raw_ids = set()
        index = -1
        for cell in nb.cells:
            m = cell.metadata.get("nbgrader", {})
            gid = m.get("grade_id")
            inserted = m.get("grade") and gid not in raw_ids  # put back by OverwriteCells
            if not inserted:
                index += 1
            if cell.cell_type != "code":
                continue
            if m.get("grade") and gid in report["tests"]:
                outputs = report["tests"][gid]["outputs"]
            else:
                outputs = report["student_cells"].get(str(index), [])
            cell.outputs = [nbformat.from_dict(o) for o in outputs]
            cell.execution_count = None
        return nb, resources


class LatePolicy(LateSubmissionPlugin):
    """Late work: ``fraction_per_day`` of the notebook's score per started day after the due
    date, at most ``max_fraction``.  ``due_dates`` maps each assignment to its due date
    (e.g. ``"2027-02-01 17:00:00 UTC"``); ``course_tools.py`` writes them into the gradebook."""

    due_dates = Dict({}, help="assignment -> due date (UTC unless the string says otherwise)").tag(config=True)
    fraction_per_day = Float(0.1, help="Fraction of the score taken per started day late").tag(config=True)
    max_fraction = Float(1.0, help="The most that is taken").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        if total_seconds_late <= 0 or not score:
            return None
        days = math.ceil(total_seconds_late / 86400)
        fraction = min(self.max_fraction, self.fraction_per_day * days)
        self.log.warning("%s: %d started day(s) late, penalty %.0f%% of %s", student_id, days,
                         100 * fraction, score)
        return round(score * fraction, 6)
