"""The release's stubs name their exercise (tinytorch/course/stubs.py, docs/checks.md "Stubs")."""
import nbformat
import pytest
from helpers import ROOT
from nbformat.v4 import new_code_cell, new_notebook

from tinytorch.course.layout import find_module
from tinytorch.course.stubs import ExerciseStubs


def solution_cell(source):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": "ex", "locked": False, "schema_version": 3,
                                 "solution": True, "task": False}
    return cell


def clear(*cells):
    kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb = new_notebook(cells=list(cells), metadata={"kernelspec": kernelspec})
    stubs = ExerciseStubs()
    stubs.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    nb, _ = stubs.preprocess(nb, {})
    return [c.source for c in nb.cells]


def test_an_announced_region_raises_with_the_exercise_text():
    [source] = clear(solution_cell(
        "def f(x):\n"
        "    \"doc\"\n"
        "    # EXERCISE: f must return 2 * x (a 'new' array)\n"
        "    ### BEGIN SOLUTION\n"
        "    return 2 * x\n"
        "    ### END SOLUTION\n"))
    assert "    return 2 * x\n" not in source and "BEGIN SOLUTION" not in source
    assert "    # EXERCISE: f must return 2 * x (a 'new' array)\n    # YOUR CODE HERE\n" in source
    namespace = {}
    exec(source, namespace)
    with pytest.raises(NotImplementedError, match=r"^f must return 2 \* x \(a 'new' array\)$"):
        namespace["f"](1)


def test_regions_without_an_exercise_line_keep_nbgrader_s_stub_in_the_same_cell():
    [source] = clear(solution_cell(
        "def f():\n"
        "    # EXERCISE: f returns 1\n"
        "    ### BEGIN SOLUTION\n"
        "    return 1\n"
        "    ### END SOLUTION\n"
        "\n"
        "def g():\n"
        "    # a plain comment\n"
        "    ### BEGIN SOLUTION\n"
        "    return 2\n"
        "    ### END SOLUTION\n"))
    assert source.count("raise NotImplementedError('f returns 1')") == 1
    assert source.count("raise NotImplementedError()") == 1
    assert "return 1" not in source and "return 2" not in source


def test_a_solution_cell_without_regions_and_malformed_regions_behave_as_in_nbgrader():
    [whole] = clear(solution_cell("x = 1\n"))
    assert whole == "# YOUR CODE HERE\nraise NotImplementedError()"
    for broken in ("# EXERCISE: x\n### BEGIN SOLUTION\nx = 1\n",                                   # no END
                   "# EXERCISE: x\n### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"):  # nested
        with pytest.raises(RuntimeError, match="solution"):
            clear(solution_cell(broken))


def test_the_released_optimizers_name_every_exercise(student_tree):
    """Module 03's release (as the student tree holds it): every stub carries its EXERCISE text, and no
    solution line survives."""
    module = find_module(ROOT, "03")
    released_dir = student_tree / "modules" / module.id
    released = nbformat.read(released_dir / module.notebook.name, as_version=4)
    named = [c for c in released.cells if c.cell_type == "code" and "# EXERCISE:" in c.source]
    quizzes = [c for c in named if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("quiz")]
    exercises = [c for c in named if c not in quizzes]

    def stubs_of(cells):
        lines = [line.strip() for c in cells for line in c.source.split("\n")]
        return [after for before, after in zip(lines, lines[1:]) if before == "# YOUR CODE HERE"]
    stubs = stubs_of(exercises)
    # exercises 1-9; exercise 1 has three regions
    assert len(exercises) == 9 and len(stubs) == 11, (len(exercises), stubs)
    assert len(stubs_of(quizzes)) == len(quizzes) >= 10, "every quiz cell's stub says what to do"
    assert all(s.startswith("raise NotImplementedError(") and s != "raise NotImplementedError()"
               for s in stubs + stubs_of(quizzes)), stubs
    assert any("sgd_update_ must subtract lr * direction" in s for s in stubs)
    assert not any("BEGIN SOLUTION" in c.source for c in released.cells)
    assert not (released_dir / "mistakes.py").exists(), "the mistake catalogue must not be released"
