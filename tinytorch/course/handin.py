"""`tinytorch handin [MODULE|all] --student ID`: pack a learner's notebooks into one zip for the LMS.

Before packing, each notebook is checked the way the autograder will read it: valid JSON, a
notebook, every graded cell of the released module still there (the student tree records
their ids in `.tinytorch-student.json`), test cells unchanged. Problems are printed as clear
warnings; the zip is still written (a partial hand-in beats none), and the learner can fix
and hand in again. The zip holds `NN_name/name.ipynb` for each module plus `handin.json`
(student id, modules, time), which `tinytorch collect` reads.
"""
import json
import re
import time
import zipfile
from pathlib import Path

from .layout import STUDENT_MARKER, CourseError, find_module, list_modules
from .notebooks import nbgrader_meta

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MANIFEST = "handin.json"


def check_student_id(student_id: str) -> str:
    if not student_id or not STUDENT_ID.match(student_id):
        raise CourseError(f"student id {student_id!r} is not usable: use letters, digits, '.', '_' or '-' "
                          "(at most 64, starting with a letter or digit), e.g. your university login")
    return student_id


def graded_cells_of(root, module) -> dict:
    "{grade_id: checksum or None} of the graded and exercise cells the learner received."
    marker = Path(root) / STUDENT_MARKER
    if marker.is_file():
        recorded = json.loads(marker.read_text()).get("graded_cells", {}).get(module.id)
        if recorded:
            return recorded
    return {}


def released_cells(folder) -> dict:
    "{grade_id: checksum} of every nbgrader cell in the released notebooks of `folder` (for the student tree's marker)."
    import nbformat
    cells = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade_id"):
                cells[meta["grade_id"]] = meta.get("checksum")
    return cells


def check_handin_notebook(path: Path, expected: dict) -> list[str]:
    "Warnings about one notebook (empty list: it will grade normally)."
    if not path.is_file():
        return [f"{path.name} is missing: nothing of this module can be graded"]
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return [f"{path.name} is not valid JSON ({e}); the autograder cannot read it. Restore it from a "
                "checkpoint (File > Revert) or a copy before handing in"]
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return [f"{path.name} is JSON but not a notebook; the autograder cannot read it"]
    from nbgrader.utils import compute_checksum
    import nbformat
    nb = nbformat.from_dict(raw)
    for cell in nb.cells:  # on disk a source may be a list of lines; checksums need the text
        if isinstance(cell.get("source"), list):
            cell.source = "".join(cell.source)
    warnings, seen = [], {}
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id") if isinstance(cell.get("metadata"), dict) else None
        if grade_id:
            seen[grade_id] = seen.get(grade_id, 0) + 1
            meta = nbgrader_meta(cell)
            checksum = expected.get(grade_id) or meta.get("checksum")
            if checksum and meta.get("locked") and "source" in cell:
                try:
                    if compute_checksum(cell) != checksum:
                        warnings.append(f"{path.name}: test cell {grade_id} was changed; the autograder runs "
                                        "the original, so your changes there have no effect")
                except (KeyError, ValueError, TypeError):
                    pass
    if not seen:
        warnings.append(f"{path.name} has no graded cells left: was the grading metadata removed? "
                        "Nothing in it can be graded")
    for grade_id in expected:
        if grade_id not in seen:
            warnings.append(f"{path.name}: cell {grade_id} was deleted; its points score 0. Copy it back "
                            "from a fresh copy of the module")
    for grade_id, count in seen.items():
        if count > 1:
            warnings.append(f"{path.name}: cell {grade_id} appears {count} times; only the last copy is graded")
    return warnings


def handin(root, which: str, student_id: str, dest=None, out=print) -> Path:
    """Write `<ID>_<module|all>.zip` (into `dest`, default the course root); return its path."""
    root = Path(root)
    check_student_id(student_id)
    modules = list_modules(root) if which == "all" else [find_module(root, which)]
    modules = [m for m in modules if m.notebook.is_file()]
    if not modules:
        raise CourseError(f"no module notebook found in {root / 'modules'}")
    label = "all" if which == "all" else modules[0].id
    dest = Path(dest or root)
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / f"{student_id}_{label}.zip"
    problems = 0
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for module in modules:
            warnings = check_handin_notebook(module.notebook, graded_cells_of(root, module))
            for warning in warnings:
                out(f"WARNING {module.id}: {warning}")
            problems += len(warnings)
            zf.write(module.notebook, f"{module.id}/{module.notebook.name}")
        zf.writestr(MANIFEST, json.dumps({"student": student_id, "modules": [m.id for m in modules],
                                          "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=1))
    verdict = "ready to upload" if not problems else f"written, but read the {problems} warning(s) above first"
    out(f"{archive} ({', '.join(m.id for m in modules)}): {verdict}")
    return archive
