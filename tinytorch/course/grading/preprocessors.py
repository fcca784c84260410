"""nbgrader preprocessors of the grading chain: nbgrader itself scores every cell.

Autograde runs, in this order (worker.py configures it):

    NotebookAwareExecute   nbgrader's Execute, telling the sandbox launcher which notebook it runs
    IgnorePattern, ClearMetadataPreprocessor, LimitOutput     (nbgrader's own)
    GuardEvents            the kernel's event log: a notes cell first; in graded test cells an
                           `execute_result` the submission made (sys.displayhook(16) would otherwise
                           be taken as a partial score) becomes a plain display
    the checks judge       (from tinytorch.checks, when installed) turns check reports into verdicts
                           and the cell's score
    ZeroViolations         a test during which the guard saw a violation gets an IntegrityError
                           output instead of any score, so nbgrader scores it 0
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata    (nbgrader's own)
"""
import json
import os

import nbformat
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from ..notebooks import nbgrader_meta
from .events import read_events, runtime_notes
from .policy import NOTEBOOK_ENV

GUARD_ENV = "TINYTORCH_GRADER_GUARD"   # JSON file: {"events": path, "notes": [...]} for this attempt
NOTES_KEY = "autograder_notes"         # cell metadata["tinytorch"][NOTES_KEY]: the notes cell


def is_test_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _guard() -> dict:
    path = os.environ.get(GUARD_ENV)
    return json.loads(open(path).read()) if path else {"events": "", "notes": []}


class NotebookAwareExecute(Execute):
    "nbgrader's Execute, telling the kernel launcher which notebook it starts (to pick its reference copy)."

    def preprocess(self, nb, resources, *args, **kwargs):
        os.environ[NOTEBOOK_ENV] = resources.get("unique_key", "")  # the launcher inherits os.environ
        return super().preprocess(nb, resources, *args, **kwargs)


class GuardEvents(NbGraderPreprocessor):
    "The notes cell, and no score a submission printed itself (see the module docstring)."

    def preprocess(self, nb, resources):
        guard = _guard()
        kernel_notes, _ = runtime_notes(read_events(guard["events"]) if guard["events"] else [])
        notes = list(guard.get("notes", [])) + kernel_notes
        for cell in nb.cells:
            cell.metadata.pop("tinytorch", None)  # only the grader writes this key
            if is_test_cell(cell):
                for output in cell.get("outputs", []):
                    if output.output_type == "execute_result":
                        output.output_type = "display_data"
                        output.pop("execution_count", None)
        if notes:
            text = "Notes from the autograder:\n\n" + "\n".join(f"- {note}" for note in notes)
            cell = nbformat.v4.new_markdown_cell(text)
            cell.metadata["tinytorch"] = {NOTES_KEY: notes}
            nb.cells.insert(0, cell)
        return nb, resources


class ZeroViolations(NbGraderPreprocessor):
    "A test the guard saw tampered with scores 0: an error output, and no score output left."

    def preprocess(self, nb, resources):
        guard = _guard()
        _, zeroed = runtime_notes(read_events(guard["events"]) if guard["events"] else [])
        for cell in nb.cells:
            test = nbgrader_meta(cell).get("grade_id")
            if is_test_cell(cell) and test in zeroed:
                cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="IntegrityError", evalue=zeroed[test][len("IntegrityError: "):],
                    traceback=[zeroed[test]]))
        return nb, resources


def judge_preprocessor():
    "The checks library's judge (branch `checks`), or None while it is not installed."
    try:
        from tinytorch.checks.grading import JudgeChecks
    except ImportError:
        return None
    return JudgeChecks


def autograde_chain() -> list:
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )
    judge = judge_preprocessor()
    return [NotebookAwareExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, GuardEvents,
            *([judge] if judge else []), ZeroViolations, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
