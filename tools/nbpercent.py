"""Author notebooks as plain text, commit them as clean .ipynb.

Editing notebook JSON by hand is error-prone, so course authors may write a module
in jupytext's "percent" format and convert it:

    python tools/nbpercent.py to-ipynb draft.py modules/03_optimizers/optimizers.ipynb
    python tools/nbpercent.py to-py modules/03_optimizers/optimizers.ipynb draft.py

nbgrader metadata goes in the cell header as JSON, for example
``# %% nbgrader={"grade": true, "grade_id": "test_sgd", "locked": true, "points": 2,
"schema_version": 3, "solution": false, "task": false}``.

The .ipynb stays the single source of truth: the .py is a scratch copy, never committed.
Cell ids stay stable across edits: converting over an existing notebook keeps the id of
every cell it can match (same grade_id, else same source); nbgrader cells are named after
their grade_id, and new plain cells get a fresh random id.
"""
import re
import sys
import uuid
from pathlib import Path

import jupytext
import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _existing_ids(nb_path):
    "{grade_id or source: id} of the notebook being replaced, so unchanged cells keep their ids."
    if not Path(nb_path).exists():
        return {}
    old = nbformat.read(nb_path, as_version=4)
    ids = {cell.source: cell.id for cell in old.cells}
    ids.update({("grade_id", g): cell.id for cell in old.cells
                if (g := cell.metadata.get("nbgrader", {}).get("grade_id"))})
    return ids


def _cell_id(cell, existing, seen):
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    if grade_id:
        candidate = existing.get(("grade_id", grade_id), re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)[:64])
    else:
        candidate = existing.get(cell.source) or f"cell-{uuid.uuid4().hex[:8]}"
    while candidate in seen:  # nbformat requires unique ids (two identical plain cells, say)
        candidate = f"cell-{uuid.uuid4().hex[:8]}"
    seen.add(candidate)
    return candidate


def to_ipynb(py_path, nb_path):
    existing = _existing_ids(nb_path)
    nb = jupytext.read(py_path, fmt="py:percent")
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    seen = set()
    for cell in nb.cells:
        cell.id = _cell_id(cell, existing, seen)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    nbformat.write(nb, nb_path)


def to_py(nb_path, py_path):
    nb = nbformat.read(nb_path, as_version=4)
    nb.metadata["jupytext"] = {"cell_metadata_filter": "nbgrader,-all", "notebook_metadata_filter": "-all"}
    jupytext.write(nb, py_path, fmt="py:percent")


if __name__ == "__main__":
    commands = {"to-ipynb": to_ipynb, "to-py": to_py}
    if len(sys.argv) != 4 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2], sys.argv[3])
