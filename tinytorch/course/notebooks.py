"""Reading nbgrader notebooks: which cells are exercises and tests, and what their solutions are."""
import re

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def cells_by_grade_id(nb) -> dict:
    "{grade_id: cell} for every nbgrader cell of the notebook."
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("grade_id")}


def marked_regions(source: str, begin: str, end: str) -> list[str]:
    "The text strictly between each begin/end marker pair (markers matched on their own lines)."
    pattern = re.compile(rf"^[ \t]*{re.escape(begin)}[^\n]*\n(.*?)^[ \t]*{re.escape(end)}", re.S | re.M)
    return pattern.findall(source)


def fill_solutions(release_nb, source_nb):
    """A copy of the released notebook with every solution cell's source taken from the
    instructor's notebook: what a learner who solved everything would hand in."""
    filled = nbformat.from_dict(release_nb)
    solutions = {gid: cell for gid, cell in cells_by_grade_id(source_nb).items() if nbgrader_meta(cell).get("solution")}
    for cell in filled.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id].source
    return filled
