"""Where everything is in a grading course folder: one object, as nbgrader's CourseDirectory.

    grading/
      nbgrader_config.py               the course configuration
      gradebook.db                     nbgrader's gradebook: every learner's score per graded cell
      source/03_optimizers/            the module's notebooks, test cells marked for the guarded kernel
      submitted/ID/03_optimizers/      what `tinytorch collect` put there (never changed by grading)
      autograded/ID/03_optimizers/     the executed notebooks
      feedback/ID/03_optimizers/       one HTML page per notebook for the learner
      feedback_history/                earlier feedback that a new grade run replaced
      results/03_optimizers/ID.json    one GradeResult per learner (scores per cell and per check, notes)
      grades-03_optimizers.csv         one row per learner, one column per graded cell, the total
      .tinytorch/                      the grader's own files (never visible to a grading kernel):
        state/03_optimizers.json         what the prepared source was made from
        release/03_optimizers/           nbgrader's release of the marked source (the tests learners saw)
        reference/03_optimizers/NB/      the reference package a kernel grading notebook NB may import
        jupyter/kernels/                 the grading kernelspec
        matplotlib/                      a font cache every kernel starts from
        workers/03_optimizers/           one private course folder per learner while it is graded
"""
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CourseFolder:
    root: Path

    @classmethod
    def at(cls, path) -> "CourseFolder":
        return cls(Path(path).resolve())

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.gradebook}"

    @property
    def internal(self) -> Path:
        return self.root / ".tinytorch"

    def source(self, assignment: str) -> Path:
        return self.root / "source" / assignment

    def submitted(self, assignment: str, student: str | None = None) -> Path:
        return self.root / "submitted" / student / assignment if student else self.root / "submitted"

    def autograded(self, assignment: str, student: str) -> Path:
        return self.root / "autograded" / student / assignment

    def feedback(self, assignment: str, student: str) -> Path:
        return self.root / "feedback" / student / assignment

    def feedback_history(self, assignment: str, student: str, stamp: str) -> Path:
        return self.root / "feedback_history" / stamp / student / assignment

    def results(self, assignment: str) -> Path:
        return self.root / "results" / assignment

    def csv(self, assignment: str) -> Path:
        return self.root / f"grades-{assignment}.csv"

    def state(self, assignment: str) -> Path:
        return self.internal / "state" / f"{assignment}.json"

    def release(self, assignment: str) -> Path:
        return self.internal / "release" / assignment

    def reference(self, assignment: str, notebook: str | None = None) -> Path:
        folder = self.internal / "reference" / assignment
        return folder / notebook if notebook else folder

    @property
    def matplotlib(self) -> Path:
        "Matplotlib's font cache, made once, copied into each kernel's private folder."
        return self.internal / "matplotlib"

    @property
    def jupyter(self) -> Path:
        return self.internal / "jupyter"

    def workers(self, assignment: str) -> Path:
        return self.internal / "workers" / assignment

    def plain_feedback(self, assignment: str, student: str) -> Path:
        return self.internal / "plain-feedback" / student / assignment
