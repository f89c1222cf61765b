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
"""

import csv
import os
import re

from nbgrader.api import MissingEntry
from nbgrader.converters import GenerateAssignment, GenerateFeedback
from nbgrader.plugins import CsvExportPlugin
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "bpkit"

# Seconds per cell when nbgrader runs a notebook (validate, autograde); the assignments'
# training cells take well under a second with a correct solution.
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
