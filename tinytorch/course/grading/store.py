"""Keep what grading produced: results/<module>/<learner>.json, the course gradebook, the
autograded notebooks and the feedback pages (an earlier page that changes goes to feedback_history/).
Each learner's result is stored as soon as it arrives, atomically: a crash loses nothing graded."""
import hashlib
import html
import json
import shutil
import time
import warnings
from pathlib import Path

from .layout import CourseFolder
from .prepare import Assignment
from .result import GradeResult, Status


def load_results(assignment_id: str, course_dir) -> dict:
    "{student: GradeResult} of every learner graded so far."
    folder = CourseFolder.at(course_dir).results(assignment_id)
    results = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        results[path.stem] = GradeResult.from_json(json.loads(path.read_text()))
    return results


def save_result(assignment: Assignment, result: GradeResult) -> None:
    path = assignment.folder.results(assignment.id) / f"{result.student}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.to_json(), indent=1, sort_keys=True))
    tmp.replace(path)


def merge_into_gradebook(assignment: Assignment, result: GradeResult) -> None:
    "Write a learner's automatic scores into the course gradebook (manual scores are kept)."
    from nbgrader.api import Gradebook
    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own SQLAlchemy noise
    with Gradebook(assignment.folder.db_url) as gb:
        gb.update_or_create_student(result.student)
        gb.update_or_create_submission(assignment.id, result.student)
        for nb in assignment.expected:
            submitted = gb.find_submission_notebook(nb.name, assignment.id, result.student)
            for grade in submitted.grades:
                grade.auto_score = float(result.cells.get(nb.name, {}).get(grade.name, 0.0))
                grade.needs_manual_grade = False
        gb.db.commit()


def _hash_tree(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def replace_folder(src: Path, dest: Path, history: Path | None = None) -> None:
    "Put `src` at `dest`; when `history` is given, an earlier `dest` that differs is moved there first."
    if dest.exists():
        if history is not None and _hash_tree(dest) != (_hash_tree(src) if src.exists() else ""):
            history.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(dest), str(history))
        else:
            shutil.rmtree(dest)
    if src.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dest)


def write_plain_feedback(path: Path, student: str, assignment: Assignment, name: str, notes: list) -> None:
    "Feedback for a notebook nbgrader could not run (missing, empty, not JSON): the reasons and the zeros."
    expected = next(nb for nb in assignment.expected if nb.name == name)
    rows = "".join(f"<tr><td>{html.escape(gid)}</td><td>0 / {pts:g}</td></tr>" for gid, pts in expected.tests.items())
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    title = html.escape(name)
    path.write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} feedback</title></head>
<body><h1>{html.escape(assignment.id)}: {html.escape(name)}.ipynb</h1><p>Learner: {html.escape(student)}</p>
<h2>Notes from the autograder</h2><ul>{items}</ul>
<h2>Score: 0 / {sum(expected.tests.values()):g}</h2><table><tr><th>test</th><th>score</th></tr>{rows}</table>
</body></html>
""")


def store(assignment: Assignment, result: GradeResult, checked: list, worker_folder: Path | None) -> None:
    """Everything one learner's grading produced, in the course folder: gradebook, autograded
    notebooks, feedback (nbgrader's pages, or a plain page for a notebook nbgrader could not run), result."""
    folder, student = assignment.folder, result.student
    merge_into_gradebook(assignment, result)
    graded = worker_folder is not None and result.status is Status.GRADED
    if graded:
        replace_folder(worker_folder / "autograded" / student / assignment.id,
                       folder.autograded(assignment.id, student))
        new_feedback = worker_folder / "feedback" / student / assignment.id
    else:
        new_feedback = folder.plain_feedback(assignment.id, student)
        if new_feedback.exists():
            shutil.rmtree(new_feedback)
    for notebook in checked:
        if notebook.status != "ok" or not graded:
            write_plain_feedback(new_feedback / f"{notebook.name}.html", student, assignment, notebook.name,
                                 notebook.notes if graded else result.notes)
    history = folder.feedback_history(assignment.id, student, time.strftime("%Y%m%d-%H%M%S"))
    replace_folder(new_feedback, folder.feedback(assignment.id, student), history)
    save_result(assignment, result)
