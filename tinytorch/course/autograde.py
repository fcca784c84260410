"""Autograde submissions of one module and read back the scores: the programmatic entry point.

`autograde(module_dir, assignment_id, {student: folder}, work_dir)` puts each folder's notebooks
into an nbgrader course folder at `work_dir` (`submitted/<student>/<module>/`) and grades them
with the full grading pipeline of `grading/` (sandboxed kernel, reference package by dependency,
parallel workers). It returns the per-cell scores. The instructor command `tinytorch grade` does
the same on collected submissions and also writes the CSV and summary.
"""
import shutil
from pathlib import Path

from .layout import MODULE_DIR, CourseError, Module, find_root

IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")


def _module(module_dir: Path, assignment_id: str) -> Module:
    m = MODULE_DIR.match(module_dir.name)
    if not m:
        raise CourseError(f"{module_dir} is not a module folder (NN_name)")
    return Module(id=assignment_id, number=m.group(1), name=m.group(2), dir=module_dir)


def autograde(module_dir, assignment_id: str, submissions: dict, work_dir, timeout=None, workers=2,
              unsafe_no_sandbox=False) -> dict:
    """Grade `submissions` ({student_id: folder holding that student's notebooks}).

    Returns {student_id: {grade_id: score, ..., "total": score}} over every graded cell of
    every notebook of the module (a missing or unreadable notebook scores zero on its cells).
    `timeout` bounds the seconds spent on one submission.
    """
    from .grading.grade import GradeOptions, grade

    module_dir = Path(module_dir).resolve()
    try:
        root = find_root(module_dir)
    except CourseError:
        root = module_dir.parent
    course = Path(work_dir)
    for student_id, folder in submissions.items():
        target = course / "submitted" / student_id / assignment_id
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(folder, target, ignore=IGNORED)
    options = GradeOptions(workers=workers, students=list(submissions), force=True, progress=False,
                           student_timeout=timeout, unsafe_no_sandbox=unsafe_no_sandbox)
    grade(root, _module(module_dir, assignment_id), course, options, out=lambda *a: None)
    return read_scores(course, assignment_id, list(submissions))


def read_scores(course_dir, assignment_id: str, student_ids) -> dict:
    "Per-cell scores of each student's submission, from the gradebook of `course_dir`, with their total."
    from .grading.report import gradebook_scores

    scores = {}
    for student_id, cells in gradebook_scores(course_dir, assignment_id, student_ids).items():
        flat = {grade_id: score for (_, grade_id), score in cells.items()}
        scores[student_id] = {**flat, "total": sum(flat.values())}
    return scores
