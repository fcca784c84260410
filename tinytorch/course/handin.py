"""`tinytorch handin [MODULE|all] --student ID`: pack a learner's notebooks into one zip for the LMS.

Before packing, each notebook is checked by the checker the autograder uses (notebook_check.py):
valid JSON, a notebook, every graded cell of the released module still there (the student tree
records them in `.tinytorch-student.json`), test cells unchanged. Problems are printed as clear
warnings; the zip is still written (a partial hand-in beats none), and the learner can fix
and hand in again. The zip holds `NN_name/name.ipynb` for every notebook of each module plus
`handin.json` (student id, modules, time), which `tinytorch collect` reads.
"""
import json
import time
import zipfile
from pathlib import Path

from .layout import STUDENT_MARKER, CourseError, find_module, list_modules
from .learner_ids import UnsafeLearnerId, check_learner_id
from .notebook_check import ExpectedCell, check_notebook_file, load_json, nbgrader_of, source_digest

MANIFEST = "handin.json"


def check_student_id(student_id) -> str:
    "The learner's id, NFC-normalised; CourseError naming it when it can't be used (learner_ids.py)."
    try:
        return check_learner_id(student_id)
    except UnsafeLearnerId as e:
        raise CourseError(f"{e}: use letters, digits, '.', '_' or '-' (at most 64, starting with a letter "
                          "or digit), e.g. your university login") from None


def module_notebooks(module) -> list[Path]:
    "Every notebook of a module's folder (module 02 has autograd.ipynb and nn.ipynb), in name order."
    return sorted(module.dir.glob("*.ipynb"))


def _expected_cell(grade_id: str, recorded) -> ExpectedCell:
    "An ExpectedCell from the student tree's marker: {kind, points, checksum, test_sha256}, or an older bare checksum."
    if isinstance(recorded, dict):
        points = recorded.get("points")
        return ExpectedCell(grade_id, str(recorded.get("kind", "")),
                            float(points) if isinstance(points, (int, float)) else None,
                            recorded.get("test_sha256") or None, recorded.get("checksum") or None)
    return ExpectedCell(grade_id, "", None, None, recorded if isinstance(recorded, str) else None)


def graded_cells_of(root, module) -> dict:
    "{notebook name: {grade_id: ExpectedCell}} of the cells the learner received ({} when not recorded)."
    marker = Path(root) / STUDENT_MARKER
    if not marker.is_file():
        return {}
    recorded, _ = load_json(marker.read_bytes(), marker.name)
    recorded = recorded.get("graded_cells") if isinstance(recorded, dict) else None
    recorded = recorded.get(module.id) if isinstance(recorded, dict) else None
    if not isinstance(recorded, dict) or not recorded:
        return {}
    if all(isinstance(v, dict) for v in recorded.values()) and all(
            isinstance(c, dict) for v in recorded.values() for c in v.values()):
        return {nb: {gid: _expected_cell(gid, c) for gid, c in cells.items()} for nb, cells in recorded.items()}
    # A tree made before cells were recorded per notebook: they are those of the module's own notebook.
    return {module.notebook.stem: {gid: _expected_cell(gid, c) for gid, c in recorded.items()}}


def released_cells(folder) -> dict:
    """{notebook name: {grade_id: {kind, points, checksum, test_sha256}}} of every nbgrader cell of
    the released notebooks in `folder`: the student tree's marker keeps it for `tinytorch handin`."""
    import nbformat
    found = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        cells = found.setdefault(path.stem, {})
        for cell in nbformat.read(path, as_version=4).cells:
            meta = nbgrader_of(cell)
            if not meta.get("grade_id"):
                continue
            kind = "exercise" if meta.get("solution") else "test" if meta.get("grade") else "other"
            points = float(meta.get("points", 0)) if meta.get("grade") else 0.0
            cells[meta["grade_id"]] = {"kind": kind, "points": points,
                                       "checksum": meta.get("checksum"),
                                       "test_sha256": source_digest(cell.source) if kind == "test" else None}
    return found


def check_handin_notebook(path: Path, expected: dict | None) -> list[str]:
    """Warnings about one notebook (empty list: it will grade normally). `expected`: {grade_id:
    ExpectedCell} (or an older {grade_id: checksum}); None when the tree does not record them."""
    if expected is not None:
        expected = {gid: c if isinstance(c, ExpectedCell) else _expected_cell(gid, c) for gid, c in expected.items()}
    return check_notebook_file(path, expected).messages


def handin(root, which: str, student_id: str, dest=None, out=print) -> Path:
    """Write `<ID>_<module|all>.zip` (into `dest`, default the course root); return its path."""
    root = Path(root)
    student_id = check_student_id(student_id)
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
            expected = graded_cells_of(root, module)
            for notebook in module_notebooks(module):
                warnings = check_handin_notebook(notebook, expected.get(notebook.stem))
                for warning in warnings:
                    out(f"WARNING {module.id}: {warning}")
                problems += len(warnings)
                zf.write(notebook, f"{module.id}/{notebook.name}")
        zf.writestr(MANIFEST, json.dumps({"student": student_id, "modules": [m.id for m in modules],
                                          "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=1))
    verdict = "ready to upload" if not problems else f"written, but read the {problems} warning(s) above first"
    out(f"{archive} ({', '.join(m.id for m in modules)}): {verdict}")
    return archive
