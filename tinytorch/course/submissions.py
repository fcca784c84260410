"""Read a learner's submitted notebooks and make them safe for nbgrader, saying what was wrong.

nbgrader stops on a notebook it can't read (not JSON, empty, odd metadata) and treats a
deleted or duplicated test cell in its own way without telling the learner. Here every
submitted notebook is checked by the checker `tinytorch handin` uses too (notebook_check.py:
each problem is a sentence for the learner's feedback), then rebuilt cell by cell from what it
contains (sources and nbgrader metadata only). The learner's file itself is never changed.
"""
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from .integrity import scan_cells
from .notebook_check import ExpectedCell, check_notebook_file, nbgrader_of, source_digest
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
    def expected_cells(self) -> dict:
        "{grade_id: ExpectedCell} for the shared notebook checker."
        found = {}
        for grade_id, cell in self.cells.items():
            meta = nbgrader_meta(cell)
            kind = "exercise" if meta.get("solution") else "test" if meta.get("grade") else "other"
            released = self.released_tests.get(grade_id)
            found[grade_id] = ExpectedCell(grade_id, kind, float(meta.get("points", 0)) if meta.get("grade") else 0.0,
                                           source_digest(released) if released is not None else None)
        return found

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
    notes: list = field(default_factory=list)     # the problems' messages, for the feedback
    flags: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # notebook_check.Problem of each note (code, fatal, grade_id)


def _source_text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source or "")


def rebuild(raw: dict, expected: ExpectedNotebook) -> nbformat.NotebookNode:
    """A clean nbformat-4 notebook from the cells of `raw`, with the course's nbgrader metadata.

    What was wrong (foreign, duplicated, missing cells) is told by the notebook checker; this
    only builds what nbgrader can run: one copy of each graded cell, the last, and nothing else
    that claims to be graded."""
    known = expected.cells
    cells, seen = [], {}
    for cell in raw["cells"]:
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type") if cell.get("cell_type") in MAKERS else "code"
        new = MAKERS[kind](_source_text(cell.get("source", "")))
        grade_id = nbgrader_of(cell).get("grade_id")
        if isinstance(grade_id, str) and grade_id in known:
            new.metadata["nbgrader"] = json.loads(json.dumps(nbgrader_meta(known[grade_id])))
            seen.setdefault(grade_id, []).append(new)
        cells.append(new)
    for copies in seen.values():
        for copy in copies[:-1]:  # nbgrader would blank the earlier copies' metadata and then refuse
            del copy.metadata["nbgrader"]
    return new_notebook(cells=cells, metadata={k: v for k, v in expected.source.metadata.items()
                                               if k in ("kernelspec", "language_info")})


def check_notebook(folder: Path, expected: ExpectedNotebook, graded_modules=()) -> CheckedNotebook:
    "Find, check (notebook_check) and rebuild `expected.name`.ipynb in a learner's submission folder."
    check = check_notebook_file(Path(folder) / f"{expected.name}.ipynb", expected.expected_cells)
    if not check.gradable:
        missing = any(p.code == "missing" for p in check.problems)
        return CheckedNotebook(expected.name, "missing" if missing else "unreadable", notes=check.messages,
                               problems=check.problems)
    nb = rebuild(check.notebook, expected)
    flags = {}
    for module in graded_modules or [""]:
        for cell, found in scan_cells(nb, module).items():
            flags.setdefault(cell, [])
            flags[cell] = sorted(set(flags[cell]) | set(found))
    return CheckedNotebook(expected.name, "ok", nb, check.messages, flags, check.problems)


def submission_hash(folder: Path) -> str:
    "A fingerprint of every file of a submission, to know whether it changed since it was graded."
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
