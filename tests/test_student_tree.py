"""The student tree: no solution and no hidden test anywhere, a package that imports with stubs,
and a learner who solves everything gets a package that passes the module's full tests."""
import shutil
import subprocess
import sys

import nbformat
import pytest
from helpers import MODULES, ROOT, graded_test_cells, kernel_env, read_nb
from leak_scan import course_secrets, find_leaks

from tinytorch.course.execute import execute_notebook
from tinytorch.course.export import export_tree
from tinytorch.course.layout import is_student_tree, list_modules
from tinytorch.course.notebooks import fill_solutions, nbgrader_meta


def test_tree_has_the_modules_and_nothing_else(student_tree):
    assert is_student_tree(student_tree)
    assert [m.id for m in list_modules(student_tree)] == [m.id for m in MODULES]
    for forbidden in ["tests", ".git", "tools", ".venv", "nbgrader_config.py", "gradebook.db"]:
        assert not (student_tree / forbidden).exists(), forbidden


def test_no_solution_or_hidden_test_anywhere(student_tree):
    leaks = find_leaks(student_tree, course_secrets())
    assert not leaks, "\n".join(leaks[:20])


def test_released_notebooks_keep_every_graded_cell(student_tree):
    for module in MODULES:
        source, release = read_nb(module.notebook), read_nb(student_tree / "modules" / module.id / module.notebook.name)
        assert [nbgrader_meta(c)["grade_id"] for c in graded_test_cells(release)] == \
               [nbgrader_meta(c)["grade_id"] for c in graded_test_cells(source)]
        assert all(not c.get("outputs") for c in release.cells if c.cell_type == "code")


@pytest.mark.parametrize("module", MODULES, ids=[m.id for m in MODULES])
def test_stub_package_imports_and_stubs_raise(student_tree, module):
    name = f"tinytorch.core.{module.name}"
    code = (f"import {name} as m, inspect\n"
            f"assert m.__file__.startswith({str(student_tree)!r}), m.__file__\n"
            "src = inspect.getsource(m)\n"
            "assert 'raise NotImplementedError(' in src, 'no exercise stub exported'\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=student_tree.parent, env=kernel_env(student_tree),
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def _exported_module(nb) -> str:
    "'optimizers' for a notebook whose first code cell is `#| default_exp core.optimizers`."
    first = next(c for c in nb.cells if c.cell_type == "code")
    return first.source.split("core.", 1)[1].strip()


def _package_test_notebook(source, filled):
    """A notebook's full tests (hidden parts included) run against the *exported package*: the
    exported cells are replaced by an import from the package, everything else is the filled notebook."""
    name = _exported_module(source)
    tests = {nbgrader_meta(c)["grade_id"]: c.source for c in graded_test_cells(source)}
    cells = [nbformat.v4.new_code_cell(  # everything the exported cells defined, private names and imports too
        f"import os, tinytorch.core.{name} as _module\n"
        "assert _module.__file__.startswith(os.environ['PYTHONPATH']), _module.__file__\n"
        "globals().update({k: v for k, v in vars(_module).items() if not k.startswith('__')})")]
    for cell in filled.cells:
        if cell.cell_type != "code" or cell.source.lstrip().startswith(("#| export", "#|export", "#| default_exp")):
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        cells.append(nbformat.v4.new_code_cell(tests.get(grade_id, cell.source)))
    return nbformat.v4.new_notebook(cells=cells, metadata=source.metadata)


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES, ids=[m.id for m in MODULES])
def test_filled_learner_package_passes_full_tests(student_tree, tmp_path, module):
    tree = shutil.copytree(student_tree, tmp_path / "learner")  # the session's tree, built once
    for earlier in [m for m in MODULES if m.number <= module.number]:  # a learner who solved everything so far
        for source_nb in earlier.dir.glob("*.ipynb"):
            released_nb = tree / "modules" / earlier.id / source_nb.name
            nbformat.write(fill_solutions(read_nb(released_nb), read_nb(source_nb)), released_nb)
    export_tree(tree)  # what `tinytorch export` does
    for source_path in sorted(module.dir.glob("*.ipynb")):  # every notebook of the module, e.g. autograd and nn
        source = read_nb(source_path)
        name = _exported_module(source)
        reference = (ROOT / "tinytorch" / "core" / f"{name}.py").read_text()
        assert (tree / "tinytorch" / "core" / f"{name}.py").read_text() == reference, name
        filled = read_nb(tree / "modules" / module.id / source_path.name)
        check = tree / "modules" / module.id / f"package_check_{name}.ipynb"
        nbformat.write(_package_test_notebook(source, filled), check)
        store = source_path.with_name(source_path.stem + ".checks.json")   # the hidden checks' recorded values
        if store.is_file():   # instructor-only, so not in the student tree: this test's copy of the tree gets it
            shutil.copy(store, check.parent / store.name)
        _, results = execute_notebook(check, extra_env=kernel_env(tree))
        errors = [(r.grade_id, r.error) for r in results if r.error]
        assert not errors, (source_path.name, errors)
