"""Module 03 under real nbgrader autograde: the reference gets full marks, an untouched
release gets zero, and every classic mistake of modules/03_optimizers/mistakes.py loses points
in (at least) the cells it names.

All submissions are graded in one autograde run (one course folder, one student per
submission), which keeps this to one notebook execution per submission.
"""
from pathlib import Path

import nbformat
import pytest

from tinytorch.course.autograde import autograde
from tinytorch.course.layout import find_module
from tinytorch.course.mistakes import apply_mistake, load_catalogue
from tinytorch.course.nbgrader_runner import release_notebooks
from tinytorch.course.notebooks import cells_by_grade_id, fill_solutions, nbgrader_meta

ROOT = Path(__file__).resolve().parents[1]
MODULE = find_module(ROOT, "03")
NOTEBOOK = MODULE.notebook.name
MISTAKES = load_catalogue(MODULE.dir / "mistakes.py")


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    # Figures are not graded: the non-interactive backend skips rendering them once per submission.
    mp = pytest.MonkeyPatch()
    mp.setenv("MPLBACKEND", "Agg")
    work = tmp_path_factory.mktemp("optimizers-grading")
    source_nb = nbformat.read(MODULE.notebook, as_version=4)
    release_nb = nbformat.read(release_notebooks(MODULE.dir, MODULE.id, work / "release") / NOTEBOOK, as_version=4)
    submissions = {"reference": fill_solutions(release_nb, source_nb), "untouched": release_nb}
    for name, mistake in MISTAKES.items():
        submissions[name] = fill_solutions(release_nb, apply_mistake(source_nb, mistake, name))
    folders = {}
    for student, nb in submissions.items():
        folder = work / "submissions" / student
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)
        folders[student] = folder
    try:
        return autograde(MODULE.dir, MODULE.id, folders, work / "course")
    finally:
        mp.undo()


def _max_points():
    nb = nbformat.read(MODULE.notebook, as_version=4)
    return {gid: float(nbgrader_meta(c)["points"]) for gid, c in cells_by_grade_id(nb).items()
            if nbgrader_meta(c).get("grade")}


def test_reference_full_marks_untouched_zero_and_every_mistake_loses_points(scores):
    points = _max_points()
    reference = scores["reference"]
    # The module folder holds other notebooks too (fused, modern): only this notebook's cells are submitted here.
    assert {k: v for k, v in reference.items() if k in points} == points, "the reference must get full marks"
    assert all(scores["untouched"][cell] == 0 for cell in points), \
        f"an untouched release must score zero: {scores['untouched']}"
    print(f"\nreference {reference['total']:g}/{sum(points.values()):g}, "
          f"untouched release {scores['untouched']['total']:g}")
    problems = []
    for name, mistake in MISTAKES.items():
        lost = sorted(cell for cell in points if scores[name][cell] < points[cell])
        print(f"{name:<36} {scores[name]['total']:>5g}/{sum(points.values()):g}  loses {', '.join(lost)}")
        missed = sorted(set(mistake.catches) - set(lost))
        if not lost or missed:
            problems.append(f"{name}: loses points in {lost}, expected at least {sorted(mistake.catches)}")
    assert not problems, "\n".join(problems)
