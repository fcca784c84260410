"""Execute a notebook top to bottom in a fresh kernel and say which graded cells failed."""
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient


@dataclass
class CellResult:
    grade_id: str
    points: float
    kind: str          # "test" (graded, locked), "solution" (an exercise) or "code"
    error: str | None  # "NotImplementedError: ..." or None when the cell ran cleanly


def _error_of(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"
    return None


def _kind(meta: dict) -> str:
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    return "solution" if meta.get("solution") else "code"


def run_in_kernel(nb, folder, extra_env=None, timeout=120, allow_errors=True):
    """Execute `nb` in place (outputs filled in) in a fresh python3 kernel working in `folder`, with
    `extra_env` added to the environment. With allow_errors=False, stops at the first error (nbclient's
    CellExecutionError)."""
    env = {**os.environ, "TINYTORCH_NO_EXPORT": "1", **(extra_env or {})}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    return nb


def execute_notebook(path, extra_env=None, timeout=120):
    """Run the notebook at `path` (in its own folder, errors allowed) and return (notebook, results).

    `extra_env` is added to the kernel's environment, e.g. a PYTHONPATH that makes
    `import tinytorch` find a student tree's package.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    run_in_kernel(nb, path.parent, extra_env, timeout)
    results = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        results.append(CellResult(grade_id=meta.get("grade_id", f"cell {i}"), points=float(meta.get("points", 0) or 0),
                                  kind=_kind(meta), error=_error_of(cell)))
    return nb, results
