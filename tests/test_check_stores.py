"""The recorded stores of the checks: in sync with the notebooks, and nothing secret where a learner can read it.

The instructor store (`modules/NN/<nb>.checks.json`) holds every expected value; the learner store
(`tinytorch/checks/data/<nb>.json`) ships with the student tree and may only hold what a learner
can already see: visible checks' values and fingerprints, and quiz hashes.
"""
import json

import pytest
from helpers import MODULES

from tinytorch.checks.stores import DATA_DIR, INSTRUCTOR_SUFFIX, read_store
from tinytorch.course.layout import INSTRUCTOR_ONLY

STORES = sorted(p for m in MODULES for p in m.dir.glob(f"*{INSTRUCTOR_SUFFIX}"))


def _pairs():
    for path in STORES:
        notebook = path.name[: -len(INSTRUCTOR_SUFFIX)]
        yield path, read_store(path, notebook), read_store(DATA_DIR / f"{notebook}.json", notebook)


@pytest.mark.parametrize("path", STORES, ids=lambda p: p.name)
def test_learner_store_holds_only_visible_checks_and_hashes(path):
    notebook = path.name[: -len(INSTRUCTOR_SUFFIX)]
    instructor, learner = read_store(path, notebook), read_store(DATA_DIR / f"{notebook}.json", notebook)
    assert learner is not None, \
        f"{notebook}: no learner store; run tools/record_checks.py {path.parent.name}/{notebook}.ipynb"
    for cell, checks in learner.cells.items():
        for name in checks:
            recorded = instructor.check(cell, name)
            assert recorded is not None, f"{notebook}: learner store has {cell}/{name}, the instructor store does not"
            assert not recorded.hidden, f"{notebook}: hidden check {cell}/{name} is in the learner store"
    text = json.dumps(learner.quizzes)
    for checks in instructor.cells.values():
        for name, recorded in checks.items():
            if recorded.kind == "quiz":
                assert name in learner.quizzes, f"{notebook}: quiz answer {name} has no learner entry"
                assert "expected" not in learner.quizzes[name]
                value = recorded.expected
                if isinstance(value, str) and len(value) > 2:
                    assert f'"{value}"' not in text, \
                        f"{notebook}: the answer to {name} is readable in the learner store"


@pytest.mark.parametrize("path", STORES, ids=lambda p: p.name)
def test_store_points_match_the_notebook(path):
    "A store recorded before the notebook's points changed would grade with the wrong points."
    from helpers import read_nb

    from tinytorch.course.notebooks import nbgrader_meta
    notebook = path.name[: -len(INSTRUCTOR_SUFFIX)]
    store = read_store(path, notebook)
    nb = read_nb(path.parent / f"{notebook}.ipynb")
    points = {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in nb.cells
              if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}
    for cell, checks in store.cells.items():
        assert cell in points, f"{notebook}: the store has checks for {cell}, which is no graded test cell any more"
        total = sum(c.points for c in checks.values())
        assert abs(total - points[cell]) < 1e-9, f"{notebook}: {cell} has {points[cell]:g} points, its checks {total:g}"


def test_instructor_only_files_stay_out_of_the_student_tree(student_tree):
    found = [str(p.relative_to(student_tree)) for pattern in INSTRUCTOR_ONLY
             for p in (student_tree / "modules").rglob(pattern)]
    assert not found, f"instructor-only files in the student tree: {found}"


def _distinctive_numbers(value, limit=20):
    "Floats of a recorded value whose repr is long enough to be a fingerprint of it (not 0.5 or 2.0)."
    found = []
    stack = [value]
    while stack and len(found) < limit:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v[:50])
        elif isinstance(v, float) and len(repr(v)) >= 12:
            found.append(repr(v))
    return found


def test_hidden_expected_values_are_nowhere_in_the_student_tree(student_tree):
    secrets = {}
    for path, instructor, _ in _pairs():
        for cell, checks in instructor.cells.items():
            for name, recorded in checks.items():
                if recorded.hidden or recorded.kind == "quiz":
                    for number in _distinctive_numbers(recorded.expected):
                        secrets.setdefault(number, f"{path.name}: {cell}/{name}")
    leaks = []
    for path in student_tree.rglob("*"):
        if path.is_file() and path.suffix in (".ipynb", ".py", ".json", ".md", ".txt", ".yml", ".ini"):
            text = path.read_text(errors="ignore")
            leaks += [f"{path.relative_to(student_tree)}: {why} ({n})" for n, why in secrets.items() if n in text]
    assert not leaks, "hidden expected values readable in the student tree:\n" + "\n".join(leaks[:20])


@pytest.mark.parametrize("path", STORES, ids=lambda p: p.name)
def test_every_graded_cell_is_judged_by_the_worker(path):
    """Every graded test cell is written with tinytorch.checks and recorded, so under grading no
    expected value of it sits in the learner's kernel (a cell of plain asserts would keep them there,
    readable through frames or gc, and would grade all-or-nothing)."""
    from helpers import read_nb

    from tinytorch.course.notebooks import nbgrader_meta
    notebook = path.name[: -len(INSTRUCTOR_SUFFIX)]
    store = read_store(path, notebook)
    nb = read_nb(path.parent / f"{notebook}.ipynb")
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade") or meta.get("solution"):
            continue
        assert meta["grade_id"] in store.cells, \
            f"{notebook}: graded cell {meta['grade_id']} has no recorded checks (write it with tinytorch.checks)"
        hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1] if "### BEGIN HIDDEN TESTS" in cell.source else ""
        for word in ("assert ", "np.testing", "raise AssertionError"):
            assert word not in hidden, \
                f"{notebook}: {meta['grade_id']}'s hidden tests use `{word.strip()}` in the kernel"
