"""Autograde submissions of one module with nbgrader, and read back the scores.

Each call makes an nbgrader course folder in `work_dir`: the module's source notebooks go to
`source/`, `generate_assignment` records the graded cells in a fresh gradebook, every
submission goes to `submitted/<student>/<module>/`, and one `autograde` run grades them all.
"""
import shutil
from pathlib import Path

from .nbgrader_runner import prepare_course_dir, run_nbgrader

IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")


def autograde(module_dir, assignment_id: str, submissions: dict, work_dir, timeout=None) -> dict:
    """Grade `submissions` ({student_id: folder holding that student's notebooks}).

    Returns {student_id: {grade_id: score, ..., "total": score}} over every graded cell of
    every notebook of the module (a missing notebook scores zero on its cells).
    """
    course = prepare_course_dir(work_dir)
    shutil.copytree(module_dir, course / "source" / assignment_id, ignore=IGNORED, dirs_exist_ok=True)
    run_nbgrader(course, "generate_assignment", assignment_id, "--force", timeout=timeout)
    for student_id, folder in submissions.items():
        target = course / "submitted" / student_id / assignment_id
        shutil.copytree(folder, target, ignore=IGNORED, dirs_exist_ok=True)
    run_nbgrader(course, "autograde", assignment_id, "--force", timeout=timeout)
    return read_scores(course, assignment_id, list(submissions))


def read_scores(course_dir, assignment_id: str, student_ids) -> dict:
    "Per-cell scores of each student's submission, from the gradebook of `course_dir`."
    from nbgrader.api import Gradebook, MissingEntry

    db_url = f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"
    scores = {}
    with Gradebook(db_url) as gb:
        assignment = gb.find_assignment(assignment_id)
        for student_id in student_ids:
            cells = {}
            for notebook in assignment.notebooks:
                try:
                    submitted = gb.find_submission_notebook(notebook.name, assignment_id, student_id)
                except MissingEntry:
                    cells.update({cell.name: 0.0 for cell in notebook.grade_cells})
                    continue
                cells.update({grade.name: float(grade.score) for grade in submitted.grades})
            cells["total"] = sum(cells.values())
            scores[student_id] = cells
    return scores
