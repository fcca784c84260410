"""The grading pipeline's parts, without running nbgrader (fast): strict comparisons, the file guard,
the static scan, rebuilding submissions, the collect name patterns; and collecting from an exchange."""
import ast
import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tinytorch.course import grading_kernel as gk
from tinytorch.course.collect import Matcher, collect_downloads, collect_exchange
from tinytorch.course.handin import check_handin_notebook, check_student_id
from tinytorch.course.integrity import mark_test_cells, scan_source, unmark
from tinytorch.course.layout import CourseError, find_module, list_modules
from tinytorch.course.notebooks import nbgrader_meta
from tinytorch.course.submissions import ExpectedNotebook, check_notebook

ROOT = Path(__file__).resolve().parents[1]
MODULE = find_module(ROOT, "01")


def run_as_test_cell(source: str, **names):
    "Execute `source` the way the guarded kernel runs a graded test cell."
    tree = ast.fix_missing_locations(gk.StrictComparisons().visit(ast.parse(source)))
    namespace = {gk.COMPARE_NAME: gk._compare, gk.CHAIN_NAME: gk._chain, gk.TRUTH_NAME: gk._truth, "np": np, **names}
    exec(compile(tree, "<test cell>", "exec"), namespace)
    return namespace


class AlwaysEqual:
    def __eq__(self, other): return True
    def __ne__(self, other): return False


class YesInt(int):
    def __eq__(self, other): return True
    __hash__ = int.__hash__


# --------------------------------------------------------------------------- strict comparisons
def test_plain_values_compare_as_usual():
    ns = run_as_test_cell("r1 = (1, 2) == (1, 2)\nr2 = 3 != 3.0\nr3 = 'a' in 'abc'\nr4 = np.float32(2) == 2\n"
                          "r5 = (np.arange(3) == np.arange(3)).all()\nr6 = np.dtype('float32') == np.float32\n"
                          "assert {'a': [1, 2.5]} == {'a': [1, 2.5]}\nr7 = None is None")
    assert [ns[f"r{i}"] for i in range(1, 8)] == [True, False, True, True, True, True, True]


def test_failing_plain_assert_still_fails():
    with pytest.raises(AssertionError) as info:
        run_as_test_cell("assert 1 + 1 == 3, 'arithmetic'")
    assert not isinstance(info.value, gk.IntegrityError)


@pytest.mark.parametrize("fake", [AlwaysEqual(), YesInt(3), (1, AlwaysEqual()), [YesInt(1)],
                                  np.array([AlwaysEqual()], dtype=object)])
def test_objects_that_fake_equality_are_refused(fake):
    with pytest.raises(gk.IntegrityError, match="plain values"):
        run_as_test_cell("assert got == 3", got=fake)


def test_fake_truthiness_is_refused():
    class Truthy:
        def __bool__(self): return True
    with pytest.raises(gk.IntegrityError):
        run_as_test_cell("assert got", got=Truthy())


def test_chained_comparison_evaluates_each_operand_once_and_short_circuits():
    calls = []

    def value(x):
        calls.append(x)
        return x
    ns = run_as_test_cell("r = value(0) < value(1) < value(2)\ns = value(5) < value(1) < value(99)", value=value)
    assert ns["r"] is True and ns["s"] is False
    assert calls == [0, 1, 2, 5, 1]


def test_identity_comparisons_are_left_alone():
    ns = run_as_test_cell("r = got is not None", got=AlwaysEqual())
    assert ns["r"] is True


def test_strict_numpy_helpers_refuse_object_arrays():
    strict = gk._strict_array_args(np.testing.assert_allclose)
    strict(np.ones(3), [1.0, 1.0, 1.0])
    with pytest.raises(gk.IntegrityError):
        strict(AlwaysEqual(), np.ones(3))
    with pytest.raises(AssertionError):
        strict(np.zeros(3), np.ones(3))


def test_marker_round_trip():
    nb = nbformat.read(MODULE.notebook, as_version=4)
    marked = mark_test_cells(nbformat.from_dict(nb))
    tests = [c for c in marked.cells if nbgrader_meta(c).get("grade")]
    assert tests and all(gk._test_id(c.source) == nbgrader_meta(c)["grade_id"] for c in tests)
    originals = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c).get("grade")}
    assert all(unmark(c.source) == originals[nbgrader_meta(c)["grade_id"]] for c in tests)
    assert mark_test_cells(marked).cells[0].source == marked.cells[0].source  # marking twice changes nothing


