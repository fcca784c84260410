"""One grading worker: autograde a list of learners, one after the other, in its own nbgrader course folder.

`grade.py` starts a few of these side by side (nbgrader itself grades one submission at a
time) and reads their results line by line from stdout:

    START {"student": ...}
    RESULT {"student": ..., "cells": {notebook: {grade_id: score}}, "notes": [...], ...}

For each learner: nbgrader autograde runs in this process (nbgrader is imported once), the
kernel being grading_kernel.py. When the kernel dies (os._exit, a crash, a cell that ignored
the timeout) nbgrader gives up on the whole notebook; the kernel's event log then names the
cell that was running, and the notebook is graded again with that cell replaced by an error,
so that everything else still counts. Violations the kernel saw while a test ran zero that
test. The notes go into the notebook before nbgrader writes the feedback.
"""
import json
import os
import sys
import time
from pathlib import Path

import nbformat

from nbgrader.preprocessors import Execute

from .grading_kernel import CONFIG_ENV, NOTEBOOK_ENV


class NotebookAwareExecute(Execute):
    "nbgrader's Execute, telling the kernel it starts which notebook it runs (to pick its reference copy)."

    def preprocess(self, nb, resources, *args, **kwargs):
        os.environ[NOTEBOOK_ENV] = resources.get("unique_key", "")  # the kernel inherits os.environ
        return super().preprocess(nb, resources, *args, **kwargs)

KILLED = ("The autograder did not run this cell: when it was graded, it stopped the Python kernel "
          "(os._exit, a crash, or running past the time limit and ignoring the interrupt). "
          "The rest of the notebook was graded without it.")
RUNAWAY = ("The autograder did not run this cell: when it was graded it ran past the time limit and "
           "did not stop when interrupted. The rest of the notebook was graded without it.")


