"""The checking library (tinytorch/checks): plain values, the judge, quizzes, the three modes.

A tiny course (one exercise, one test cell, a quiz, a mistake catalogue, slips) is recorded with
tools/record_checks.py, then run as a learner would (learn mode: the mistake is named), and judged
as the grader does (JudgeChecks: partial credit from reports, nothing trusted but the values).
"""
import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from helpers import ROOT
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tinytorch.checks import CheckFailed, Checks, judge
from tinytorch.checks import quiz as quizzes
from tinytorch.checks.grading import JudgeChecks, judge_cell
from tinytorch.checks.plain import NotPlain, dumps, loads, to_plain
from tinytorch.checks.protocol import REPORT_MIME, Report
from tinytorch.checks.stores import RecordedCheck, Store, read_store
from tinytorch.core.tensor import Tensor


# ------------------------------------------------------------------ plain values
def test_plain_values():
    assert to_plain(Tensor(np.array([[1.0, 2.0]]))) == [[1.0, 2.0]]
    assert to_plain((np.float32(1.5), np.int64(2), np.bool_(True), None, "x")) == [1.5, 2, True, None, "x"]
    assert to_plain(np.dtype("float32")) == "float32"
    with pytest.raises(NotPlain, match="dtype object"):
        to_plain(np.array([object()]))
    with pytest.raises(NotPlain, match="type Weird"):
        to_plain(type("Weird", (), {})())
    deep = []
    for _ in range(50):
        deep = [deep]
    with pytest.raises(NotPlain, match="nested"):
        to_plain(deep)


def test_reports_refuse_deep_or_huge_json():
    assert loads(dumps([1.0, float("nan")]))[0] == 1.0
    with pytest.raises(NotPlain):
        loads("[" * 100_000 + "]" * 100_000)   # json.loads would hit RecursionError
    with pytest.raises(NotPlain):
        loads("1" * 5_000_000)


# ------------------------------------------------------------------ the judge
def test_close_names_the_first_difference():
    v = judge("close", [[1.0, 2.0], [3.0, 4.5]], [[1.0, 2.0], [3.0, 4.0]], {"rtol": 1e-9})
    assert not v.passed and "at [1, 1]" in v.message and "expected 4.0, got 4.5" in v.message
    assert judge("close", [1.0, 2.0 + 1e-12], [1.0, 2.0], {"rtol": 1e-9}).passed
    assert "shape (3,), expected (2,)" in judge("close", [1, 2, 3], [1, 2], {}).message
    assert not judge("close", [float("nan")], [1.0], {}).passed
    assert judge("close", [float("inf")], [float("inf")], {}).passed
    hidden = judge("close", 4.5, 4.0, {"rtol": 1e-9}, reveal=False)
    assert not hidden.passed and "4.0" not in hidden.message and "4.5" in hidden.message


def test_trajectory_reports_step_and_element():
    want = np.arange(12.0).reshape(4, 3)
    got = want.copy()
    got[2, 1] += 0.5
    v = judge("trajectory", got.tolist(), want.tolist(), {"rtol": 1e-9, "columns": ["w[0]", "w[1]", "b"]})
    assert not v.passed and "after step 3, w[1]" in v.message and "earlier steps agree" in v.message
    assert judge("trajectory", want.tolist(), want.tolist(), {}).passed


def test_raises_true_equal():
    ok = {"raised": True, "matches": True, "type": "ValueError", "message": "lr=-0.1 is negative"}
    assert judge("raises", ok, None, {"exception": "ValueError", "mentions": ["-0.1"]}).passed
    v = judge("raises", ok | {"message": "bad lr"}, None, {"exception": "ValueError", "mentions": ["-0.1"]})
    assert not v.passed and "'-0.1'" in v.message
    assert "nothing was raised" in judge("raises", {"raised": False}, None, {"exception": "ValueError"}).message
    assert judge("true", False, True, {"hint": "skip p.grad None"}).message == "skip p.grad None"
    assert judge("equal", [2, 3], [2, 3], {}).passed and not judge("equal", [3, 2], [2, 3], {}).passed
    assert not judge("equal", True, 1, {}).passed
    assert "your code raised NotImplementedError" in judge("close", None, 1.0, {}, error="NotImplementedError").message


