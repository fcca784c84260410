"""`tinytorch release [MODULE|all]`: the student version of modules, in the grading course folder.

Written to `COURSE/release/NN_name/` (solutions replaced by stubs, hidden tests removed), which is
where `nbgrader release_assignment` looks when the course uses an nbgrader exchange, and what an
instructor uploads to an LMS. (The whole student tree, with a package exported from the releases,
is `tinytorch student DEST`.)
"""
from pathlib import Path

from .layout import find_module, list_modules
from .nbgrader_runner import prepare_course_dir, release_modules


def release(root, which: str, course_dir) -> list[Path]:
    "Release one module ('03') or every module ('all'); return the release folders."
    course = prepare_course_dir(course_dir)
    modules = [m for m in list_modules(root) if m.notebook.is_file()] if which == "all" else [find_module(root, which)]
    return release_modules(modules, course / "release")