# --------------------------------------------------------------------------- file guard
def test_file_guard(tmp_path):
    instructor, course = tmp_path / "repo", tmp_path / "repo" / "grading"
    own = course / "autograded" / "s1" / "01_tensor"
    reference = course / ".tinytorch" / "reference"
    for folder in (own, reference, instructor / "tinytorch" / "core"):
        folder.mkdir(parents=True)
    cwd = os.getcwd()
    os.chdir(own)
    try:
        guard = gk.FileGuard({"deny": [str(instructor), str(course)], "allow": [str(reference)],
                              "hard_deny": [str(instructor / "tinytorch" / "core")]})
    finally:
        os.chdir(cwd)
    assert guard.denied(str(instructor / "modules" / "01_tensor" / "x.py"))
    assert guard.denied(str(course / "gradebook.db"))
    assert guard.denied(str(course / "autograded" / "s2" / "01_tensor" / "data.txt"))  # another learner
    assert guard.denied(str(own / "tensor.ipynb"))  # the notebook being graded holds the hidden tests
    assert guard.denied(str(instructor / "tinytorch" / "core" / "tensor.py"))
    assert not guard.denied(str(own / "data.txt"))
    assert not guard.denied(str(reference / "tinytorch" / "__init__.py"))
    assert not guard.denied("/usr/lib/os-release") and not guard.denied(3)
    link = own / "sneaky"
    link.symlink_to(course / "gradebook.db")
    assert guard.denied(str(link))
    assert guard.denied("/proc/1/mem") and guard.denied("/proc/1/environ")


# --------------------------------------------------------------------------- static scan
@pytest.mark.parametrize("source, finding", [
    ("np.allclose = lambda *a, **k: True", "replaces np.allclose"),
    ("import numpy\nsetattr(numpy.testing, 'assert_allclose', print)", "calls setattr"),
    ("class A:\n    def __eq__(self, other):\n        return True", "__eq__ that always returns"),
    ("import inspect", "imports inspect"),
    ("import sys\nx = sys._getframe(1).f_locals", "uses ._getframe"),
    ("x = In[-1]", "uses In"),
    ("from tinytorch.core.tensor import memory_bytes", "imports the reference"),
])
def test_scan_flags_tricks(source, finding):
    assert any(finding in f for f in scan_source(source, "core.tensor")), scan_source(source, "core.tensor")


def test_scan_leaves_honest_code_alone():
    nb = nbformat.read(MODULE.notebook, as_version=4)
    honest = [c.source for c in nb.cells if nbgrader_meta(c).get("solution")]
    assert honest and all(scan_source(s, "core.tensor") == [] for s in honest)


# --------------------------------------------------------------------------- rebuilding submissions
@pytest.fixture(scope="module")
def expected():
    nb = mark_test_cells(nbformat.read(MODULE.notebook, as_version=4))
    return ExpectedNotebook("tensor", nb, {})


def _write(folder, nb_or_text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tensor.ipynb"
    path.write_text(nb_or_text if isinstance(nb_or_text, str) else nbformat.writes(nb_or_text))
    return folder


def test_rebuild_reports_deleted_duplicated_and_foreign_cells(tmp_path, expected):
    nb = nbformat.read(MODULE.notebook, as_version=4)
    index = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(nb.cells)}
    nb.cells.insert(index["test_matmul"], nbformat.from_dict(json.loads(json.dumps(nb.cells[index["test_matmul"]]))))
    del nb.cells[index["test_quiz_fit"]]
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "made_up", "grade": True}}))
    for c in nb.cells:
        c.pop("id", None)
    checked = check_notebook(_write(tmp_path / "s", nb), expected)
    notes = " | ".join(checked.notes)
    assert checked.status == "ok"
    assert "test_quiz_fit was deleted" in notes and "scores 0 of 1 points" in notes
    assert "test_matmul appears 2 times" in notes and "'made_up'" in notes
    ids = [nbgrader_meta(c).get("grade_id") for c in checked.notebook.cells]
    assert ids.count("test_matmul") == 1 and "made_up" not in ids
    nbformat.validate(checked.notebook)


@pytest.mark.parametrize("content, status, reason", [("", "unreadable", "is empty"),
                                                     ("{ nope", "unreadable", "not valid JSON"),
                                                     ("[1, 2]", "unreadable", "not a Jupyter notebook"),
                                                     (None, "missing", "missing from the submission")])
