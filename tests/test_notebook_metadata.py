"Every source notebook follows the course conventions, and its nbgrader metadata survives the toolchain."
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from helpers import ROOT, module_notebooks, read_nb

from tinytorch.course.notebooks import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, nbgrader_meta

NOTEBOOKS = module_notebooks()
IDS = [str(nb.relative_to(ROOT)) for _, nb in NOTEBOOKS]
REQUIRED_KEYS = {"grade", "grade_id", "locked", "schema_version", "solution"}


@pytest.fixture(params=NOTEBOOKS, ids=IDS)
def notebook(request):
    module, path = request.param
    return module, path, read_nb(path)


def test_at_least_one_module_per_number():
    numbers = [m.number for m, _ in NOTEBOOKS]
    assert numbers[:1] == ["01"] and numbers == sorted(numbers)


def test_valid_and_clean(notebook):
    _, path, nb = notebook
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.nbformat_minor >= 5, "cell ids need nbformat 4.5"
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids)), "cell ids must be unique"
    with_outputs = [c.id for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not with_outputs, f"commit notebooks without outputs: {with_outputs}"


def test_default_exp_first(notebook):
    module, path, nb = notebook
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    match = re.match(r"#\|\s*default_exp\s+core\.(\w+)\s*$", first_code.source.strip())
    assert match, f"the first code cell must be `#| default_exp core.<name>`, got {first_code.source!r}"
    if path == module.notebook:
        assert match.group(1) == module.name


def test_nbgrader_metadata(notebook):
    _, path, nb = notebook
    grade_ids = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        source = cell.source
        has_solution_markers = BEGIN_SOLUTION in source or END_SOLUTION in source
        has_hidden_markers = BEGIN_HIDDEN in source or END_HIDDEN in source
        if not meta:
            assert not has_solution_markers and not has_hidden_markers, f"markers in a plain cell: {source[:80]!r}"
            continue
        assert REQUIRED_KEYS <= meta.keys(), f"incomplete nbgrader metadata {meta}"
        assert meta["schema_version"] == 3
        grade_ids.append(meta["grade_id"])
        assert re.fullmatch(r"[A-Za-z0-9_-]+", meta["grade_id"]), meta["grade_id"]
        if meta["grade"]:
            assert meta.get("points", 0) > 0, f"{meta['grade_id']}: a graded cell needs points"
        if meta["solution"]:
            assert cell.cell_type == "code" or not has_solution_markers
            assert source.count(BEGIN_SOLUTION) == source.count(END_SOLUTION) >= 1 or cell.cell_type == "markdown", \
                f"{meta['grade_id']}: a solution cell needs matched solution markers"
            assert not has_hidden_markers
            assert not meta["locked"], f"{meta['grade_id']}: learners must be able to edit an exercise"
        else:
            assert not has_solution_markers, f"{meta['grade_id']}: solution markers outside a solution cell"
        if meta["grade"] and not meta["solution"]:
            assert meta["locked"], f"{meta['grade_id']}: test cells are locked"
            assert source.count(BEGIN_HIDDEN) == source.count(END_HIDDEN) <= 1
        else:
            assert not has_hidden_markers, f"{meta['grade_id']}: hidden tests belong in graded test cells"
    assert len(grade_ids) == len(set(grade_ids)), f"duplicate grade_ids: {sorted(grade_ids)}"


def test_solution_markers_leave_a_skeleton(notebook):
    "A whole class or function inside one solution block would vanish from the release."
    _, _, nb = notebook
    for cell in nb.cells:
        if nbgrader_meta(cell).get("solution") and cell.cell_type == "code":
            first_code_line = next((line for line in cell.source.splitlines()
                                    if line.strip() and not line.startswith("#|")), "")
            if first_code_line.strip() == BEGIN_SOLUTION:
                # Allowed only for quiz answers, which assign variables above the markers instead.
                pytest.fail(f"{nbgrader_meta(cell)['grade_id']}: put the skeleton before {BEGIN_SOLUTION}")


def test_nbdev_clean_keeps_nbgrader_metadata(notebook, tmp_path):
    _, path, nb = notebook
    shutil.copy2(ROOT / "settings.ini", tmp_path / "settings.ini")
    (tmp_path / "modules").mkdir()
    copy = tmp_path / "modules" / path.name
    shutil.copy2(path, copy)
    subprocess.run([sys.executable, "-c", f"from nbdev.clean import nbdev_clean; nbdev_clean(fname={str(copy)!r})"],
                   cwd=tmp_path, check=True, capture_output=True)
    cleaned = read_nb(copy)
    assert [nbgrader_meta(c) for c in cleaned.cells] == [nbgrader_meta(c) for c in nb.cells]
    assert [c.source for c in cleaned.cells] == [c.source for c in nb.cells]
