"""Grade one learner: `python -m tinytorch.course.grading.worker JOB.json` (started by run.py).

The job names a private nbgrader course folder made for this learner alone (the marked source, a
copy of the gradebook, the rebuilt submission). nbgrader autograde runs here with the chain of
preprocessors.py; its kernel runs in the OS sandbox the GuardPolicy describes, in a private
folder of its own. When the kernel dies (os._exit, a crash, a cell that ignored the timeout)
nbgrader gives up on the notebook; the kernel's event log then names the cell that was running,
and the notebook is graded again with that cell replaced by an error, so the rest still counts.
The result goes to the file the job names: this process's output is only a log.
"""
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .events import cell_that_stopped, read_events, runtime_notes
from .feedback import feedback_chain
from .kernel import die_with_parent
from .policy import POLICY_ENV, UNPROTECTED, GuardPolicy
from .preprocessors import GUARD_ENV, autograde_chain
from .result import CheckOutcome, GradeResult, Status
from .sandbox import make_private_folder

MAX_ATTEMPTS = 4


class Worker:
    def __init__(self, job: dict):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        self.job = job
        self.course = Path(job["course"])
        self.assignment, self.student = job["assignment"], job["student"]
        self.private = make_private_folder(matplotlib_cache=job["policy"].get("matplotlib_cache", ""))
        self.policy = GuardPolicy(private=str(self.private), **job["policy"])
        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.course)).load_config()
        config.CourseDirectory.root = str(self.course)
        config.Autograde.autograde_preprocessors = autograde_chain()
        config.GenerateFeedback.preprocessors = feedback_chain()
        # The checks judge reads the instructor store from this folder's copy of the source (the
        # sandbox never sees it) and writes every verdict for the learner's JSON.
        self.verdicts = self.course / "verdicts.json"
        config.JudgeChecks.store_dir = str(self.course / "source" / self.assignment)
        config.JudgeChecks.results_path = str(self.verdicts)
        # The kernel has no network, so ZMQ talks over ipc sockets in the folder both sides see.
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = self.policy.ipc_prefix
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        self.db_url = f"sqlite:///{self.course / 'gradebook.db'}"

    def _autograded(self) -> Path:
        return self.course / "autograded" / self.student / self.assignment

    def grade(self) -> GradeResult:
        started = time.monotonic()
        notes_before = list(self.job.get("notes", []))
        if not self.policy.sandbox:
            notes_before.append("graded WITHOUT the OS sandbox (--unsafe-no-sandbox): " + "; ".join(UNPROTECTED))
        skip_notes, events, success, log_tail = [], [], False, ""
        for attempt in range(MAX_ATTEMPTS):
            self.policy.attempt = attempt
            # Outside the private folder: the kernel can't change it.
            policy_file = self.course / f"policy.{attempt}.json"
            self.policy.save(policy_file)
            guard_file = self.course / f"guard.{attempt}.json"
            guard_file.write_text(json.dumps({"events": self.policy.events, "notes": notes_before + skip_notes}))
            os.environ[POLICY_ENV], os.environ[GUARD_ENV] = str(policy_file), str(guard_file)
            result = self.api.autograde(self.assignment, self.student, force=True, create=True)
            events = read_events(Path(self.policy.events))
            graded = all((self._autograded() / f"{nb}.ipynb").is_file() for nb in self.job["notebooks"])
            if result.get("success") and graded:
                success = True
                break
            log_tail = (result.get("error") or result.get("log") or "")[-2000:]
            stopped = cell_that_stopped(events)
            if stopped is None or stopped[0] in [f"{sha}:{n}" for sha, n, _r in self.policy.skip]:
                break
            key, reason, note = stopped
            sha, n = key.rsplit(":", 1)
            self.policy.skip.append([sha, int(n), reason])
            skip_notes.append(note)
        kernel_notes, zeroed = runtime_notes(events)
        notes = notes_before + skip_notes + kernel_notes
        if success:
            self.api.generate_feedback(self.assignment, self.student, force=True)
        else:
            notes.append("the autograder could not grade this notebook; every test scores 0")
        return GradeResult(self.student, Status.GRADED if success else Status.FAILED, cells=self._scores(),
                           checks=self._checks() if success else {}, notes=notes, zeroed=zeroed,
                           unprotected=[] if self.policy.sandbox else list(UNPROTECTED),
                           attempts=len(self.policy.skip) + 1, seconds=round(time.monotonic() - started, 2),
                           log="" if success else log_tail)

    def _scores(self) -> dict:
        from nbgrader.api import Gradebook, MissingEntry
        scores = {}
        with Gradebook(self.db_url) as gb:
            for notebook in gb.find_assignment(self.assignment).notebooks:
                try:
                    submitted = gb.find_submission_notebook(notebook.name, self.assignment, self.student)
                except MissingEntry:
                    continue
                scores[notebook.name] = {g.name: float(g.auto_score or 0.0) for g in submitted.grades}
        return scores

    def _checks(self) -> dict:
        "{notebook: [CheckOutcome]} of every check the judge decided (cells written with tinytorch.checks)."
        verdicts = json.loads(self.verdicts.read_text()) if self.verdicts.is_file() else {}
        return {name: [asdict(CheckOutcome(v["cell"], v["check"], float(v["points"]), v["earned"] >= v["points"],
                                           v["message"])) for v in found]
                for name, found in verdicts.items() if found and name in self.job["notebooks"]}

    def close(self) -> None:
        shutil.rmtree(self.private, ignore_errors=True)


def main(job_path) -> int:
    die_with_parent()  # a killed grading run takes its workers (and so their sandboxes) with it
    job = json.loads(Path(job_path).read_text())
    started = time.monotonic()
    worker = None
    try:
        worker = Worker(job)
        result = worker.grade()
    except Exception as e:  # a bug or a broken gradebook: this learner fails, the run goes on
        import traceback
        traceback.print_exc()
        result = GradeResult.failed(job["student"], f"the autograder failed on this submission ({type(e).__name__}); "
                                    "every test scores 0", traceback.format_exc(), time.monotonic() - started)
    finally:
        if worker is not None:
            worker.close()
    out = Path(job["result"])
    out.with_suffix(".tmp").write_text(json.dumps(result.to_json()))
    out.with_suffix(".tmp").replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