# ------------------------------------------------------------------ quizzes
def test_quiz_hash_accepts_within_tolerance_and_names_slips():
    slips = [quizzes.Slip(74.5, "that is GiB; the question asks for GB (10^9 bytes)")]
    entry = quizzes.answer_entry("adam_gb", 80.0, slips, rtol=1e-3, atol=0.0, salt="00ff")
    assert "80" not in json.dumps(entry)
    assert quizzes.verdict("adam_gb", 80.0, entry)[0]
    assert quizzes.verdict("adam_gb", 80.0 * (1 + 5e-4), entry)[0]
    assert not quizzes.verdict("adam_gb", 80.0 * (1 + 1.2e-3), entry)[0]     # never looser than the hidden check
    assert not quizzes.verdict("adam_gb", -80.0, entry)[0]
    right, message = quizzes.verdict("adam_gb", 74.506, entry)
    assert not right and "GiB" in message
    assert "a number" in quizzes.verdict("adam_gb", "80", entry)[1]
    slips = [quizzes.Slip("adam", "count the bytes each reads")]
    choice = quizzes.answer_entry("faster", "sgd", slips, 0, 0, salt="01")
    assert quizzes.verdict("faster", " SGD ", choice)[0] and "bytes" in quizzes.verdict("faster", "adam", choice)[1]


# ------------------------------------------------------------------ learn mode
def test_learn_mode_messages(monkeypatch):
    monkeypatch.setenv("TINYTORCH_CHECKS", "learn")
    check = Checks("test_demo", "Demo: doubling")
    check.close("double([1, 2])", lambda: np.array([2.0, 4.0]), expected=[2.0, 4.0])
    with pytest.raises(CheckFailed) as failed:
        check.close("double([1, 3])", lambda: np.array([2.0, 5.0]), expected=[2.0, 6.0])
    text = str(failed.value)
    assert "Demo: doubling · double([1, 3])" in text and "expected 6.0, got 5.0 at [1]" in text
    assert "1 earlier check" in text

    def stub():
        raise NotImplementedError("Exercise 1.1: write double(x), returning 2 * x")
    with pytest.raises(CheckFailed, match="Exercise 1.1: write double"):
        Checks("test_demo").close("double", stub, expected=1.0)
    with pytest.raises(CheckFailed, match="must name the bad value"):
        Checks("test_demo").raises("refuses -1", lambda: (_ for _ in ()).throw(ValueError("bad")), mentions=["-1"])
    with pytest.raises(ValueError, match="named"):
        c = Checks("test_demo")
        c.equal("x", 1, 1)
        c.equal("x", 1, 1)


def test_grade_mode_reports_and_never_raises(monkeypatch, capsys):
    monkeypatch.setenv("TINYTORCH_CHECKS", "grade")
    check = Checks("test_demo")
    check.close("wrong", lambda: 5.0, expected=6.0)
    check.close("stub", lambda: (_ for _ in ()).throw(NotImplementedError("write it")), hidden=True)
    check.done()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["check"] for r in lines] == ["wrong", "stub", ""] and lines[2]["done"]
    assert lines[0]["value"] == 5.0 and "expected" not in lines[0]
    assert lines[1]["error"] == "NotImplementedError: write it"


# ------------------------------------------------------------------ judging reports (the worker side)
def _output(report: Report):
    return new_output("display_data", data=report.to_output_data())


