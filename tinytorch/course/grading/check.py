"""Check each collected submission before anything runs: read and rebuild its notebooks
(submissions.py, the checker `handin` uses too), list what it holds that the module does not,
and flag code worth a review. One unreadable file is that submission's problem only."""
from dataclasses import dataclass, field

from ..submissions import check_notebook, submission_hash
from .layout import CourseFolder
from .prepare import Assignment


@dataclass
class Submission:
    student: str
    hash: str                                     # of every file, to know whether it changed
    notebooks: list = field(default_factory=list)  # [CheckedNotebook], one per notebook of the module
    notes: list = field(default_factory=list)      # sentences for the learner
    flags: dict = field(default_factory=dict)      # {"notebook:cell": [findings]} for the instructor

    @property
    def runnable(self) -> bool:
        return any(nb.status == "ok" for nb in self.notebooks)


def submitted_students(folder: CourseFolder, assignment_id: str) -> list[str]:
    submitted = folder.submitted(assignment_id)
    if not submitted.is_dir():
        return []
    return sorted(d.name for d in submitted.iterdir() if (d / assignment_id).is_dir())


def check_submission(assignment: Assignment, student: str) -> Submission:
    folder = assignment.folder.submitted(assignment.id, student)
    names = {nb.name for nb in assignment.expected}
    checked = []
    for nb in assignment.expected:
        try:
            checked.append(check_notebook(folder, nb, assignment.withheld))
        except RecursionError:  # JSON nested deeper than Python's parser goes
            from ..submissions import CheckedNotebook
            checked.append(CheckedNotebook(nb.name, "unreadable", notes=[
                f"{nb.name}.ipynb is not a notebook: its JSON is nested too deeply to read; "
                f"its {sum(nb.tests.values()):g} points score 0"]))
    notes = [n for c in checked for n in c.notes]
    extra = sorted(p.name for p in folder.iterdir() if p.name != "timestamp.txt" and (
        p.suffix != ".ipynb" or p.stem not in names))
    if extra:
        notes.append("ignored (not part of the module): " + ", ".join(extra))
    flags = {f"{c.name}:{cell}": found for c in checked for cell, found in c.flags.items()}
    try:
        fingerprint = submission_hash(folder)
    except OSError as e:
        fingerprint = f"unreadable: {e}"
    return Submission(student, fingerprint, checked, notes, flags)