def test_unusable_notebooks(tmp_path, expected, content, status, reason):
    folder = tmp_path / "s"
    folder.mkdir()
    if content is not None:
        (folder / "tensor.ipynb").write_text(content)
    checked = check_notebook(folder, expected)
    assert checked.status == status and reason in checked.notes[0] and "score 0" in checked.notes[0]


# --------------------------------------------------------------------------- hand-in checks
def test_handin_checks(tmp_path):
    assert check_student_id("s1234.x") == "s1234.x"
    for bad in ("", "../x", "a b", "x+y"):
        with pytest.raises(CourseError):
            check_student_id(bad)
    path = tmp_path / "tensor.ipynb"
    path.write_text("not json")
    assert "not valid JSON" in check_handin_notebook(path, {})[0]
    nb = nbformat.read(MODULE.notebook, as_version=4)
    received = {nbgrader_meta(c)["grade_id"]: None for c in nb.cells if nbgrader_meta(c).get("grade_id")}
    nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") != "test_matmul"]
    nbformat.write(nb, path)
    warnings = check_handin_notebook(path, received)
    assert warnings == [f"tensor.ipynb: cell test_matmul was deleted; its points score 0. Copy it back from a "
                        "fresh copy of the module"]


# --------------------------------------------------------------------------- collect
@pytest.mark.parametrize("name, module, counter", [("ID_late_12345_tensor-1.ipynb", "tensor", 1),
                                                  ("tensor (2).ipynb", "tensor", 2), ("tensor.ipynb", "tensor", 0),
                                                  ("s1_tensor_3.ipynb", "tensor", 3), ("s1_notes.ipynb", None, 0),
                                                  ("tensorflow.ipynb", None, 0), ("s1_tensor.txt", None, 0)])
def test_module_of_lms_names(name, module, counter):
    found, n = Matcher(list_modules(ROOT)).module_of(name)
    assert (found.name if found else None, n) == (module, counter)


def test_student_ids_from_names():
    matcher = Matcher(list_modules(ROOT))
    assert matcher.student_of("s1234_late_99_tensor-1.ipynb") == "s1234"
    assert matcher.student_of("jdoe.2 - tensor.ipynb") == "jdoe.2"
    custom = Matcher(list_modules(ROOT), r"_(?P<id>\d+)_assignsubmission")
    assert custom.student_of("Jane Doe_4242_assignsubmission_file_") == "4242"


def test_collect_keeps_earlier_copies_and_reports_strays(tmp_path):
    downloads, course = tmp_path / "downloads", tmp_path / "grading"
    downloads.mkdir()
    nb = nbformat.read(MODULE.notebook, as_version=4)
    nbformat.write(nb, downloads / "s1_tensor.ipynb")
    (downloads / "s2_stuff.ipynb").write_text("{}")
    report = collect_downloads(downloads, course, list_modules(ROOT))
    assert report.collected == {"s1": [MODULE.id]}
    assert any("s2_stuff.ipynb" in m and "no module notebook" in m for m in report.messages)
    (downloads / "s1_tensor.ipynb").write_text(nbformat.writes(nb).replace("Module 01", "Module one"))
    report = collect_downloads(downloads, course, list_modules(ROOT))
    assert any("replaced (the earlier copy is in submitted_history" in m for m in report.messages)
    kept = list((course / "submitted_history").rglob("tensor.ipynb"))
    assert len(kept) == 1 and "Module 01" in kept[0].read_text()
    assert "Module one" in (course / "submitted" / "s1" / MODULE.id / "tensor.ipynb").read_text()
    with pytest.raises(CourseError, match="group named id"):
        collect_downloads(downloads, course, list_modules(ROOT), id_pattern="^(\\d+)")


@pytest.mark.slow
def test_collect_from_an_nbgrader_exchange(tmp_path):
    exchange, course = tmp_path / "exchange", tmp_path / "grading"
    nb = nbformat.read(MODULE.notebook, as_version=4)
    for student, stamp in (("ada", "2026-11-21 10:00:00.000000 UTC"), ("bob", "2026-11-21 11:00:00.000000 UTC")):
        inbound = exchange / "tinytorch" / "inbound" / f"{student}+{MODULE.id}+{stamp}+abc123"
        inbound.mkdir(parents=True)
        nbformat.write(nb, inbound / "tensor.ipynb")
        (inbound / "timestamp.txt").write_text(stamp)
    report = collect_exchange(course, MODULE, exchange)
    assert report.collected == {"ada": [MODULE.id], "bob": [MODULE.id]}
    assert (course / "submitted" / "bob" / MODULE.id / "tensor.ipynb").is_file()
