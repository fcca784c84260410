"""Run a module's notebook in-process, cell by cell, and say which graded test cells fail and why.

The learner's loop, without a kernel: every code cell is executed in order in one fresh namespace
(a failing cell does not stop the run, as in nbgrader's autograde), the export cell is skipped,
and for each graded test cell the outcome is recorded with the message a learner would read.
Used by tests/test_learner_loop.py (the first failure of each catalogued mistake, every module) and
tests/test_learner_loop_optimizers.py (module 03's release filled with each mistake).
"""
import contextlib
import io
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from tinytorch.course.notebooks import nbgrader_meta


@dataclass(frozen=True)
class CellOutcome:
    grade_id: str
    passed: bool
    message: str        # the exception's type and text, or "" when the cell passed


@contextlib.contextmanager
def package_classes_restored():
    """Put back every attribute of the package's classes when the block ends. The notebooks run here
    in the test process, and module 02's `install_autograd()` sets its own (a mistake's, even) methods
    on the package's Tensor: without this, every later test in the same worker ran on them."""
    classes = {cls for name, module in list(sys.modules.items()) if name.startswith("tinytorch.")
               for cls in vars(module).values() if isinstance(cls, type) and cls.__module__.startswith("tinytorch.")}
    saved = {cls: dict(vars(cls)) for cls in classes}
    try:
        yield
    finally:
        for cls, attributes in saved.items():
            for name in set(vars(cls)) - set(attributes):
                delattr(cls, name)
            for name, value in attributes.items():
                if vars(cls).get(name, object()) is not value:
                    setattr(cls, name, value)


def executed_cells(nb, folder=None):
    """Run the code cells of `nb` in order in one fresh namespace (in `folder` if given) and yield
    (cell's nbgrader metadata, error message or "") for each. Magics and the export cell are skipped;
    what a cell prints is dropped; a failing cell does not stop the run."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    with package_classes_restored():
        yield from _run_cells(nb, folder)


def _run_cells(nb, folder):
    namespace, old = {"__name__": "__main__"}, Path.cwd()
    try:
        if folder is not None:
            os.chdir(folder)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or "export_from_notebook" in cell.source:
                continue
            meta = nbgrader_meta(cell)
            source = "\n".join(line for line in cell.source.split("\n") if not line.lstrip().startswith(("%", "!")))
            error = ""
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(source, f"<cell {meta.get('grade_id', i)}>", "exec"), namespace)
            except Exception as e:  # noqa: BLE001 (a learner's cell may raise anything)
                error = "".join(traceback.format_exception_only(type(e), e)).strip()
            yield meta or {"grade_id": f"cell {i}"}, error
    finally:
        os.chdir(old)
        import matplotlib.pyplot as plt
        plt.close("all")


def is_test_cell(meta) -> bool:
    return bool(meta.get("grade")) and not meta.get("solution")


def run_cells(nb) -> dict:
    "{grade_id: CellOutcome} of every graded test cell of `nb`, run top to bottom in one namespace."
    return {meta["grade_id"]: CellOutcome(meta["grade_id"], not error, error)
            for meta, error in executed_cells(nb) if is_test_cell(meta)}


def first_failure(nb, folder=None):
    """(grade_id, is a graded test cell, message) of the first cell that raises, or (None, False, ''), with the
    checks in learn mode (what a learner sees). The cells after it do not run."""
    os.environ["TINYTORCH_CHECKS"] = "learn"
    with contextlib.closing(executed_cells(nb, folder)) as cells:
        for meta, error in cells:
            if error:
                return meta["grade_id"], is_test_cell(meta), error
    return None, False, ""
