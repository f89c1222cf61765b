"""Grade a synthetic class, end to end, and time it: ``make grade-class-demo``.

Builds a throw-away course in ``assignments/class_demo/`` (a copy of ``source/``, the grader
and ``nbgrader_config.py``), releases it, writes one hand-in per student and problem set
(made by ``grader/synthetic.py``: right, wrong, empty, hanging, crashing, out of memory,
flooding, tampering, late), runs ``course_tools.py autograde`` on it once and writes what it
measured to ``class_demo/timing.json``.  Not part of ``make test``.

    python class_demo.py [--students 200] [--jobs 2] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import random
import re
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "grader"))
import synthetic  # noqa: E402

#: (kind, share of the class); the rest hand in the solution
MIX = [("untouched", 0.06), ("zeros", 0.05), ("sneaky", 0.03), ("hang", 0.03), ("memory", 0.02),
       ("crash", 0.02), ("segfault", 0.01), ("flood", 0.02), ("tamper_helpers", 0.02),
       ("tamper_numpy", 0.02), ("tamper_bpkit", 0.01), ("tamper_edit", 0.02), ("tamper_delete", 0.01),
       ("tamper_metadata", 0.01), ("late", 0.05)]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--course", default=str(HERE / "class_demo"))
    args = parser.parse_args(argv)
    course = pathlib.Path(args.course).resolve()
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copytree(HERE / "source", course / "source")
    shutil.copytree(HERE / "grader", course / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(HERE / "nbgrader_config.py", course)
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([os.path.join(bindir, "nbgrader"), "generate_assignment", "*", "--force"], cwd=course,
                   env=env, check=True, capture_output=True)

    rng = random.Random(12)
    kinds = []
    for kind, share in MIX:
        kinds += [kind] * round(share * args.students)
    kinds += ["solution"] * (args.students - len(kinds))
    rng.shuffle(kinds)
    inbox = course / "inbox"
    made = {}
    for path in sorted((course / "source").glob("*/*.ipynb")):
        release = json.loads((course / "release" / path.parent.name / path.name).read_text())
        made[path.name] = synthetic.variants(json.loads(path.read_text()), release)
    for number, kind in enumerate(kinds, start=1):
        student = f"s{number:03d}_{kind}"
        (inbox / student).mkdir(parents=True)
        for name, variants in made.items():
            nb = variants["solution" if kind == "late" else kind]
            (inbox / student / name).write_text(json.dumps(nb))
        if kind == "late":
            (inbox / student / "timestamp.txt").write_text("2027-02-25 12:00:00 UTC\n")
    notebooks = len(kinds) * len(made)
    print(f"class-demo: {len(kinds)} students, {notebooks} notebooks, {args.jobs} judges at a time, "
          f"in {course}", flush=True)

    load_before = [round(x, 2) for x in os.getloadavg()]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / "course_tools.py"), "autograde", str(course), str(inbox),
                           "--jobs", str(args.jobs)], env=env, text=True, capture_output=True)
    wall = time.perf_counter() - start
    (course / "autograde_output.txt").write_text(proc.stdout + proc.stderr)
    reports = list((course / "grading_reports").rglob("*.json"))
    judged = sum(json.loads(p.read_text())["seconds"] for p in reports)
    timing = {
        "students": len(kinds), "notebooks": notebooks, "jobs": args.jobs, "exit_status": proc.returncode,
        "wall_seconds": round(wall, 1), "seconds_per_notebook": round(wall / notebooks, 3),
        "judge_seconds_total": round(judged, 1), "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": platform.platform(), "python": platform.python_version(),
        "mix": {k: kinds.count(k) for k in sorted(set(kinds))},
    }
    out = proc.stdout + proc.stderr
    phases = re.search(r"(\d+)/\1 judged \((\d+) s\)", out), re.search(r"recorded the scores \((\d+) s", out)
    timing["judging_seconds"] = int(phases[0].group(2)) if phases[0] else None
    timing["nbgrader_seconds"] = int(phases[1].group(1)) if phases[1] else None
    for line in out.splitlines():
        if line.startswith(("autograde:", "Not graded", "Tampering", "Late", "Failed")):
            print(line)
    (course / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    print(f"class-demo: {notebooks} notebooks of {len(kinds)} students in {wall:.0f} s "
          f"({wall / notebooks:.2f} s per notebook, {args.jobs} at a time); exit status {proc.returncode}; "
          f"details: {course / 'timing.json'}, {course / 'autograde_output.txt'}")
    return 0 if proc.returncode in (0,) else proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
