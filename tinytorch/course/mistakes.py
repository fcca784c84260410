"""The mistake catalogue: classic learner mistakes, each a small patch of the reference solution.

Each module keeps its own in `modules/NN_name/mistakes.py` (instructor tree only: the patches
quote solution lines) as `MISTAKES = {name: Mistake(...)}`. It is the one source of diagnoses:
`tools/record_checks.py` turns every mistake into fingerprints (what it makes each check produce),
the learner-loop test applies each one to the release and checks that a visible check names it,
and the grading tests check that it loses points in the cells it `catches`.
"""
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .notebooks import cells_by_grade_id


@dataclass(frozen=True)
class Mistake:
    description: str        # what the learner did, in their terms: "the momentum buffer starts at zero"
    edits: tuple            # ((grade_id, search, replace), ...): `search` occurs exactly once in that cell
    catches: tuple          # graded test cells that must lose points
    section: str = ""       # where the notebook explains it: "3.2"
    visible: bool = True    # a visible check must show it (False: only hidden checks can)
    notebook: str = ""      # the notebook it patches, when the module has several ("" = the module's main one)


class StaleMistake(ValueError):
    "A mistake's edit no longer fits the reference (its search text is missing or ambiguous)."


def load_module_file(path: Path, variable: str) -> dict:
    "The dict `variable` of the Python file at `path` (a module's mistakes.py or slips.py); empty if there is no file."
    path = Path(path)
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"_tinytorch_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(getattr(module, variable))


def load_catalogue(path: Path) -> dict[str, Mistake]:
    "MISTAKES of a `mistakes.py` file (empty if there is none)."
    return load_module_file(path, "MISTAKES")


def module_catalogues(root) -> dict[str, dict[str, Mistake]]:
    "{module folder name: {mistake name: Mistake}} for every module of the course with a catalogue."
    found = {}
    for path in sorted(Path(root).glob("modules/*/mistakes.py")):
        found[path.parent.name] = load_catalogue(path)
    return found


def mistakes_for(notebook: Path, catalogue: dict[str, Mistake]) -> dict[str, Mistake]:
    "The mistakes of a catalogue that patch `notebook`."
    main = notebook.parent.name.split("_", 1)[1]
    return {name: m for name, m in catalogue.items() if (m.notebook or main) == notebook.stem}


def apply_mistake(nb, mistake: Mistake, name: str = "?"):
    "A copy of notebook `nb` with the mistake's edits applied; StaleMistake if an edit does not fit."
    patched = nbformat.from_dict(nb)
    cells = cells_by_grade_id(patched)
    for grade_id, search, replace in mistake.edits:
        cell = cells.get(grade_id)
        if cell is None:
            raise StaleMistake(f"mistake {name!r}: the notebook has no cell {grade_id!r}")
        count = cell.source.count(search)
        if count != 1:
            raise StaleMistake(f"mistake {name!r}: {search!r} occurs {count} times in cell {grade_id!r}, expected once")
        cell.source = cell.source.replace(search, replace)
    return patched
