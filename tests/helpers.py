"Shared helpers of the test suite (imported by the tests; pytest puts tests/ on sys.path)."
import os
import shutil
import sys
from pathlib import Path

import nbformat

from tinytorch.course.layout import list_modules
from tinytorch.course.notebooks import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    marked_regions,
    nbgrader_meta,
)

ROOT = Path(__file__).resolve().parent.parent
MODULES = list_modules(ROOT)
MODULE_IDS = [m.id for m in MODULES]


def module_notebooks():
    "(module, notebook path) for every notebook of every module, the main one and any others."
    return [(m, nb) for m in MODULES for nb in sorted(m.dir.glob("*.ipynb"))]


def read_nb(path):
    return nbformat.read(path, as_version=4)


def secret_lines() -> dict[str, str]:
    """{line: why} for every meaningful line that only solutions or hidden tests hold, across all
    source notebooks. A line that also appears (even inside a longer line) in any visible part of
    any notebook, such as given code, a hint or a visible test, is no secret."""
    regions, visible = {}, []
    for module in MODULES:
        for path in sorted(module.dir.glob("*.ipynb")):
            for cell in read_nb(path).cells:
                text = cell.source
                for begin, end, kind in [(BEGIN_SOLUTION, END_SOLUTION, "solution"),
                                         (BEGIN_HIDDEN, END_HIDDEN, "hidden test")]:
                    for region in marked_regions(cell.source, begin, end):
                        text = text.replace(region, "")
                        for line in region.splitlines():
                            regions.setdefault(line.strip(), f"{kind} line of {path.name}")
                visible.append(text)
    visible_text = "\n".join(visible)
    # Short lines and comments ("pass", "else:") are too generic to mean anything.
    return {line: why for line, why in regions.items()
            if len(line) >= 20 and not line.startswith("#") and line not in visible_text}


def kernel_env(tree) -> dict:
    "Environment under which a subprocess or kernel imports the `tinytorch` of `tree`."
    # TINYTORCH_INSTRUCTOR_ROOT: hidden checks run in a student tree (full tests of a filled learner) read their
    # recorded values from this instructor tree.
    return {**os.environ, "PYTHONPATH": str(tree), "TINYTORCH_NO_EXPORT": "1", "TINYTORCH_INSTRUCTOR_ROOT": str(ROOT),
            "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}


def copy_course(dest) -> Path:
    "A copy of the instructor tree's course files (no venv, no git) to run tools on without touching the repo."
    dest = Path(dest)
    for name in ["settings.ini", "pyproject.toml", "README.md"]:
        shutil.copy2(ROOT / name, dest / name)
    for name in ["modules", "tinytorch", "binder"]:
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return dest


def graded_test_cells(nb) -> list:
    return [c for c in nb.cells if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]