def test_judge_cell_trusts_only_values():
    recorded = {"a": RecordedCheck("close", 1, False, {"rtol": 1e-9}, 2.0),
                "b": RecordedCheck("close", 2, True, {"rtol": 1e-9}, [1.0, 2.0]),
                "c": RecordedCheck("true", 1, True, {"hint": "h"}, True)}
    outputs = [_output(Report("test_x", "a", "close", 1, False, 2.0, options={"rtol": 1e9})),
               _output(Report("test_x", "b", "close", 99, True, [1.0, 3.0], options={"rtol": 1e9})),
               _output(Report("test_x", "b", "close", 2, True, [1.0, 2.0])),      # a second report: ignored
               _output(Report("test_y", "c", "true", 1, True, True)),             # another cell's name: ignored
               new_output("display_data", data={REPORT_MIME: "[[[[not a report"})]
    results = {r.check: r for r in judge_cell("test_x", outputs, recorded)}
    assert results["a"].earned == 1
    assert results["b"].earned == 0 and results["b"].points == 2 and "2.0" not in results["b"].message
    assert results["c"].earned == 0 and "did not run" in results["c"].message


def test_judge_checks_preprocessor_gives_partial_credit(tmp_path):
    from nbgrader.utils import determine_grade
    store = Store("demo", cells={"test_x": {"a": RecordedCheck("close", 1, False, {}, 1.0),
                                            "b": RecordedCheck("close", 2, True, {}, 2.0)}}, points={"test_x": 3})
    (tmp_path / "demo.checks.json").write_text(json.dumps(store.to_json()))
    cell = new_code_cell("...", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "test_x",
                                                       "points": 3, "locked": True, "schema_version": 3}})
    cell.outputs = [_output(Report("test_x", "a", "close", 1, False, 1.0)),
                    _output(Report("test_x", "b", "close", 2, True, 2.5)),
                    new_output("error", ename="AssertionError", evalue="forged", traceback=[])]
    nb = new_notebook(cells=[cell])
    pre = JudgeChecks(store_dir=str(tmp_path), results_path=str(tmp_path / "results.json"))
    nb, _ = pre.preprocess(nb, {"nbgrader": {"notebook": "demo"}})
    assert determine_grade(nb.cells[0]) == (1.0, 3.0)
    text = nb.cells[0].outputs[0]["text"]
    assert "✓ check: a" in text and "✗ hidden check: b" in text and "2.0" not in text.split("points")[0].split("b\n")[1]
    saved = json.loads((tmp_path / "results.json").read_text())["demo"]
    assert [(r["check"], r["earned"]) for r in saved] == [("a", 1.0), ("b", 0.0)]


# ------------------------------------------------------------------ a tiny course, recorded then used
DEMO_SOLUTION = '''\
#| export
def double(x):
    "Twice x, elementwise."
    # EXERCISE: return 2 * x
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
'''
DEMO_TEST = '''\
import numpy as np
from tinytorch.checks import Checks, use_notebook
use_notebook("demo")
check = Checks("test_double", "Exercise 1: double")
check.close("double(1.5)", lambda: double(1.5), expected=3.0)
check.trajectory("double over 3 steps", lambda: np.array([[double(float(t)), t] for t in range(3)]))
### BEGIN HIDDEN TESTS
check.close("double(-4)", lambda: double(-4.0), hidden=True)
### END HIDDEN TESTS
check.done()
'''
DEMO_QUIZ = '''\
from tinytorch.checks import Checks
Checks("test_quiz").quiz("bytes_per_float32", bytes_per_float32, points=1)
'''
DEMO_MISTAKES = '''\
from tinytorch.course.mistakes import Mistake
EDIT = ("double", "return 2 * x\\n    ### END", "return x + 2\\n    ### END")
MISTAKES = {"adds_instead": Mistake("adding 2 instead of doubling", (EDIT,), ("test_double",), section="1")}
'''
DEMO_SLIPS = '''\
from tinytorch.checks import Slip
SLIPS = {"bytes_per_float32": [Slip(32, "that is bits; a byte is 8 bits")]}
'''


def _meta(grade_id, solution=False, grade=False, points=0):
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": not solution, "schema_version": 3,
            "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


