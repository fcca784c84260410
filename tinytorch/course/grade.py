"""`tinytorch grade MODULE`: autograde every collected submission of a module, in parallel.

The grading tree is an nbgrader course folder (default `./grading`):

    grading/
      nbgrader_config.py         the course configuration
      gradebook.db               nbgrader's gradebook: every learner's score per graded cell
      source/03_optimizers/      the module's notebook, test cells marked for the guarded kernel
      submitted/ID/03_optimizers/    what `tinytorch collect` put there (never changed)
      autograded/ID/03_optimizers/   the executed notebooks
      feedback/ID/03_optimizers/     one HTML page per notebook for the learner
      feedback_history/              earlier feedback that a new grade run replaced
      results/03_optimizers/ID.json  score per cell, notes and flags per learner
      grades-03_optimizers.csv       one row per learner, one column per graded cell, the total

How a run goes: the source is prepared once (marked copy, gradebook entry, reference copy of
the package without this module, the guarded kernel's kernelspec). Each submission is checked
and rebuilt (submissions.py). Learners whose submission and settings did not change since
their last grading are skipped, so running `grade` twice gives the same result and keeps the
earlier feedback. The others are split across worker processes (grade_worker.py), each with
its own copy of the course folder, so nbgrader runs in parallel; every result is merged into
the gradebook and `results/` as soon as it arrives, so a crash loses nothing already graded.
"""
import hashlib
import html
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .grading_kernel import __file__ as KERNEL_SCRIPT
from .integrity import build_reference_copy, exported_modules, mark_test_cells, unmark
from .layout import CourseError, Module
from .nbgrader_runner import CONFIG, prepare_course_dir, run_nbgrader
from .notebooks import nbgrader_meta
from .submissions import ExpectedNotebook, check_notebook, submission_hash

KERNEL_NAME = "tinytorch-grader"
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")


@dataclass
class GradeOptions:
    workers: int = 2
    cell_timeout: int = 60              # seconds per cell (nbgrader interrupts the cell after it)
    memory_limit_mb: int = 4096         # address space of the kernel: a huge allocation raises MemoryError
    output_limit_chars: int = 100_000   # printed output kept per cell
    students: list | None = None        # grade only these learners (default: every submission)
    force: bool = False                 # grade again even when nothing changed
    student_timeout: int | None = None  # seconds before a stuck grading of one learner is abandoned
    progress: bool = True               # show a progress bar
    interrupt_grace: int = 10           # seconds a timed-out cell gets to obey the interrupt before the kernel is stopped

    def fingerprint(self) -> str:
        "What changes a grade: the limits (not the number of workers, which must not)."
        return f"timeout={self.cell_timeout};memory={self.memory_limit_mb};output={self.output_limit_chars}"


@dataclass
class Assignment:
    "A module prepared for grading in a course folder."
    module: Module
    course: Path
    expected: list                      # [ExpectedNotebook]
    source_hash: str
    reference: Path                     # folder of the per-notebook reference copies (see `prepare`)
    withheld: list = field(default_factory=list)   # every package module this module's notebooks export

    def reference_for(self, notebook: str) -> Path:
        "The folder whose `tinytorch` is the reference without what `notebook` exports."
        return self.reference / notebook

    @property
    def id(self) -> str:
        return self.module.id

    @property
    def tests(self) -> dict:
        "{(notebook, grade_id): points} in notebook order."
        return {(nb.name, gid): pts for nb in self.expected for gid, pts in nb.tests.items()}

    def results_dir(self) -> Path:
        return self.course / "results" / self.id


