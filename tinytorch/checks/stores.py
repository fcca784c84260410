"""Where recorded values live (see docs/checks.md).

* the learner store, `tinytorch/checks/data/<notebook>.json`, ships with the package: expected
  values of visible checks that the notebook leaves out, fingerprints of catalogued mistakes on
  visible checks, quiz hashes;
* the instructor store, `modules/NN_name/<notebook>.checks.json`, exists only in the instructor's
  tree: every check's reference value, hidden ones included, and every mistake's fingerprint.
"""
import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
DATA_ENV = "TINYTORCH_CHECKS_DATA"   # another learner-store folder (the tests of the library use it)


def data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV) or DATA_DIR)
INSTRUCTOR_SUFFIX = ".checks.json"


@dataclass(frozen=True)
class Fingerprint:
    "What a catalogued mistake makes a check produce."
    mistake: str
    description: str
    section: str
    value: object


@dataclass(frozen=True)
class RecordedCheck:
    kind: str
    points: float
    hidden: bool
    options: dict
    expected: object = None
    fingerprints: tuple = ()


@dataclass
class Store:
    "The recorded checks of one notebook: {cell grade_id: {check name: RecordedCheck}}, quizzes, cell points."
    notebook: str
    cells: dict = field(default_factory=dict)
    points: dict = field(default_factory=dict)
    quizzes: dict = field(default_factory=dict)

    def check(self, cell: str, name: str) -> RecordedCheck | None:
        return self.cells.get(cell, {}).get(name)

    @classmethod
    def from_json(cls, notebook: str, data: dict) -> "Store":
        cells = {cell: {name: RecordedCheck(kind=c["kind"], points=c["points"], hidden=c["hidden"],
                                            options=c["options"],
                                            expected=c.get("expected"),
                                            fingerprints=tuple(Fingerprint(**f) for f in c.get("fingerprints", [])))
                        for name, c in checks.items()}
                 for cell, checks in data.get("cells", {}).items()}
        return cls(notebook, cells, dict(data.get("points", {})), dict(data.get("quizzes", {})))

    def to_json(self) -> dict:
        def check(c: RecordedCheck):
            out = {"kind": c.kind, "points": c.points, "hidden": c.hidden, "options": c.options}
            if c.expected is not None:
                out["expected"] = c.expected
            if c.fingerprints:
                out["fingerprints"] = [vars(f) | {} for f in c.fingerprints]
            return out
        return {"notebook": self.notebook, "points": self.points,
                "cells": {cell: {name: check(c) for name, c in checks.items()} for cell, checks in self.cells.items()},
                "quizzes": self.quizzes}


def read_store(path: Path, notebook: str) -> Store | None:
    if not path.is_file():
        return None
    return Store.from_json(notebook, json.loads(path.read_text()))


def write_store(path: Path, store: Store) -> None:
    path.write_text(json.dumps(store.to_json(), indent=1, sort_keys=True, allow_nan=True) + "\n")


@cache
def _learner_store(folder: Path, notebook: str) -> Store | None:
    return read_store(folder / f"{notebook}.json", notebook)


def learner_store(notebook: str) -> Store | None:
    return _learner_store(data_dir(), notebook)


INSTRUCTOR_ROOT_ENV = "TINYTORCH_INSTRUCTOR_ROOT"  # an instructor tree to take stores from (tests of a student tree)


def find_instructor_store(notebook: str, start: Path | None = None) -> Path | None:
    "The instructor store of `notebook` in the course tree around `start` (the working folder), if any."
    start = Path(os.environ.get(INSTRUCTOR_ROOT_ENV) or start or Path.cwd()).resolve()
    for folder in [start, *start.parents]:
        if (folder / "settings.ini").is_file() and (folder / "modules").is_dir():
            found = sorted((folder / "modules").glob(f"*/{notebook}{INSTRUCTOR_SUFFIX}"))
            return found[0] if found else None
    return None


def instructor_store(notebook: str) -> Store | None:
    path = find_instructor_store(notebook)
    try:
        return read_store(path, notebook) if path else None
    except OSError:       # the grading kernel is not allowed to read it: that is the point
        return None
