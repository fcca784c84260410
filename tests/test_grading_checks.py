"""Partial credit through the whole grading pipeline, for a test cell written with tinytorch.checks.

A tiny course (one exercise, one test cell of three checks, one hidden) is recorded with
tools/record_checks.py, then three learners are graded by `grade` (sandboxed kernels): right,
wrong only on the hidden case, untouched. The cell's score is the sum of the checks that passed
(in the gradebook and the CSV), every check's verdict is in the learner's JSON, and the feedback
names each failed check without the hidden expected value. A cell without check reports next to
it keeps nbgrader's pass/fail.
"""
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tinytorch.course.grading.grade import GradeOptions, grade
from tinytorch.course.grading.report import write_csv
from tinytorch.course.layout import find_module
from tinytorch.course.release import release

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

SOLUTION = '''\
def double(x):
    "Twice x."
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
'''
TEST = '''\
from tinytorch.checks import Checks, use_notebook
use_notebook("demo")
check = Checks("test_double", "Exercise 1: double")
check.close("double(1.5)", lambda: double(1.5), expected=3.0)
check.close("double(0.25)", lambda: double(0.25), expected=0.5)
### BEGIN HIDDEN TESTS
check.close("double(-4)", lambda: double(-4.0), hidden=True)
### END HIDDEN TESTS
check.done()
'''
PLAIN_TEST = '''\
assert double(2) == 4
### BEGIN HIDDEN TESTS
assert double(-1) == -2
### END HIDDEN TESTS
'''


def _meta(grade_id, solution=False, points=0):
    meta = {"grade_id": grade_id, "solution": solution, "grade": not solution, "locked": not solution,
            "schema_version": 3, "task": False}
    if not solution:
        meta["points"] = points
    return {"nbgrader": meta}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-course")
    (root / "settings.ini").write_text("[DEFAULT]\n")
    module = root / "modules" / "01_demo"
    module.mkdir(parents=True)
    cells = [new_code_cell(SOLUTION, metadata=_meta("double", solution=True)),
             new_code_cell(TEST, metadata=_meta("test_double", points=3)),
             new_code_cell(PLAIN_TEST, metadata=_meta("test_plain", points=2))]
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": kernelspec}), module / "demo.ipynb")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TINYTORCH_CHECKS_DATA": str(root / "data")}
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "record_checks.py"), str(module / "demo.ipynb")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    course = root / "grading"
    released = nbformat.read(release(root, "01", course)[0] / "demo.ipynb", as_version=4)
    bodies = {"right": "return 2 * x", "positive_only": "return 2 * abs(x)", "untouched": None}
    for student, body in bodies.items():
        nb = nbformat.from_dict(released)
        if body:
            nb.cells[0].source = f'def double(x):\n    "Twice x."\n    {body}\n'
        folder = course / "submitted" / student / "01_demo"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "demo.ipynb")
    run = grade(root, find_module(root, "01"), course, GradeOptions(workers=2, cell_timeout=20, progress=False),
                out=lambda *a: None)
    with open(write_csv(run.assignment)) as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return run, rows, course


def test_cell_score_is_the_sum_of_passed_checks(graded):
    run, rows, _ = graded
    assert {s: r.cells["demo"] for s, r in run.results.items()} == {
        "right": {"test_double": 3.0, "test_plain": 2.0},
        "positive_only": {"test_double": 2.0, "test_plain": 0.0},  # a check-less cell keeps pass/fail
        "untouched": {"test_double": 0.0, "test_plain": 0.0}}
    assert (rows["positive_only"]["test_double"], rows["positive_only"]["total"]) == ("2", "2")
    assert rows["right"]["total"] == "5"


def test_each_check_is_in_the_learners_json(graded):
    run, _, _ = graded
    checks = {c["check"]: c for c in run.results["positive_only"].checks["demo"]}
    assert set(checks) == {"double(1.5)", "double(0.25)", "double(-4)"}
    assert checks["double(1.5)"]["passed"] and not checks["double(-4)"]["passed"]
    assert checks["double(-4)"]["message"] and "-8" not in checks["double(-4)"]["message"]


def test_feedback_lists_failed_checks_without_hidden_values(graded):
    _, _, course = graded
    page = (course / "feedback" / "positive_only" / "01_demo" / "demo.html").read_text()
    assert "double(-4)" in page and "2 of 3 points" in page
    text = re.sub(r"<style.*?</style>|<script.*?</script>", "", page, flags=re.S).replace("utf-8", "")
    assert "-8" not in text  # the hidden check's expected value, double(-4) = -8
