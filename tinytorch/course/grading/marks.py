"""The marker line that switches the kernel's checks on for a graded test cell.

The grading copy of a module's source notebook gets it first in every graded test cell; nbgrader
stores that copy in the gradebook and restores it into every submission (see kernel.py)."""
from ..notebooks import nbgrader_meta
from .kernel import GUARD_NAME, test_marker


def mark_test_cells(nb):
    "Put the autograder's marker first in every graded test cell of `nb` (in place); return `nb`."
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            if not cell.source.startswith(f"{GUARD_NAME}.enter("):
                cell.source = test_marker(meta["grade_id"]) + "\n" + cell.source
    return nb


def unmark(source: str) -> str:
    "A test cell's source without the marker line (to compare with what learners were given)."
    first, _, rest = source.partition("\n")
    return rest if first.startswith(f"{GUARD_NAME}.enter(") else source
