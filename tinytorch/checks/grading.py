"""`JudgeChecks`: the nbgrader preprocessor that turns check reports into verdicts and scores.

It runs in the grading worker, after nbgrader's `Execute` and before `SaveAutoGrades`:

    c.Autograde.autograde_preprocessors = [Execute, JudgeChecks, IgnorePattern, ..., SaveAutoGrades, ...]
    c.JudgeChecks.store_dir = "/path/to/instructor/stores"   # holds <notebook>.checks.json

For every graded test cell that the instructor store knows, it reads the check reports among the
cell's outputs (protocol.py), judges each recorded check against the store (its expected value
and its options: nothing the kernel sent is trusted but the learner's values), and replaces the
cell's outputs with one line per check and an `execute_result` holding the score, which is how
nbgrader gives partial credit. A check that sent no report failed (the cell stopped before it,
or the learner's code swallowed it). Hidden checks' messages never show the expected value.
Cells the store does not know are left to nbgrader (pass/fail on whether they raised).
With `results_path`, every verdict is also written there as JSON (the per-check results of a
learner's grade file).
"""
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .judge import Verdict, judge, known_mistake, matching_mistakes
from .protocol import REPORT_MIME, parse
from .stores import INSTRUCTOR_SUFFIX, Store, read_store


@dataclass(frozen=True)
class CheckResult:
    cell: str
    check: str
    points: float
    earned: float
    hidden: bool
    message: str          # "" when it passed


def judge_cell(grade_id: str, outputs: list, recorded: dict) -> list[CheckResult]:
    "The verdict of every recorded check of one cell, from the reports among its outputs."
    reports = {}
    for out in outputs:
        data = out.get("data", {}) if isinstance(out, dict) else {}
        if REPORT_MIME not in data:
            continue
        report = parse(data[REPORT_MIME])
        if report is None or report.done or report.cell != grade_id or report.check in reports:
            continue  # malformed, an end marker, another cell's name, or a second report: ignored
        reports[report.check] = report
    results = []
    for name, rec in recorded.items():
        report = reports.get(name)
        if report is None:
            verdict = Verdict(False, "this check did not run: the test cell stopped before it")
        elif report.kind != rec.kind:
            verdict = Verdict(False, f"this check reported as {report.kind!r}, not {rec.kind!r}")
        else:
            try:
                verdict = judge(rec.kind, report.value, rec.expected, rec.options, report.error, reveal=not rec.hidden)
            except (TypeError, ValueError, OverflowError) as e:   # a value of a shape the judge can't read
                verdict = Verdict(False, f"the value could not be judged ({e})")
            if not verdict.passed:
                matched = matching_mistakes(rec.kind, report.value, report.error, rec.fingerprints, rec.options)
                if matched:
                    verdict = Verdict(False, f"{verdict.message}. {known_mistake(matched)}")
        results.append(CheckResult(grade_id, name, rec.points, rec.points if verdict.passed else 0.0,
                                   rec.hidden, verdict.message))
    return results


def _error_line(outputs) -> str | None:
    for out in outputs:
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"
    return None


def feedback_text(results: list[CheckResult], stopped: str | None) -> str:
    lines = []
    for r in results:
        tag = "hidden check" if r.hidden else "check"
        lines.append(f"✓ {tag}: {r.check}" if not r.message else f"✗ {tag}: {r.check}\n    {r.message}")
    if stopped:
        lines.append(f"The test cell stopped with {stopped}")
    earned, total = sum(r.earned for r in results), sum(r.points for r in results)
    lines.append(f"{earned:g} of {total:g} points")
    return "\n".join(lines) + "\n"


class JudgeChecks(NbGraderPreprocessor):
    store_dir = Unicode("", help="Folder with the instructor stores, <notebook>.checks.json").tag(config=True)
    results_path = Unicode("", help="Where to write every verdict as JSON ('' for nowhere)").tag(config=True)

    def preprocess(self, nb, resources):
        notebook = resources.get("nbgrader", {}).get("notebook") or resources.get("unique_key", "")
        path = Path(self.store_dir) / f"{notebook}{INSTRUCTOR_SUFFIX}"
        store = read_store(path, notebook) if self.store_dir else None
        results = []
        if store is not None:
            for cell in nb.cells:
                results += self._judge(cell, store)
        if self.results_path:
            path = Path(self.results_path)
            existing = json.loads(path.read_text()) if path.is_file() else {}
            existing[notebook] = [asdict(r) for r in results]
            path.write_text(json.dumps(existing, indent=1))
        return nb, resources

    def _judge(self, cell, store: Store) -> list[CheckResult]:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution") or grade_id not in store.cells:
            return []
        results = judge_cell(grade_id, cell.get("outputs", []), store.cells[grade_id])
        stopped = _error_line(cell.get("outputs", []))
        score = sum(r.earned for r in results)
        cell.outputs = [new_output("stream", name="stdout", text=feedback_text(results, stopped)),
                        new_output("execute_result", data={"text/plain": f"{score:g}"},
                                   execution_count=cell.get("execution_count"))]
        return results
