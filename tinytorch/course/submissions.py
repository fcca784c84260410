"""Read a learner's submitted notebooks and make them safe for nbgrader, saying what was wrong.

nbgrader stops on a notebook it can't read (not JSON, empty, odd metadata) and treats a
deleted or duplicated test cell in its own way without telling the learner. Here every
submitted notebook is rebuilt cell by cell from what it contains (sources and nbgrader
metadata only), its graded cells are checked against the course's, and each problem becomes
a sentence for the learner's feedback. The learner's file itself is never changed.
"""
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from .integrity import scan_cells, unmark
from .notebooks import nbgrader_meta

MAKERS = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}


@dataclass
class ExpectedNotebook:
    "What the course's notebook holds: the grading source, from which a submission is checked."
    name: str                      # "tensor" for tensor.ipynb
    source: nbformat.NotebookNode  # the grading copy (marked test cells, hidden tests included)
    released_tests: dict           # {grade_id: test source as learners received it}

    @property
    def cells(self) -> dict:
        return {nbgrader_meta(c)["grade_id"]: c for c in self.source.cells if nbgrader_meta(c).get("grade_id")}

    @property
    def tests(self) -> dict:
        "{grade_id: points} of the graded cells, in notebook order."
        return {gid: float(nbgrader_meta(c).get("points", 0)) for gid, c in self.cells.items()
                if nbgrader_meta(c).get("grade")}


@dataclass
class CheckedNotebook:
    name: str
    status: str                    # "ok", "missing" or "unreadable"
    notebook: nbformat.NotebookNode | None = None
    notes: list = field(default_factory=list)
    flags: dict = field(default_factory=dict)


def _read(path: Path):
    "The notebook at `path`, or (None, reason) when it can't be graded at all."
    data = path.read_bytes()
    if not data.strip():
        return None, f"{path.name} is empty"
    try:
        raw = json.loads(data.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as e:
        return None, f"{path.name} is not a notebook: it is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, f"{path.name} is valid JSON but not a Jupyter notebook (it has no list of cells)"
    return raw, None


def _source_text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source or "")


def rebuild(raw: dict, expected: ExpectedNotebook):
    "A clean nbformat-4 notebook from the cells of `raw`, with nbgrader metadata checked; and the notes."
    known = expected.cells
    notes, cells, seen = [], [], {}
    for index, cell in enumerate(raw["cells"]):
        if not isinstance(cell, dict):
            notes.append(f"cell {index + 1} is not a notebook cell and was left out")
            continue
        kind = cell.get("cell_type") if cell.get("cell_type") in MAKERS else "code"
        new = MAKERS[kind](_source_text(cell.get("source", "")))
        meta = (cell.get("metadata") or {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id in known:
            new.metadata["nbgrader"] = json.loads(json.dumps(nbgrader_meta(known[grade_id])))
            seen.setdefault(grade_id, []).append(new)
        elif meta:
            notes.append(f"cell {index + 1} carried grading metadata that is not part of the course "
                         f"(grade id {grade_id!r}); it was run as an ordinary cell")
        cells.append(new)
    nb = new_notebook(cells=cells, metadata={k: v for k, v in expected.source.metadata.items()
                                             if k in ("kernelspec", "language_info")})
    for grade_id, copies in seen.items():
        if len(copies) > 1:
            # nbgrader would blank the earlier copies' metadata and then refuse the notebook: do it cleanly
            for copy in copies[:-1]:
                del copy.metadata["nbgrader"]
            notes.append(f"cell {grade_id} appears {len(copies)} times; only the last copy is graded")
        last = copies[-1]
        released = expected.released_tests.get(grade_id)
        if released is not None and last.source.strip() != released.strip():
            notes.append(f"test cell {grade_id} had been changed; the autograder ran the original test")
    for grade_id, cell in known.items():
        if grade_id in seen:
            continue
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            notes.append(f"test cell {grade_id} was deleted from the notebook: it scores 0 of "
                         f"{float(meta.get('points', 0)):g} points")
        elif meta.get("solution"):
            notes.append(f"exercise cell {grade_id} was deleted from the notebook; the tests that need it fail")
    return nb, notes


def check_notebook(folder: Path, expected: ExpectedNotebook, graded_modules=()) -> CheckedNotebook:
    "Find, read and rebuild `expected.name`.ipynb in a learner's submission folder."
    path = folder / f"{expected.name}.ipynb"
    if not path.is_file():
        return CheckedNotebook(expected.name, "missing", notes=[
            f"{expected.name}.ipynb is missing from the submission: its {sum(expected.tests.values()):g} points score 0"])
    raw, problem = _read(path)
    if raw is None:
        return CheckedNotebook(expected.name, "unreadable",
                               notes=[f"{problem}: its {sum(expected.tests.values()):g} points score 0"])
    nb, notes = rebuild(raw, expected)
    flags = {}
    for module in graded_modules or [""]:
        for cell, found in scan_cells(nb, module).items():
            flags.setdefault(cell, [])
            flags[cell] = sorted(set(flags[cell]) | set(found))
    return CheckedNotebook(expected.name, "ok", nb, notes, flags)


def submission_hash(folder: Path) -> str:
    "A fingerprint of every file of a submission, to know whether it changed since it was graded."
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