# --------------------------------------------------------------------------- preparing
def _hash_tree(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare(root, module: Module, course_dir) -> Assignment:
    """Set up `course_dir` to grade `module` of the instructor tree at `root`.

    nbgrader's generate_assignment only runs when the module's source changed since last time
    (it refuses to drop graded cells that already have grades, and it takes seconds)."""
    root, course = Path(root).resolve(), prepare_course_dir(course_dir).resolve()
    state_file = course / ".tinytorch" / f"{module.id}.json"
    source_hash = _hash_tree(module.dir) + hashlib.sha256(Path(KERNEL_SCRIPT).read_bytes()).hexdigest()[:16]
    source = course / "source" / module.id
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    if state.get("source_hash") != source_hash or not (course / "gradebook.db").is_file():
        if source.exists():
            shutil.rmtree(source)
        shutil.copytree(module.dir, source, ignore=IGNORED)
        for path in sorted(source.glob("*.ipynb")):
            nbformat.write(mark_test_cells(nbformat.read(path, as_version=4)), path)
        run_nbgrader(course, "generate_assignment", module.id, "--force",
                     "--CourseDirectory.release_directory=.tinytorch/release")
        state_file.parent.mkdir(exist_ok=True)
        state_file.write_text(json.dumps({"source_hash": source_hash}))
    expected = []
    for path in sorted(source.glob("*.ipynb")):
        marked = nbformat.read(path, as_version=4)
        released = nbformat.read(course / ".tinytorch" / "release" / module.id / path.name, as_version=4)
        tests = {nbgrader_meta(c)["grade_id"]: unmark(c.source) for c in released.cells
                 if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}
        expected.append(ExpectedNotebook(path.stem, marked, tests))
    if not expected:
        raise CourseError(f"module {module.id} has no notebook to grade in {module.dir}")
    withheld = sorted({m for nb in expected for m in exported_modules(nb.source)})
    reference = course / ".tinytorch" / "reference" / module.id
    package = root / "tinytorch" if (root / "tinytorch" / "__init__.py").is_file() else Path(__import__("tinytorch").__file__).parent
    # One reference copy per notebook, withholding only what that notebook exports: in module 02,
    # nn.ipynb is graded on the reference autograd (a bug in autograd.ipynb must not fail it),
    # while autograd.ipynb can't import the reference autograd, not even through the reference nn.
    for nb in expected:
        build_reference_copy(package, reference / nb.name, exported_modules(nb.source), module.id)
    _write_kernelspec(course)
    return Assignment(module, course, expected, source_hash, reference, withheld)


def _write_kernelspec(course: Path) -> None:
    spec = course / ".tinytorch" / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(Path(KERNEL_SCRIPT).resolve()), "-f", "{connection_file}"],
        "display_name": "tinytorch autograder (guarded Python)", "language": "python"}, indent=1))


def kernel_config(root, assignment: Assignment, options: GradeOptions) -> dict:
    "What the guarded kernel may do (see grading_kernel.py); the worker adds the event log and skips."
    root, course = Path(root).resolve(), assignment.course
    package = root / "tinytorch"
    return {
        "reference_paths": {nb.name: str(assignment.reference_for(nb.name)) for nb in assignment.expected},
        "allow": [str(assignment.reference), str(Path(KERNEL_SCRIPT).resolve())],
        "deny": [str(root), str(course)],
        "hard_deny": [str(package / "core"), str(course / "gradebook.db"), str(course / "source")],
        "memory_limit_bytes": options.memory_limit_mb * 2**20,
        "cpu_limit_seconds": max(600, options.cell_timeout * 40),
        "file_size_limit_bytes": 256 * 2**20,
        "cell_timeout": options.cell_timeout,
        "interrupt_grace": options.interrupt_grace,
        "output_limit_chars": options.output_limit_chars,
    }


def worker_config(options: GradeOptions) -> str:
    "The worker course folders' nbgrader_config.py: the course's, run in the guarded kernel."
    return CONFIG.read_text() + f"""
# Added by tinytorch grade: the guarded kernel, the run's time limit, bounded output.
c.Execute.kernel_name = "{KERNEL_NAME}"
c.ExecutePreprocessor.timeout = {options.cell_timeout}
c.Execute.timeout = {options.cell_timeout}
c.Execute.interrupt_on_timeout = True
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
"""


# --------------------------------------------------------------------------- checking submissions
def submitted_students(course: Path, assignment_id: str) -> list[str]:
    folder = course / "submitted"
    if not folder.is_dir():
        return []
    return sorted(d.name for d in folder.iterdir() if (d / assignment_id).is_dir())


def _result_path(assignment: Assignment, student: str) -> Path:
    return assignment.results_dir() / f"{student}.json"


