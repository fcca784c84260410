"""How a check's result leaves a grading kernel: one Jupyter display output per check.

Under grading (and recording) a check judges nothing in the kernel. It sends what the learner's
code produced as a `display_data` output of MIME type REPORT_MIME whose data is JSON text; the
grading worker reads the outputs of each graded cell and judges them against the instructor's
store. Anyone can print such an output (the learner's code included): it can only claim values,
never verdicts, so forging one is no better than computing the value.
"""
from dataclasses import asdict, dataclass

from .plain import NotPlain, dumps, loads

REPORT_MIME = "application/vnd.tinytorch.check+json"


@dataclass(frozen=True)
class Report:
    cell: str                 # grade_id of the test cell
    check: str                # the check's name
    kind: str
    points: float
    hidden: bool
    value: object = None      # plain JSON value
    error: str | None = None  # the exception the learner's code raised instead of giving a value
    options: dict | None = None
    done: bool = False        # the marker `Checks.done()` sends after the cell's last check

    def to_output_data(self) -> dict:
        return {REPORT_MIME: dumps(asdict(self)), "text/plain": f"[check {self.check!r} reported]"}


def emit(report: Report) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - checks always run in IPython when grading
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(report.to_output_data(), raw=True)
    else:
        print(report.to_output_data()[REPORT_MIME])


def parse(data: str) -> Report | None:
    "A report from an output's data, or None if it is not a well-formed one (it is then ignored)."
    try:
        fields = loads(data)
    except (NotPlain, ValueError):
        return None
    if not isinstance(fields, dict):
        return None
    try:
        report = Report(**fields)
    except TypeError:
        return None
    if not (isinstance(report.cell, str) and isinstance(report.check, str) and isinstance(report.kind, str)):
        return None
    if report.error is not None and not isinstance(report.error, str):
        return None
    return report
