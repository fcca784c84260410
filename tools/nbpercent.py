"""Author notebooks as plain text, commit them as clean .ipynb.

Editing notebook JSON by hand is error-prone, so course authors may write a module
in jupytext's "percent" format and convert it:

    python tools/nbpercent.py to-ipynb draft.py modules/03_optimizers/optimizers.ipynb
    python tools/nbpercent.py to-py modules/03_optimizers/optimizers.ipynb draft.py

nbgrader metadata goes in the cell header as JSON, for example
``# %% nbgrader={"grade": true, "grade_id": "test_sgd", "locked": true, "points": 2,
"schema_version": 3, "solution": false, "task": false}``.

The .ipynb stays the single source of truth: the .py is a scratch copy, never committed.
Cell ids are deterministic (the nbgrader grade_id, else the cell's position), so that
re-converting an unchanged notebook gives an identical file.
"""
import re
import sys

import jupytext
import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _cell_id(cell, index, seen):
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    base = re.sub(r"[^A-Za-z0-9_-]", "-", grade_id) if grade_id else f"cell-{index:03d}"
    cell_id, n = base[:64], 1
    while cell_id in seen:  # nbformat requires unique ids
        n += 1
        cell_id = f"{base[:60]}-{n}"
    seen.add(cell_id)
    return cell_id


def to_ipynb(py_path, nb_path):
    nb = jupytext.read(py_path, fmt="py:percent")
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    seen = set()
    for i, cell in enumerate(nb.cells):
        cell.id = _cell_id(cell, i, seen)
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