def load_results(assignment_id: str, course) -> dict:
    folder = Path(course) / "results" / assignment_id
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def _save_result(assignment: Assignment, result: dict) -> None:
    path = _result_path(assignment, result["student"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: a crash never leaves half a result


# --------------------------------------------------------------------------- merging
def _merge_into_gradebook(assignment: Assignment, student: str, cells: dict) -> None:
    "Write a learner's autograded scores into the course gradebook (manual scores are kept)."
    import warnings
    from nbgrader.api import Gradebook
    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own SQLAlchemy noise
    with Gradebook(f"sqlite:///{assignment.course / 'gradebook.db'}") as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment.id, student)
        for nb in assignment.expected:
            submitted = gb.find_submission_notebook(nb.name, assignment.id, student)
            for grade in submitted.grades:
                grade.auto_score = float(cells.get(nb.name, {}).get(grade.name, 0.0))
                grade.needs_manual_grade = False
        gb.db.commit()


def _replace_folder(src: Path, dest: Path, history: Path | None = None) -> None:
    "Put `src` at `dest`; when `history` is given, an earlier `dest` that differs is moved there first."
    if dest.exists():
        if history is not None and _hash_tree(dest) != (_hash_tree(src) if src.exists() else ""):
            history.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(dest), str(history))
        else:
            shutil.rmtree(dest)
    if src.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dest)


