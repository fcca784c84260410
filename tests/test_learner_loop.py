"""The learner's loop: for every catalogued mistake, does a visible check fail, and does it say which mistake?

Each mistake of `modules/NN_name/mistakes.py` is applied to the reference solution, the hidden tests
are removed (what a learner has: the release with their own, slightly wrong, code), and the notebook
runs top to bottom in learn mode until the first error. A row of the table records the first cell
that failed and whether its message names the mistake (the checks say "This matches a known mistake:
<description>" when the learner's values match the mistake's recorded fingerprint). The untouched
release is a row too: its first failure must say which exercise to write.

Targets (issue 11): every mistake marked `visible` fails a visible check (a graded test cell, not a
crash elsewhere), and at least 90 % of them are named. The table goes to test-artifacts/.

Every mistake of every notebook is a corpus (marker `corpus`, not in the fast lane); the fast lane runs
one fingerprinted mistake per notebook through the same loop.
"""
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest
from helpers import MODULES, ROOT, read_nb
from learner_loop import executed_cells, first_failure

from tinytorch.course.mistakes import apply_mistake, load_catalogue, mistakes_for
from tinytorch.course.notebooks import BEGIN_HIDDEN, END_HIDDEN

ARTIFACTS = ROOT / "test-artifacts"
LEARNER_STORES = ROOT / "tinytorch" / "checks" / "data"   # the visible checks' recorded values and fingerprints
HIDDEN_REGION = re.compile(rf"^[ \t]*{re.escape(BEGIN_HIDDEN)}.*?^[ \t]*{re.escape(END_HIDDEN)}[^\n]*\n?", re.S | re.M)
NAMED_TARGET = 0.9


@dataclass
class Row:
    mistake: str
    visible: bool
    failed_cell: str | None    # the first cell that raised
    in_test_cell: bool         # ... and it is a graded test cell (a visible check)
    named: bool                # its message names the mistake
    message: str               # the first line of what the learner reads


