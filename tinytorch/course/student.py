"""Build the student tree from the instructor tree.

The student tree is what learners get (`tinytorch publish` makes it a repository of its own, which
Binder builds): every module notebook in its nbgrader release form (solutions replaced by stubs,
hidden tests gone), and a `tinytorch/core` exported from *those* notebooks, so `import tinytorch`
gives the learner's own code. Only an allowlist of files is copied: tests, tools, git history and anything
else that might hold a solution stay behind.
"""
import json
import shutil
from pathlib import Path

from .export import export_tree
from .layout import STUDENT_MARKER, CourseError, is_student_tree, list_modules
from .nbgrader_runner import release_modules

# What a learner's tree is made of, besides the released notebooks.
STUDENT_FILES = ["README.md", "LICENSE", "settings.ini", "pyproject.toml", "_quarto.yml", "binder", "tinytorch"]
# Never copied, even inside an allowed folder.
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")


def _clear_generated_package(root: Path) -> None:
    "Remove the exported reference modules, so no reference code survives a failed export."
    for generated in (root / "tinytorch" / "core").glob("*.py"):
        if generated.name != "__init__.py":
            generated.unlink()


def _write_marker(dest_root: Path, released: list[str]) -> None:
    from .handin import released_cells  # `tinytorch handin` checks a learner's notebooks against these
    marker = {"kind": "tinytorch student tree", "modules": released,
              "graded_cells": {m: released_cells(dest_root / "modules" / m) for m in released}}
    (dest_root / STUDENT_MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def build_student_tree(source_root, dest) -> Path:
    "Make a new student tree at `dest` (which must not exist or be empty) from the instructor tree."
    source_root, dest = Path(source_root).resolve(), Path(dest).resolve()
    if is_student_tree(source_root):
        raise CourseError(f"{source_root} is already a student tree; build from the instructor tree")
    if dest.exists() and any(dest.iterdir()):
        raise CourseError(f"{dest} is not empty; choose a new folder (a learner's work is never overwritten)")
    if dest == source_root or source_root / "modules" in (dest, *dest.parents):
        raise CourseError(f"cannot build the student tree over the course or inside its modules/: {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    for name in STUDENT_FILES:
        src = source_root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORED)
        elif src.is_file():
            shutil.copy2(src, dest / name)
    _clear_generated_package(dest)
    released = [folder.name for folder in release_modules(list_modules(source_root), dest / "modules")]
    export_tree(dest)
    _write_marker(dest, released)
    return dest
