"""nbgrader autograde of each module: a learner who solves everything gets full marks, an untouched
release gets zero. This is the contract every module's tests must keep."""
import nbformat
import pytest
from helpers import MODULES, graded_test_cells, read_nb

from tinytorch.course.autograde import autograde
from tinytorch.course.notebooks import fill_solutions, nbgrader_meta


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES, ids=[m.id for m in MODULES])
def test_full_marks_when_solved_and_zero_when_untouched(student_tree, module, tmp_path):
    released_dir = student_tree / "modules" / module.id
    solved = tmp_path / "solved"
    solved.mkdir()
    for released in released_dir.glob("*.ipynb"):
        source = read_nb(module.dir / released.name)
        nbformat.write(fill_solutions(read_nb(released), source), solved / released.name)

    scores = autograde(module.dir, module.id, {"solved": solved, "untouched": released_dir}, tmp_path / "course")

    max_points = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
                  for nb in module.dir.glob("*.ipynb") for c in graded_test_cells(read_nb(nb))}
    assert max_points, f"{module.id} has no graded cells"
    assert {k: v for k, v in scores["solved"].items() if k != "total"} == max_points
    assert scores["untouched"]["total"] == 0, {k: v for k, v in scores["untouched"].items() if v}