def read_events(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a line cut by the kernel's death
    return events


def cell_that_stopped(events) -> tuple[str, str, str] | None:
    "(cell key, reason, note) about the cell running when the kernel went away, if the log says."
    running = None
    for event in events:
        if event.get("event") == "cell":
            running = event
        elif event.get("event") == "done":
            running = None
        elif event.get("event") == "runaway":
            running = dict(event, reason=RUNAWAY)
            break
    if running is None:
        return None
    reason = running.get("reason", KILLED)
    where = f"test cell {running['test']}" if running.get("test") else "a cell of your notebook"
    what = "ran past the time limit and ignored the interrupt" if reason is RUNAWAY else \
        "stopped the Python kernel (os._exit, a crash or the memory limit)"
    return running["key"], reason, f"{where} {what}; it was skipped and everything else was graded"


def runtime_notes(events) -> tuple[list[str], dict]:
    "Sentences for the learner about what the kernel saw, and {test: reason} of tests to zero."
    notes, zeroed = [], {}
    restored = sorted({name for e in events if e.get("event") == "restored" for name in e["names"]})
    if restored:
        notes.append("code in your notebook replaced " + ", ".join(restored) + "; the autograder put the "
                     "originals back before each test")
    denied = []
    for e in events:
        if e.get("event") == "violation":
            zeroed[e["test"]] = f"IntegrityError: {e['what']}"
        elif e.get("event") == "denied" and e.get("in_cell", True):
            what = f"{e['path']} ({e['what']})" if e.get("path") else e["what"]
            if what not in denied:
                denied.append(what)
    if denied:
        shown = "; ".join(denied[:3]) + (f"; and {len(denied) - 3} more" if len(denied) > 3 else "")
        notes.append(f"your code tried to reach files or start processes that the autograder does not allow "
                     f"(refused): {shown}")
    for test, reason in zeroed.items():
        notes.append(f"{test} scores 0: {reason}")
    return notes, zeroed


class Worker:
    def __init__(self, job):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        self.job = job
        self.course = Path(job["course"])
        self.assignment = job["assignment"]
        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.course)).load_config()
        config.CourseDirectory.root = str(self.course)
        from nbgrader.converters import Autograde
        preprocessors = Autograde.class_traits()["autograde_preprocessors"].default()
        config.Autograde.autograde_preprocessors = [NotebookAwareExecute if p is Execute else p for p in preprocessors]
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        self.db_url = f"sqlite:///{self.course / 'gradebook.db'}"
        (self.course / "events").mkdir(exist_ok=True)

    def _kernel_config(self, student, attempt, skip) -> Path:
        cfg = dict(self.job["kernel"])
        cfg["events"] = str(self.course / "events" / f"{student}.{attempt}.jsonl")
        cfg["skip"] = skip
        path = self.course / "events" / f"{student}.{attempt}.config.json"
        path.write_text(json.dumps(cfg))
        Path(cfg["events"]).unlink(missing_ok=True)
        return path

    def _autograded(self, student) -> Path:
        return self.course / "autograded" / student / self.assignment

    def grade(self, student, notebooks, notes) -> dict:
        started = time.monotonic()
        skip, skip_notes, events, success, log_tail = [], [], [], False, ""
        for attempt in range(int(self.job.get("max_attempts", 4))):
            os.environ[CONFIG_ENV] = str(self._kernel_config(student, attempt, skip))
            result = self.api.autograde(self.assignment, student, force=True, create=True)
            events = read_events(self.course / "events" / f"{student}.{attempt}.jsonl")
            graded = all((self._autograded(student) / f"{nb}.ipynb").is_file() for nb in notebooks)
            if result.get("success") and graded:
                success = True
                break
            log_tail = (result.get("error") or result.get("log") or "")[-2000:]
            stopped = cell_that_stopped(events)
            if stopped is None or stopped[0] in [f"{sha}:{n}" for sha, n, _r in skip]:
                break
            key, reason, note = stopped
            sha, n = key.rsplit(":", 1)
            skip.append([sha, int(n), reason])
            skip_notes.append(note)
        kernel_notes, zeroed = runtime_notes(events)
        kernel_notes = skip_notes + kernel_notes
        all_notes = list(notes) + kernel_notes
        if success:
            self._zero(student, zeroed)
            self._annotate(student, notebooks, all_notes, zeroed)
            self.api.generate_feedback(self.assignment, student, force=True)
        else:
            all_notes.append("the autograder could not grade this notebook; every test scores 0")
        return {"student": student, "status": "graded" if success else "failed", "cells": self._scores(student),
                "notes": all_notes, "zeroed": zeroed, "attempts": len(skip) + 1,
                "seconds": round(time.monotonic() - started, 2), "log": "" if success else log_tail}

    def _zero(self, student, zeroed):
        if not zeroed:
            return
        from nbgrader.api import Gradebook, MissingEntry
        with Gradebook(self.db_url) as gb:
            for notebook in gb.find_assignment(self.assignment).notebooks:
                for test in zeroed:
                    try:
                        grade = gb.find_grade(test, notebook.name, self.assignment, student)
                    except MissingEntry:
                        continue
                    grade.auto_score = 0.0
            gb.db.commit()

    def _annotate(self, student, notebooks, notes, zeroed):
        "Put the notes first in each autograded notebook, and the reason into each zeroed test's output."
        for name in notebooks:
            path = self._autograded(student) / f"{name}.ipynb"
            nb = nbformat.read(path, as_version=4)
            if notes:
                text = "### Notes from the autograder\n\n" + "\n".join(f"- {note}" for note in notes)
                nb.cells.insert(0, nbformat.v4.new_markdown_cell(text))
            for cell in nb.cells:
                test = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if test in zeroed and cell.cell_type == "code":
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="IntegrityError", evalue=zeroed[test][len("IntegrityError: "):],
                        traceback=[zeroed[test]]))
            nbformat.write(nb, path)

    def _scores(self, student) -> dict:
        from nbgrader.api import Gradebook, MissingEntry
        scores = {}
        with Gradebook(self.db_url) as gb:
            for notebook in gb.find_assignment(self.assignment).notebooks:
                try:
                    submitted = gb.find_submission_notebook(notebook.name, self.assignment, student)
                except MissingEntry:
                    continue
                scores[notebook.name] = {g.name: float(g.auto_score or 0.0) for g in submitted.grades}
        return scores


def main(job_path):
    from .grading_kernel import die_with_parent
    die_with_parent()  # a killed `tinytorch grade` takes its workers with it
    job = json.loads(Path(job_path).read_text())
    worker = Worker(job)
    for student, info in job["students"].items():
        print("START " + json.dumps({"student": student}), flush=True)
        try:
            result = worker.grade(student, info["notebooks"], info.get("notes", []))
        except Exception as e:  # a bug or a broken gradebook: report it, go on with the others
            import traceback
            result = {"student": student, "status": "failed", "cells": {}, "zeroed": {},
                      "notes": ["the autograder failed on this submission; every test scores 0"],
                      "log": traceback.format_exc()[-2000:], "seconds": 0, "attempts": 0}
            print(f"grading {student} failed: {e!r}", file=sys.stderr)
        print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
