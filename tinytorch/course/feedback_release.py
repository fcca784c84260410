"""`tinytorch release-feedback 01 --exchange ROOT`: the graded feedback back to learners through the exchange.

nbgrader's `release_feedback` files each learner's feedback page in the exchange under a hash of
the submission's secret, and the learner's Assignments tab finds it with the same secret from
their own copy of the submission. It reads that secret (and the submission's timestamp) from
`COURSE/feedback/ID/MODULE/`, where nbgrader's own `generate_feedback` leaves them; the feedback
folders `tinytorch grade` writes may lack them. So this step first completes each feedback folder
with the secret and timestamp of the submission that was graded (`autograded/`, else
`submitted/`), never replacing one that is there, then runs nbgrader's release_feedback.
"""
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .layout import CourseError, Module
from .nbgrader_runner import exchange_folder, run_nbgrader

SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")  # what nbgrader's exchange matches feedback by


@dataclass
class FeedbackRelease:
    released: list = field(default_factory=list)   # learners whose feedback went to the exchange
    skipped: dict = field(default_factory=dict)    # learner -> why not

    def __str__(self) -> str:
        lines = [f"Feedback released to the exchange for {len(self.released)} learner(s): "
                 f"{', '.join(self.released) or '-'}"]
        lines += [f"  not released for {who}: {why}" for who, why in sorted(self.skipped.items())]
        return "\n".join(lines)


def complete_feedback_folders(course_dir, module: Module) -> FeedbackRelease:
    "Give every learner's feedback folder of `module` the graded submission's secret and timestamp."
    course = Path(course_dir)
    report = FeedbackRelease()
    feedback_root = course / "feedback"
    learners = (sorted(p.name for p in feedback_root.iterdir() if (p / module.id).is_dir())
                if feedback_root.is_dir() else [])
    if not learners:
        raise CourseError(f"no feedback for {module.id} in {feedback_root}: "
                          f"run `tinytorch grade {module.number}` first")
    for learner in learners:
        feedback = feedback_root / learner / module.id
        candidates = (course / "autograded" / learner / module.id, course / "submitted" / learner / module.id)
        graded = next((f for f in candidates if all((f / name).is_file() for name in SUBMISSION_FILES)), None)
        missing = [name for name in SUBMISSION_FILES if not (feedback / name).is_file()]
        if missing and graded is None:
            report.skipped[learner] = ("the submission has no submission_secret.txt "
                                       "(it did not come through the exchange; send the feedback page itself)")
            continue
        for name in missing:
            shutil.copy2(graded / name, feedback / name)
        report.released.append(learner)
    return report


def release_feedback(course_dir, module: Module, exchange_root) -> FeedbackRelease:
    "Complete the feedback folders, then `nbgrader release_feedback` for the learners that can receive it."
    root = exchange_folder(exchange_root)
    report = complete_feedback_folders(course_dir, module)
    if report.released:
        # One nbgrader run; those without a secret are excluded (nbgrader would stop at the first of them).
        run_nbgrader(course_dir, "release_feedback", module.id, f"--Exchange.root={root.resolve()}",
                     f"--CourseDirectory.student_id_exclude={','.join(sorted(report.skipped))}")
    return report
