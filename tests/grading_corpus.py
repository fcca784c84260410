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
    "{grade_id: score}: full points except zero on the targets (for submissions that hold no work: all zero)."
    return {gid: (0.0 if gid in targets else pts) for gid, pts in points.items()}


# Cells whose answers are computed with an exercise: module 01's quiz 1 uses memory_bytes, so a case that
# breaks memory_bytes may cost them their points too.
DEPENDS_ON = {"test_memory_bytes": ("test_quiz_10b_fp32", "test_quiz_10b_bf16", "test_quiz_10b_int8")}


def score_problems(scores: dict, points: dict, targets) -> list[str]:
    """What is wrong with the scores of a case (cheat or broken submission) under partial credit: a target
    that kept all its points (the trick worked), or a cell the case does not touch that lost points (the
    case cost more than it breaks). A target may keep the points of checks its wrong code passes honestly."""
    affected = set(targets) | {d for t in targets for d in DEPENDS_ON.get(t, ())}
    problems = []
    for gid, full in points.items():
        got = scores.get(gid)
        if gid in targets and not (got is not None and got < full):
            problems.append(f"{gid} is the case's target but kept {got} of {full} points")
        elif gid not in affected and got != full:
            problems.append(f"{gid} scored {got} of {full}, although the case does not touch it")
    return problems


def graded_points(nb) -> dict:
    return {gid: float(nbgrader_meta(c)["points"]) for gid, c in cells_by_grade_id(nb).items()
            if nbgrader_meta(c).get("grade")}