def write_plain_feedback(path: Path, student: str, assignment: Assignment, name: str, notes: list) -> None:
    "Feedback for a notebook nbgrader could not run (missing, empty, not JSON): the reason and the zeros."
    expected = next(nb for nb in assignment.expected if nb.name == name)
    rows = "".join(f"<tr><td>{html.escape(gid)}</td><td>0 / {pts:g}</td></tr>" for gid, pts in expected.tests.items())
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(name)} feedback</title></head>
<body><h1>{html.escape(assignment.id)}: {html.escape(name)}.ipynb</h1><p>Learner: {html.escape(student)}</p>
<h2>Notes from the autograder</h2><ul>{items}</ul>
<h2>Score: 0 / {sum(expected.tests.values()):g}</h2><table><tr><th>test</th><th>score</th></tr>{rows}</table>
</body></html>
""")


# --------------------------------------------------------------------------- workers
class WorkerPool:
    """Run grade_worker.py processes over disjoint lists of learners and hand back their results.

    A worker stuck on one learner longer than `student_timeout` is killed: that learner is
    recorded as failed and a new worker takes over the rest of its list."""

    def __init__(self, assignment: Assignment, kernel: dict, options: GradeOptions, root):
        self.assignment, self.kernel, self.options = assignment, kernel, options
        # Folders of this run only: a run killed earlier may have left (dying) workers in theirs.
        self.base = assignment.course / ".tinytorch" / "workers" / assignment.id / f"run-{os.getpid()}-{int(time.time())}"
        self.root = Path(root)
        self.events = queue.Queue()
        self.env = dict(os.environ)
        self.env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + self.env.get("PATH", "")
        self.env["JUPYTER_PATH"] = str(assignment.course / ".tinytorch" / "jupyter") + os.pathsep + self.env.get("JUPYTER_PATH", "")
        self.env.pop("TINYTORCH_GRADER_CONFIG", None)
        notebook_cells = sum(1 for nb in assignment.expected for c in nb.source.cells if c.cell_type == "code")
        self.student_timeout = options.student_timeout or (notebook_cells * (options.cell_timeout + 5) + 120) * 2

    def _setup(self, index: int, jobs: dict) -> Path:
        folder = self.base / f"w{index}"
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "source").mkdir(parents=True)
        shutil.copytree(self.assignment.course / "source" / self.assignment.id, folder / "source" / self.assignment.id)
        shutil.copyfile(self.assignment.course / "gradebook.db", folder / "gradebook.db")
        (folder / "nbgrader_config.py").write_text(worker_config(self.options))
        for student, job in jobs.items():
            target = folder / "submitted" / student / self.assignment.id
            target.mkdir(parents=True)
            for name, nb in job.pop("rebuilt").items():
                nbformat.write(nb, target / f"{name}.ipynb")
        return folder

    def _start(self, index: int, jobs: dict):
        folder = self._setup(index, jobs)
        job = {"course": str(folder), "assignment": self.assignment.id, "kernel": self.kernel,
               "students": {s: {"notebooks": j["notebooks"], "notes": j["notes"]} for s, j in jobs.items()}}
        (folder / "job.json").write_text(json.dumps(job))
        log = open(folder / "worker.log", "a")
        proc = subprocess.Popen([sys.executable, "-m", "tinytorch.course.grade_worker", str(folder / "job.json")],
                                stdout=subprocess.PIPE, stderr=log, text=True, env=self.env, cwd=folder,
                                start_new_session=True)
        threading.Thread(target=self._read, args=(index, proc), daemon=True).start()
        return folder, proc

    def _read(self, index, proc):
        for line in proc.stdout:
            kind, _, payload = line.partition(" ")
            if kind in ("START", "RESULT"):
                try:
                    self.events.put((index, kind, json.loads(payload)))
                except json.JSONDecodeError:
                    pass
        proc.wait()
        self.events.put((index, "EXIT", proc.returncode))

    @staticmethod
    def _kill(proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the worker and the kernels it started
        except ProcessLookupError:
            pass

    def run(self, jobs: dict, on_result):
        """Grade `jobs` ({student: {"notebooks", "notes", "rebuilt"}}); call on_result(result, worker folder)."""
        students = sorted(jobs)
        count = max(1, min(self.options.workers, len(students)))
        shares = [students[i::count] for i in range(count)]
        running, pending, current, restarts, started_any = {}, {}, {}, 0, set()
        for i, share in enumerate(shares):
            pending[i] = list(share)
            running[i] = self._start(i, {s: dict(jobs[s]) for s in share})
        while running:
            try:
                index, kind, payload = self.events.get(timeout=1)
            except queue.Empty:
                for index, (folder, proc) in list(running.items()):
                    started = current.get(index)
                    if started and time.monotonic() - started[1] > self.student_timeout:
                        self._kill(proc)  # its EXIT event follows
                continue
            folder, proc = running.get(index, (None, None))
            if kind == "START":
                current[index] = (payload["student"], time.monotonic())
                started_any.add(index)
            elif kind == "RESULT":
                pending[index].remove(payload["student"])
                current.pop(index, None)
                on_result(payload, folder)
            elif kind == "EXIT":
                del running[index]
                stuck = current.pop(index, None)
                if stuck and stuck[0] in pending[index]:
                    pending[index].remove(stuck[0])
                    on_result({"student": stuck[0], "status": "failed", "cells": {}, "zeroed": {}, "attempts": 1,
                               "seconds": round(time.monotonic() - stuck[1], 2), "log": f"worker exit {payload}",
                               "notes": [f"grading stopped after {self.student_timeout:g} s or crashed; "
                                         "every test of this submission scores 0"]}, None)
                if pending[index] and index not in started_any:
                    # The worker died before it began grading anyone: no submission caused that, and
                    # starting another would die the same way. Report it instead of looping forever.
                    for student in pending.pop(index):
                        on_result({"student": student, "status": "failed", "cells": {}, "zeroed": {}, "attempts": 0,
                                   "seconds": 0.0, "log": f"worker exit {payload}",
                                   "notes": ["the grading worker failed before grading this submission "
                                             "(an instructor-side problem); every test scores 0 until it is graded again"]}, None)
                elif pending[index]:
                    restarts += 1
                    new_index = len(shares) + restarts
                    pending[new_index] = pending.pop(index)
                    running[new_index] = self._start(new_index, {s: dict(jobs[s]) for s in pending[new_index]})


# --------------------------------------------------------------------------- the command
def grade(root, module: Module, course_dir, options: GradeOptions | None = None, out=print) -> dict:
    """Grade every submission of `module` in `course_dir`; return {student: result}.

    Results are also in `course_dir/results/<module>/`, the gradebook, the feedback folder and
    the grades CSV (see report.py)."""
    options = options or GradeOptions()
    assignment = prepare(root, module, course_dir)
    course = assignment.course
    students = submitted_students(course, assignment.id)
    if options.students:
        unknown = sorted(set(options.students) - set(students))
        if unknown:
            raise CourseError(f"no submission of {assignment.id} from: {', '.join(unknown)} "
                              f"(collected: {', '.join(students) or 'none'})")
        students = [s for s in students if s in options.students]
    earlier = load_results(assignment.id, course)
    graded_modules = [f"{m}" for m in assignment.withheld]
    jobs, skipped = {}, []
    for student in students:
        folder = course / "submitted" / student / assignment.id
        fingerprint = submission_hash(folder)
        previous = earlier.get(student)
        if (not options.force and previous and previous.get("hash") == fingerprint
                and previous.get("source_hash") == assignment.source_hash
                and previous.get("options") == options.fingerprint() and previous.get("status") != "failed"):
            skipped.append(student)
            continue
        checked = [check_notebook(folder, nb, graded_modules) for nb in assignment.expected]
        extra = sorted(p.name for p in folder.iterdir() if p.name != "timestamp.txt" and (
            p.suffix != ".ipynb" or p.stem not in {nb.name for nb in assignment.expected}))
        notes = [n for c in checked for n in c.notes]
        if extra:
            notes.append("ignored (not part of the module): " + ", ".join(extra))
        jobs[student] = {"hash": fingerprint, "notes": notes, "checked": checked,
                         "flags": {f"{c.name}:{cell}": f for c in checked for cell, f in c.flags.items()}}
    results = {s: earlier[s] for s in skipped}
    if skipped:
        out(f"{len(skipped)} submission(s) unchanged since they were graded: kept as they are "
            "(use --force to grade them again)")

    def finish(student, result, worker_folder):
        job = jobs[student]
        result.update(hash=job["hash"], source_hash=assignment.source_hash, options=options.fingerprint(),
                      flags=job["flags"], notebooks={c.name: c.status for c in job["checked"]})
        _merge_into_gradebook(assignment, student, result.get("cells", {}))
        feedback = course / "feedback" / student / assignment.id
        stamp = time.strftime("%Y%m%d-%H%M%S")
        history = course / "feedback_history" / stamp / student / assignment.id
        if worker_folder is not None and result["status"] == "graded":
            _replace_folder(Path(worker_folder) / "autograded" / student / assignment.id,
                            course / "autograded" / student / assignment.id)
            new_feedback = Path(worker_folder) / "feedback" / student / assignment.id
        else:
            new_feedback = course / ".tinytorch" / "plain-feedback" / student / assignment.id
            if new_feedback.exists():
                shutil.rmtree(new_feedback)
        for checked in job["checked"]:
            if checked.status != "ok" or result["status"] != "graded":
                write_plain_feedback(new_feedback / f"{checked.name}.html", student, assignment, checked.name,
                                     result["notes"] if result["status"] != "graded" else checked.notes)
        _replace_folder(new_feedback, feedback, history)
        _save_result(assignment, result)
        results[student] = result

    runnable = {s: j for s, j in jobs.items() if any(c.status == "ok" for c in j["checked"])}
    for student in sorted(set(jobs) - set(runnable)):  # nothing nbgrader could run: zero, with the reasons
        finish(student, {"student": student, "status": "unreadable", "cells": {}, "zeroed": {}, "attempts": 0,
                         "seconds": 0, "notes": jobs[student]["notes"], "log": ""}, None)
    if runnable:
        pool_jobs = {s: {"notebooks": [c.name for c in j["checked"] if c.status == "ok"], "notes": j["notes"],
                         "rebuilt": {c.name: c.notebook for c in j["checked"] if c.status == "ok"}}
                     for s, j in runnable.items()}
        bar = _progress(len(runnable), options.progress, assignment.id)
        pool = WorkerPool(assignment, kernel_config(root, assignment, options), options, root)

        def on_result(result, folder):
            finish(result["student"], result, folder)
            bar.update(1)
        try:
            pool.run(pool_jobs, on_result)
        finally:
            bar.close()
            if not os.environ.get("TINYTORCH_KEEP_WORKERS"):  # everything useful was merged
                shutil.rmtree(pool.base, ignore_errors=True)
    return results


def _progress(total, enabled, label):
    from tqdm import tqdm
    return tqdm(total=total, desc=f"grading {label}", unit="submission", disable=not enabled, file=sys.stderr)
