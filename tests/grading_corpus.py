"""Build module 01 submissions for the grading tests from the corpus in tests/cheating/ (see its README)."""
import re
from pathlib import Path

import nbformat

from tinytorch.course.notebooks import cells_by_grade_id, nbgrader_meta

CORPUS = Path(__file__).with_name("cheating")
HEADER = re.compile(r"^# (target|why): (.*)$", re.M)
STEP = re.compile(r"^# %% (replace|after|markdown|delete|duplicate): (\w+)\n", re.M)


def load_case(path: Path) -> dict:
    text = path.read_text()
    header = dict(HEADER.findall(text.split("# %%", 1)[0]))
    target = header.get("target", "none").strip()
    steps, pieces = [], STEP.split(text)
    for i in range(1, len(pieces), 3):
        steps.append((pieces[i], pieces[i + 1], pieces[i + 2].rstrip("\n")))
    return {"name": path.stem, "why": header.get("why", ""), "steps": steps,
            "targets": [] if target == "none" else [t.strip() for t in target.split(",")]}


def cases(kind: str) -> list[dict]:
    folder = CORPUS if kind == "cheating" else CORPUS / kind  # cheating, broken or hostile
    return [load_case(p) for p in sorted(folder.glob("*.py")) if p.name != "conftest.py"]


def apply_case(nb, case: dict):
    "A copy of `nb` changed as the case says."
    nb = nbformat.from_dict(nbformat.from_dict(nb))
    for action, grade_id, source in case["steps"]:
        index = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") == grade_id)
        if action == "replace":
            nb.cells[index].source = source
        elif action == "after":
            nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
        elif action == "markdown":
            nb.cells.insert(index + 1, nbformat.v4.new_markdown_cell(source))
        elif action == "delete":
            del nb.cells[index]
        elif action == "duplicate":
            copy = nbformat.from_dict(nbformat.from_dict(nb.cells[index]))
            copy.id = f"{copy.get('id', 'cell')}-copy"
            nb.cells.insert(index, copy)
    return nb


def expected_scores(points: dict, targets) -> dict:
    "{grade_id: score}: full points except zero on the targets."
    return {gid: (0.0 if gid in targets else pts) for gid, pts in points.items()}


def graded_points(nb) -> dict:
    return {gid: float(nbgrader_meta(c)["points"]) for gid, c in cells_by_grade_id(nb).items()
            if nbgrader_meta(c).get("grade")}
