"""Run a module's notebook in-process, cell by cell, and say which graded test cells fail and why.

The learner's loop, without a kernel: every code cell is executed in order in one fresh namespace
(a failing cell does not stop the run, as in nbgrader's autograde), the export cell is skipped,
and for each graded test cell the outcome is recorded with the message a learner would read.
Used by tests/test_learner_loop.py on released notebooks filled with a catalogued mistake.
"""
import contextlib
import io
import os
import traceback
from dataclasses import dataclass

from tinytorch.course.notebooks import nbgrader_meta


@dataclass(frozen=True)
class CellOutcome:
    grade_id: str
    passed: bool
    message: str        # the exception's type and text, or "" when the cell passed


def run_cells(nb) -> dict:
    "{grade_id: CellOutcome} of every graded test cell of `nb`, run top to bottom in one namespace."
    os.environ.setdefault("MPLBACKEND", "Agg")
    namespace, outcomes = {"__name__": "__main__"}, {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "export_from_notebook" in cell.source:
            continue
        meta = nbgrader_meta(cell)
        source = "\n".join(line for line in cell.source.split("\n") if not line.lstrip().startswith(("%", "!")))
        error = ""
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"<cell {meta.get('grade_id', '')}>", "exec"), namespace)
        except Exception as e:  # noqa: BLE001 (a learner's cell may raise anything)
            error = "".join(traceback.format_exception_only(type(e), e)).strip()
        if meta.get("grade") and not meta.get("solution"):
            outcomes[meta["grade_id"]] = CellOutcome(meta["grade_id"], not error, error)
    import matplotlib.pyplot as plt
    plt.close("all")
    return outcomes
