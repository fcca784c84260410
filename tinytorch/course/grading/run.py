"""Run the per-learner workers side by side: a standard executor, one `subprocess.run` per learner.

nbgrader grades one submission at a time, so each learner gets a worker process (worker.py) in a
private copy of the course folder; `workers` of them run at once. A worker that runs past its
time limit is killed with everything it started (its sandboxed kernel dies with it); that learner
is recorded as failed and the others go on. Results come back in a file the worker writes, never
over a pipe a kernel could write to.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .prepare import Assignment
from .result import GradeResult


@dataclass
class Job:
    student: str
    notebooks: dict    # {notebook name: rebuilt nbformat notebook}
    notes: list        # sentences for the learner found before running (submissions.py)


def _setup(assignment: Assignment, job: Job, folder: Path, nbgrader_config: str) -> None:
    "A course folder of its own for one learner: the marked source, the gradebook, the rebuilt submission."
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(assignment.folder.source(assignment.id), folder / "source" / assignment.id)
    shutil.copyfile(assignment.folder.gradebook, folder / "gradebook.db")
    (folder / "nbgrader_config.py").write_text(nbgrader_config)
    target = folder / "submitted" / job.student / assignment.id
    target.mkdir(parents=True)
    for name, nb in job.notebooks.items():
        nbformat.write(nb, target / f"{name}.ipynb")


def _run_one(assignment: Assignment, job: Job, folder: Path, policy: dict, nbgrader_config: str,
             timeout: float, env: dict) -> GradeResult:
    started = time.monotonic()
    _setup(assignment, job, folder, nbgrader_config)
    result_file = folder / "result.json"
    (folder / "job.json").write_text(json.dumps({
        "course": str(folder), "assignment": assignment.id, "student": job.student, "result": str(result_file),
        "notebooks": sorted(job.notebooks), "notes": job.notes, "policy": policy}))
    with open(folder / "worker.log", "w") as log:
        try:
            subprocess.run([sys.executable, "-m", "tinytorch.course.grading.worker", str(folder / "job.json")],
                           stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=folder,
                           timeout=timeout, start_new_session=True)
        except subprocess.TimeoutExpired:
            return GradeResult.failed(job.student, f"grading stopped after {timeout:g} s; every test of this "
                                      "submission scores 0", seconds=time.monotonic() - started)
    if not result_file.is_file():
        return GradeResult.failed(job.student, "the grading worker stopped before it gave a result; every test "
                                  "of this submission scores 0", (folder / "worker.log").read_text()[-2000:],
                                  time.monotonic() - started)
    return GradeResult.from_json(json.loads(result_file.read_text()))


def run_all(assignment: Assignment, jobs: list[Job], *, workers: int, policy: dict, nbgrader_config: str,
            timeout: float, base: Path, on_result) -> None:
    """Grade every job, `workers` at a time; call on_result(result, worker folder) as each one ends
    (in this thread, so results are stored one after the other)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # nbgrader runs alembic
    env["JUPYTER_PATH"] = str(assignment.folder.jupyter) + os.pathsep + env.get("JUPYTER_PATH", "")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(_run_one, assignment, job, base / job.student, policy, nbgrader_config,
                               timeout, env): (job, base / job.student) for job in jobs}
        try:
            for future in as_completed(futures):
                job, folder = futures[future]
                try:
                    result = future.result()
                except Exception as e:  # the grader's own problem with this learner (disk full, ...)
                    result = GradeResult.failed(job.student, f"the autograder failed on this submission ({e!r}); "
                                                "every test scores 0")
                on_result(result, folder)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