def without_hidden_tests(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = HIDDEN_REGION.sub("", cell.source)
    return nb


def _catalogued_notebooks():
    found = []
    for module in MODULES:
        catalogue = load_catalogue(module.dir / "mistakes.py")
        for path in sorted(module.dir.glob("*.ipynb")):
            extra = load_catalogue(module.dir / f"{path.stem}_mistakes.py")
            if mistakes_for(path, catalogue | extra):
                found.append(path)
    return found


def table(notebook: Path, rows: list[Row]) -> str:
    lines = [f"### {notebook.parent.name}/{notebook.name}", "",
             "| mistake | visible symptom expected | first failing cell | a visible check | named | message |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        message = r.message.replace("|", "\\|").replace("\n", " ")[:140]
        lines.append(f"| {r.mistake} | {'yes' if r.visible else 'no'} | {r.failed_cell or '-'} | "
                     f"{'yes' if r.in_test_cell else 'no'} | {'yes' if r.named else 'no'} | {message} |")
    return "\n".join(lines) + "\n"


def test_every_module_has_a_mistake_catalogue():
    missing = [m.id for m in MODULES if not load_catalogue(m.dir / "mistakes.py")]
    assert not missing, f"modules without a mistake catalogue (modules/NN_name/mistakes.py): {missing}"


def _catalogue(notebook: Path) -> dict:
    "The catalogued mistakes that patch `notebook` (the module's catalogue and the notebook's own)."
    folder = notebook.parent
    catalogue = load_catalogue(folder / "mistakes.py") | load_catalogue(folder / f"{notebook.stem}_mistakes.py")
    return mistakes_for(notebook, catalogue)


def _row(notebook: Path, source, name: str, mistake) -> Row:
    "The learner's loop for one mistake: applied to the reference, hidden tests removed, run to the first error."
    patched = without_hidden_tests(apply_mistake(source, mistake, name))
    cell, graded, error = first_failure(patched, notebook.parent)
    return Row(name, mistake.visible, cell, graded, bool(error) and mistake.description in error,
               (error or "no visible check failed").split("\n")[0])


def _fingerprinted(notebook: Path) -> set:
    "The mistakes a visible check of `notebook` recognises: those with a fingerprint in the learner store."
    found, todo = set(), [json.loads((LEARNER_STORES / f"{notebook.stem}.json").read_text())["cells"]]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if isinstance(node.get("mistake"), str):
                found.add(node["mistake"])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("notebook", _catalogued_notebooks(), ids=lambda p: p.stem)
def test_a_sample_mistake_fails_a_visible_check_that_names_it(notebook):
    """The fast lane's sample of the corpus below: per notebook, one catalogued visible mistake goes round
    the loop. It is the first one the learner store fingerprints, which the learner must then read by its
    description; a notebook whose checks name mistakes otherwise (no fingerprints) gives its first visible one."""
    known = _fingerprinted(notebook)
    visible = {n: m for n, m in _catalogue(notebook).items() if m.visible}
    name = next((n for n in visible if n in known), next(iter(visible)))
    row = _row(notebook, read_nb(notebook), name, visible[name])
    assert row.in_test_cell, f"{notebook.name}: {name} passes every visible check (or crashes outside one): {row}"
    if name in known:
        assert row.named, f"{notebook.name}: the visible check that fails for {name} does not name it: {row.message}"


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("notebook", _catalogued_notebooks(), ids=lambda p: p.stem)
def test_visible_checks_name_the_catalogued_mistakes(notebook):
    source = read_nb(notebook)
    rows = [_row(notebook, source, name, mistake) for name, mistake in _catalogue(notebook).items()]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"learner-loop-{notebook.stem}.md").write_text(table(notebook, rows))
    print(table(notebook, rows))
    expected_visible = [r for r in rows if r.visible]
    silent = [r.mistake for r in expected_visible if not r.in_test_cell]
    assert not silent, f"{notebook.name}: these mistakes pass every visible check (or crash outside one): {silent}"
    named = [r for r in expected_visible if r.named]
    assert len(named) >= NAMED_TARGET * len(expected_visible), \
        f"{notebook.name}: only {len(named)} of {len(expected_visible)} visible mistakes are named: " \
        f"{[r.mistake for r in expected_visible if not r.named]}"


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.id)
def test_untouched_release_says_which_exercise_to_write(module, student_tree):
    "A learner who runs a notebook before writing anything is told what to write, not a bare NotImplementedError."
    released = student_tree / "modules" / module.id / module.notebook.name
    cell, _, error = first_failure(read_nb(released), released.parent)
    assert error, f"{released.name}: the untouched release ran without an error"
    assert "NotImplementedError" in error, f"{released.name}: first failure is not the stub: {error}"
    message = error.split("NotImplementedError", 1)[1].strip(": \n")
    assert len(message) >= 15, f"{released.name}: cell {cell} raises a bare NotImplementedError ({error!r}); " \
                               "put a `# EXERCISE: ...` line above the solution region"


def test_running_a_notebook_in_process_leaves_the_package_as_it_was():
    """Module 02's notebook installs its own methods on the package's Tensor (a catalogued mistake's, even):
    after the in-process run, the package is as before, or every later test in that worker would use them."""
    from tinytorch.core.autograd import no_grad
    from tinytorch.core.tensor import Tensor
    before = dict(vars(Tensor))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from tinytorch.core.tensor import Tensor\n"
        "Tensor.__mul__ = lambda self, other: 'a patched product'\n"
        "Tensor.planted = 1\n"
        "del Tensor.__neg__")])
    assert [error for _, error in executed_cells(nb)] == [""]
    assert dict(vars(Tensor)) == before
    w = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        assert (w * 2).grad_fn is None
    assert (w * 2).grad_fn is not None and (-w).grad_fn is not None
