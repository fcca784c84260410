"""What grading one learner produced: a GradeResult, stored as results/<module>/<learner>.json."""
import enum
from dataclasses import asdict, dataclass, field, fields


class Status(enum.StrEnum):
    GRADED = "graded"          # nbgrader ran the notebook(s); the scores are the gradebook's
    UNREADABLE = "unreadable"  # nothing nbgrader could run (missing, empty, not a notebook): zero, with the reasons
    FAILED = "failed"          # the grader itself failed or ran out of time on this submission: zero until graded again


@dataclass
class CheckOutcome:
    "One named check of a graded cell, as the judge decided it (never the hidden expected value)."
    cell: str
    check: str
    points: float
    passed: bool
    message: str = ""


@dataclass
class GradeResult:
    student: str
    status: Status
    cells: dict = field(default_factory=dict)     # {notebook: {grade_id: score}}
    checks: dict = field(default_factory=dict)    # {notebook: [CheckOutcome as dict]}
    notes: list = field(default_factory=list)     # sentences for the learner, in the feedback too
    zeroed: dict = field(default_factory=dict)    # {grade_id: why the guard scored it zero}
    unprotected: list = field(default_factory=list)  # what the run did not protect (no OS sandbox)
    attempts: int = 0
    seconds: float = 0.0
    log: str = ""                                 # the end of the grader's log when it failed
    # What the result was made from, to know whether a later run may keep it.
    hash: str = ""
    source_hash: str = ""
    options: str = ""
    flags: dict = field(default_factory=dict)     # {notebook:cell: [static scan findings]} for review
    notebooks: dict = field(default_factory=dict)  # {notebook: "ok" | "missing" | "unreadable"}

    @classmethod
    def failed(cls, student: str, note: str, log: str = "", seconds: float = 0.0) -> "GradeResult":
        return cls(student, Status.FAILED, notes=[note], log=log[-2000:], seconds=round(seconds, 2))

    def to_json(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict) -> "GradeResult":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = Status(values.get("status", "failed"))
        return cls(**values)

    def total(self) -> float:
        return sum(score for cells in self.cells.values() for score in cells.values())