@pytest.fixture
def demo_course(tmp_path, monkeypatch):
    (tmp_path / "settings.ini").write_text("[DEFAULT]\n")
    module = tmp_path / "modules" / "01_demo"
    module.mkdir(parents=True)
    cells = [new_code_cell(DEMO_SOLUTION, metadata=_meta("double", solution=True)),
             new_code_cell(DEMO_TEST, metadata=_meta("test_double", grade=True, points=3)),
             new_code_cell("bytes_per_float32 = None\n### BEGIN SOLUTION\nbytes_per_float32 = 4\n### END SOLUTION",
                           metadata=_meta("quiz", solution=True)),
             new_code_cell(DEMO_QUIZ, metadata=_meta("test_quiz", grade=True, points=1))]
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                      "language": "python"}}), module / "demo.ipynb")
    (module / "mistakes.py").write_text(DEMO_MISTAKES)
    (module / "slips.py").write_text(DEMO_SLIPS)
    monkeypatch.setenv("TINYTORCH_CHECKS_DATA", str(tmp_path / "data"))
    return module


@pytest.mark.slow
def test_record_then_learn_then_grade(demo_course, tmp_path, monkeypatch):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "record_checks.py"), str(demo_course / "demo.ipynb")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "adds_instead: changes ['test_double']" in proc.stdout
    instructor = read_store(demo_course / "demo.checks.json", "demo")
    learner = read_store(tmp_path / "data" / "demo.json", "demo")
    assert instructor.check("test_double", "double(-4)").expected == -8.0
    assert learner.check("test_double", "double(-4)") is None          # hidden: not in the learner's store
    assert set(learner.quizzes["bytes_per_float32"]) == {"salt", "rtol", "atol", "kind", "answer", "slips"}
    assert learner.check("test_double", "double over 3 steps").fingerprints[0].mistake == "adds_instead"

    # learn mode: the learner's wrong code is diagnosed with the mistake's description and section
    monkeypatch.chdir(demo_course)
    monkeypatch.setenv("TINYTORCH_CHECKS", "learn")
    from tinytorch.checks import stores
    stores._learner_store.cache_clear()

    def double(x):
        return x + 2
    check = Checks("test_double", "Exercise 1: double", notebook="demo")
    with pytest.raises(CheckFailed) as failed:
        check.trajectory("double over 3 steps", lambda: np.array([[double(float(t)), t] for t in range(3)]))
    assert "after step 1" in str(failed.value)
    assert "known mistake: adding 2 instead of doubling (see section 1)." in str(failed.value)
    with pytest.raises(CheckFailed, match="bits"):
        Checks("test_quiz", notebook="demo").quiz("bytes_per_float32", 32)
    Checks("test_quiz", notebook="demo").quiz("bytes_per_float32", 4)

    # grade mode: a wrong submission, run as the grader does, gets partial credit from the worker's verdicts
    from nbgrader.utils import determine_grade

    from tinytorch.course.check_runs import run_notebook
    from tinytorch.course.mistakes import apply_mistake, load_catalogue
    nb = nbformat.read(demo_course / "demo.ipynb", as_version=4)
    wrong = apply_mistake(nb, load_catalogue(demo_course / "mistakes.py")["adds_instead"])
    wrong.cells[2].source = "bytes_per_float32 = 32"
    run = run_notebook(wrong, demo_course, "grade", extra_env={"PYTHONPATH": str(ROOT)})
    graded, _ = JudgeChecks(store_dir=str(demo_course)).preprocess(run.notebook, {"nbgrader": {"notebook": "demo"}})
    scores = {c.metadata.nbgrader["grade_id"]: determine_grade(c) for c in graded.cells if c.metadata.nbgrader["grade"]}
    assert scores == {"test_double": (0.0, 3.0), "test_quiz": (0.0, 1.0)}
    text = graded.cells[1].outputs[0]["text"]
    assert "known mistake: adding 2 instead of doubling" in text and "-8" not in text
    right = run_notebook(nb, demo_course, "grade", extra_env={"PYTHONPATH": str(ROOT)})
    graded, _ = JudgeChecks(store_dir=str(demo_course)).preprocess(right.notebook, {"nbgrader": {"notebook": "demo"}})
    assert [determine_grade(c) for c in graded.cells if c.metadata.nbgrader["grade"]] == [(3.0, 3.0), (1.0, 1.0)]
