"""Run a notebook (in memory) with the checks in a given mode, and gather what they reported.

Used by `tools/record_checks.py` (the reference and every catalogued mistake, `record` mode) and
by the learner-loop test (a patched release, `learn` mode: which visible check failed first, and
what it said).
"""
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..checks.protocol import REPORT_MIME, Report, parse
from .execute import run_in_kernel
from .notebooks import nbgrader_meta


@dataclass
class CellRun:
    grade_id: str
    graded: bool
    points: float
    reports: list = field(default_factory=list)   # Report, in the order the checks ran
    error: str | None = None                       # "CheckFailed: ..." when the cell raised
    stdout: str = ""


@dataclass
class NotebookRun:
    cells: list                                    # CellRun of every code cell, in order
    notebook: object = None                        # the executed notebook, outputs included

    def graded(self) -> dict:
        return {c.grade_id: c for c in self.cells if c.graded}

    def first_error(self) -> CellRun | None:
        return next((c for c in self.cells if c.error), None)


def run_notebook(nb, folder: Path, mode: str, *, stop_on_error: bool = False, timeout: int = 120,
                 extra_env: dict | None = None) -> NotebookRun:
    "Execute a copy of `nb` in `folder` with TINYTORCH_CHECKS=`mode`; return what each code cell did."
    nb = nbformat.from_dict(nb)
    env = {"TINYTORCH_CHECKS": mode, "MPLBACKEND": "Agg",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(extra_env or {})}
    try:
        run_in_kernel(nb, folder, env, timeout, allow_errors=not stop_on_error)
    except Exception:  # noqa: BLE001 - CellExecutionError when stopping at the first error: the outputs tell
        if not stop_on_error:
            raise
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        graded = bool(meta.get("grade")) and not meta.get("solution")
        run = CellRun(grade_id=meta.get("grade_id", f"cell {i}"), graded=graded,
                      points=float(meta.get("points", 0) or 0))
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and run.error is None:
                run.error = f"{out.get('ename')}: {out.get('evalue')}"
            elif out.get("output_type") == "stream" and out.get("name") == "stdout":
                run.stdout += out.get("text", "")
            elif REPORT_MIME in out.get("data", {}):
                report = parse(out["data"][REPORT_MIME])
                if report is not None:
                    run.reports.append(report)
        cells.append(run)
    return NotebookRun(cells, nb)


def checks_of(run: CellRun) -> list[Report]:
    "The check reports of a cell (without the end marker)."
    return [r for r in run.reports if not r.done]
