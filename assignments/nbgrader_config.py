"""nbgrader configuration of the bpkit course.

nbgrader reads this file from the directory it is run in: run the nbgrader commands from
this folder (``cd assignments``), or use the ``make release / autograde / grades /
feedback`` targets of the repository, which do.  The course root is this folder, wherever
the repository was cloned:

    source/<assignment>/<assignment>.ipynb       instructor versions (solutions, hidden tests)
    release/<assignment>/<assignment>.ipynb      student versions   (nbgrader generate_assignment)
    submitted/<student>/<assignment>/...ipynb    hand-ins           (make autograde copies them here)
    autograded/<student>/<assignment>/...ipynb   graded copies      (nbgrader autograde)
    feedback/<student>/<assignment>/...html      feedback           (nbgrader generate_feedback)
    gradebook.db                                 the scores (SQLite)
    grades.csv, grades_tasks.csv                 exported scores (nbgrader export --to grades.csv)
    grading_reports/<student>/<assignment>/...   what the judge found (failures, tampering)
    grading_summary.csv, tampering.csv           the end-of-run summary (course_tools.py summary)

Grading runs the instructor's tests in a clean process against the student's functions,
which run in another process with limits (grader/judge.py; README.md, "How the grading
works").  The settings an instructor changes are at the top.
"""

import csv
import os
import re
import sys

from nbgrader.api import MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.plugins import CsvExportPlugin
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, Execute, OverwriteCells

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "grader"))
from nbgrader_plugin import LatePolicy, RepairMetadata, SecureExecute  # noqa: E402

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "bpkit"

# ----------------------------------------------------------- settings of the course
# Due date of every assignment (UTC).  A hand-in after it loses `fraction_per_day` of its
# score per started day late, at most `max_fraction` (0.1 and 1.0: 10 % a day, nothing
# after ten days).  Set your own dates; `make release` and `make autograde` write them into
# the gradebook.  The hand-in time is the submission's timestamp.txt (README.md, step 3).
c.LatePolicy.due_dates = {
    "ps1_static_backprop": "2027-02-05 17:00:00 UTC",
    "ps2_bptt": "2027-02-19 17:00:00 UTC",
    "ps3_autodiff": "2027-03-05 17:00:00 UTC",
}
c.LatePolicy.fraction_per_day = 0.1
c.LatePolicy.max_fraction = 1.0

# Limits while grading a student's code: seconds per test cell (and per cell of the
# student's own code), memory of the process that runs it, characters of output kept per
# cell.  A correct solution needs a few seconds for the slowest test cell.
c.SecureExecute.timeout = 30
c.SecureExecute.memory_mb = 2048
c.SecureExecute.output_chars = 10_000

# Seconds per cell when nbgrader runs a notebook in a kernel (`make validate` only: grading
# does not use a kernel).
c.Execute.timeout = 60

# Stub for a solution region that does not name its task.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("replace this line with your code")'
}


class ClearSolutionsNamingTasks(ClearSolutions):
    """nbgrader's ClearSolutions, with a stub that names the task.

    A solution region opened as ``### BEGIN SOLUTION (Task 1: implement dense_backward)``
    becomes, in the student version::

        # YOUR CODE HERE
        raise NotImplementedError("Task 1: implement dense_backward")

    (indented like the marker).  Stock nbgrader reads such a marker as a plain
    ``### BEGIN SOLUTION``: the text after it is only used here.  Regions without a label
    get ``ClearSolutions.code_stub``.
    """

    _label = re.compile(r"BEGIN SOLUTION\s*\((?P<task>[^()\"\\]+)\)\s*$")

    def _replace_solution_region(self, cell, language):
        lines = cell.source.split("\n")
        new_lines = []
        in_solution = replaced = False
        for line in lines:
            if self.begin_solution_delimeter in line:
                if in_solution:
                    raise RuntimeError("encountered nested begin solution statements:\n" + cell.source)
                in_solution = replaced = True
                indent = re.match(r"\s*", line).group(0)
                label = self._label.search(line) if cell.cell_type == "code" else None
                if label:
                    stub = ('# YOUR CODE HERE\nraise NotImplementedError("{}")'
                            .format(label.group("task").strip()))
                elif cell.cell_type == "code":
                    stub = self.code_stub[language]
                else:
                    stub = self.text_stub
                new_lines.extend(indent + s for s in stub.split("\n"))
            elif self.end_solution_delimeter in line:
                in_solution = False
            elif not in_solution:
                new_lines.append(line)
        if in_solution:
            raise RuntimeError("no end solution statement found:\n" + cell.source)
        cell.source = "\n".join(new_lines)
        return replaced


c.GenerateAssignment.preprocessors = [
    ClearSolutionsNamingTasks if p is ClearSolutions else p
    for p in GenerateAssignment.class_traits()["preprocessors"].default()
]

# The feedback pages show every test cell's score, output and error message, but not the
# hidden tests themselves (nbgrader's default would show them).
c.GenerateFeedback.preprocessors = [
    ClearHiddenTests, *GenerateFeedback.class_traits()["preprocessors"].default()
]


class CsvExportWithTasks(CsvExportPlugin):
    """nbgrader's CSV export (one row per student and assignment), plus the score of every
    graded task in ``<name>_tasks.csv`` beside it (``grades.csv`` -> ``grades_tasks.csv``)."""

    def export(self, gradebook):
        super().export(gradebook)
        stem, ext = os.path.splitext(self.to or "grades.csv")
        dest = stem + "_tasks" + (ext or ".csv")
        self.log.info("Exporting the scores of every task to %s", dest)
        with open(dest, "w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["assignment", "student_id", "notebook", "task", "score", "max_score"])
            for assignment in gradebook.assignments:
                if self.assignment and assignment.name not in self.assignment:
                    continue
                for student in gradebook.students:
                    if self.student and student.id not in self.student:
                        continue
                    try:
                        submission = gradebook.find_submission(assignment.name, student.id)
                    except MissingEntry:
                        continue
                    for notebook in sorted(submission.notebooks, key=lambda n: n.name):
                        for grade in sorted(notebook.grades, key=lambda g: g.name):
                            out.writerow([assignment.name, student.id, notebook.name, grade.name,
                                          grade.score, grade.max_score])


c.ExportApp.plugin_class = CsvExportWithTasks

# Grading: put back the grader metadata before nbgrader checks the cells, and grade with the
# judge instead of running the notebook in a kernel (grader/nbgrader_plugin.py).  A test cell
# that a submission deleted is put back, so it is graded like the others.
c.Autograde.sanitize_preprocessors = [
    p for q in Autograde.class_traits()["sanitize_preprocessors"].default()
    for p in ((RepairMetadata, q) if q is OverwriteCells else (q,))
]
c.Autograde.autograde_preprocessors = [
    SecureExecute if p is Execute else p for p in Autograde.class_traits()["autograde_preprocessors"].default()
]
c.OverwriteCells.add_missing_cells = True
c.AssignLatePenalties.plugin_class = LatePolicy
