"""Run nbgrader commands in a course directory of our own making.

nbgrader expects `{root}/source/{assignment}/{notebook}.ipynb`; our notebooks live in
`modules/`. Rather than bend the repository to nbgrader, each command runs in an nbgrader
course folder whose `nbgrader_config.py` is the repository's own, so every tool in the
chain (student tree, autograde, formgrader) uses the same settings.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .layout import INSTRUCTOR_ONLY, CourseError

# The one nbgrader configuration of the course, shipped inside the package so that a
# grading machine with only `pip install tinytorch` has it too.
CONFIG = Path(__file__).with_name("nbgrader_config.py")


def prepare_course_dir(course_dir) -> Path:
    "Make `course_dir` an nbgrader course folder using the course configuration."
    course_dir = Path(course_dir)
    course_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CONFIG, course_dir / "nbgrader_config.py")
    return course_dir


def exchange_folder(exchange_root) -> Path:
    "The nbgrader exchange folder at `exchange_root` (collect and release-feedback use it); CourseError if none."
    root = Path(exchange_root)
    if not root.is_dir():
        raise CourseError(f"no nbgrader exchange at {root}")
    return root


def run_nbgrader(course_dir, *args, timeout=None) -> subprocess.CompletedProcess:
    "Run `nbgrader ARGS` in `course_dir`; raise CourseError with nbgrader's log when it fails."
    env = dict(os.environ)
    # nbgrader runs `alembic` as a subprocess: the interpreter's bin folder must be on PATH.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={Path(course_dir).resolve()}"]
    proc = subprocess.run(cmd, cwd=course_dir, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise CourseError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def _copy_source(course: Path, module_dir, assignment_id: str) -> None:
    "Put a module's folder (without the instructor-only files) into the course as nbgrader's source/<id>/."
    source = course / "source" / assignment_id
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(module_dir, source,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", *INSTRUCTOR_ONLY))


def release_notebooks(module_dir, assignment_id: str, work_dir) -> Path:
    """The student version of one module: solutions replaced by stubs, hidden tests removed.

    Returns the folder holding the released notebooks. No gradebook is written (`--no-db`):
    the student tree needs none; grading makes its own.
    """
    course = prepare_course_dir(work_dir)
    _copy_source(course, module_dir, assignment_id)
    run_nbgrader(course, "generate_assignment", assignment_id, "--no-db", "--force")
    return course / "release" / assignment_id


def release_modules(modules, target_parent) -> list[Path]:
    """Release each module into `target_parent/<module id>/` (replacing what was there); return those folders.

    All modules go through one `nbgrader generate_assignment` run (the assignment id is a glob that
    matches each of them), as `release_notebooks` would release them one by one: nbgrader's start-up
    costs seconds, its work on a notebook a fraction of that."""
    written = []
    for module in modules:
        if not module.notebook.is_file():
            raise CourseError(f"module {module.id} has no notebook: expected {module.notebook}")
    with tempfile.TemporaryDirectory(prefix="tinytorch-release-") as work:
        course = prepare_course_dir(work)
        for module in modules:
            _copy_source(course, module.dir, module.id)
        if modules:
            run_nbgrader(course, "generate_assignment", "*", "--no-db", "--force")
        for module in modules:
            released = course / "release" / module.id
            if not released.is_dir():
                raise CourseError(f"nbgrader released nothing for module {module.id} (expected {released})")
            target = Path(target_parent) / module.id
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(released, target)
            written.append(target)
    return written
