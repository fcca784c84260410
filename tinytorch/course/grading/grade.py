"""`tinytorch grade MODULE`: autograde every collected submission of a module, in parallel.

How a run goes: the module is prepared once (prepare.py). Each submission is checked and
rebuilt (check.py, with submissions.py). Learners whose submission and settings did not change
since their last grading are skipped, so running `grade` twice gives the same result and keeps
the earlier feedback. The others are graded side by side (run.py, worker.py), each kernel in
its own OS sandbox (policy.py, sandbox.py); every result is stored as soon as it arrives
(store.py), so a crash loses nothing already graded. The CSV and the summary are report.py's.
"""
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import CourseError, Module
from ..nbgrader_runner import CONFIG
from .check import check_submission, submitted_students
from .kernel import __file__ as KERNEL_SCRIPT
from .prepare import KERNEL_NAME, Assignment, prepare
from .result import GradeResult, Status
from .run import Job, run_all
from .sandbox import sandbox_problem
from .store import load_results, store


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
    interrupt_grace: int = 10           # seconds a timed-out cell gets to obey the interrupt before it is stopped
    unsafe_no_sandbox: bool = False     # grade without the OS sandbox (where bubblewrap can't run); says so everywhere

    def fingerprint(self) -> str:
        "What changes a grade: the limits and the sandbox (not the number of workers, which must not)."
        sandbox = ";unsandboxed" if self.unsafe_no_sandbox else ""
        return f"timeout={self.cell_timeout};memory={self.memory_limit_mb};output={self.output_limit_chars}{sandbox}"


@dataclass
class GradeRun:
    "What `grade` hands back: the prepared assignment (for the CSV and summary) and every learner's result."
    assignment: Assignment
    results: dict = field(default_factory=dict)   # {student: GradeResult}
    skipped: list = field(default_factory=list)   # learners kept from an earlier run


def policy_fields(root: Path, assignment: Assignment, options: GradeOptions) -> dict:
    "The GuardPolicy of this run, less the private folder each worker makes (see policy.py)."
    root, course = Path(root).resolve(), assignment.course
    return {
        "references": {nb.name: str(assignment.reference_for(nb.name)) for nb in assignment.expected},
        "kernel_script": str(Path(KERNEL_SCRIPT).resolve()),
        "sandbox": not options.unsafe_no_sandbox,
        "memory_limit_bytes": options.memory_limit_mb * 2**20,
        "cpu_limit_seconds": max(600, options.cell_timeout * 40),
        "cell_timeout": options.cell_timeout, "interrupt_grace": options.interrupt_grace,
        "output_limit_chars": options.output_limit_chars,
        "deny": [str(root), str(course)],
        "hard_deny": [str(root / "tinytorch" / "core"), str(course / "gradebook.db"), str(course / "source")],
        "matplotlib_cache": str(assignment.folder.matplotlib),
    }


def nbgrader_config(options: GradeOptions) -> str:
    "Each learner's course folder's nbgrader_config.py: the course's, run in the sandboxed kernel."
    return CONFIG.read_text() + f"""
# Added by tinytorch grade: the sandboxed kernel, the run's time limit, bounded output.
c.Execute.kernel_name = "{KERNEL_NAME}"
c.ExecutePreprocessor.timeout = {options.cell_timeout}
c.Execute.timeout = {options.cell_timeout}
c.Execute.interrupt_on_timeout = True
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
"""


def _student_timeout(assignment: Assignment, options: GradeOptions) -> float:
    if options.student_timeout:
        return options.student_timeout
    cells = sum(1 for nb in assignment.expected for c in nb.source.cells if c.cell_type == "code")
    return (cells * (options.cell_timeout + 5) + 120) * 2


def grade(root, module: Module, course_dir, options: GradeOptions | None = None, out=print) -> GradeRun:
    """Grade every submission of `module` in `course_dir`; results are also in its results/,
    gradebook, feedback/ (and, through report.py, the CSV)."""
    options = options or GradeOptions()
    if not options.unsafe_no_sandbox:
        problem = sandbox_problem()
        if problem:
            raise CourseError(f"grading needs an OS sandbox for each kernel and {problem}. Install bubblewrap, "
                              "or grade with --unsafe-no-sandbox (learner code then runs with your rights: "
                              "it can read and change your files)")
    assignment = prepare(root, module, course_dir)
    folder = assignment.folder
    students = submitted_students(folder, assignment.id)
    if options.students:
        unknown = sorted(set(options.students) - set(students))
        if unknown:
            raise CourseError(f"no submission of {assignment.id} from: {', '.join(unknown)} "
                              f"(collected: {', '.join(students) or 'none'})")
        students = [s for s in students if s in options.students]
    earlier = load_results(assignment.id, folder.root)
    run = GradeRun(assignment)
    checked = {}
    for student in students:
        submission = check_submission(assignment, student)
        previous = earlier.get(student)
        if (not options.force and previous and previous.hash == submission.hash
                and previous.source_hash == assignment.source_hash
                and previous.options == options.fingerprint() and previous.status is not Status.FAILED):
            run.skipped.append(student)
            run.results[student] = previous
            continue
        checked[student] = submission
    if run.skipped:
        out(f"{len(run.skipped)} submission(s) unchanged since they were graded: kept as they are "
            "(use --force to grade them again)")

    def finish(result: GradeResult, worker_folder):
        submission = checked[result.student]
        result.hash, result.source_hash, result.options = submission.hash, assignment.source_hash, options.fingerprint()
        result.flags = submission.flags
        result.notebooks = {c.name: c.status for c in submission.notebooks}
        if result.status is not Status.GRADED:
            result.notes = submission.notes + [n for n in result.notes if n not in submission.notes]
        store(assignment, result, submission.notebooks, Path(worker_folder) if worker_folder else None)
        run.results[result.student] = result

    runnable = [s for s in checked if checked[s].runnable]
    for student in sorted(set(checked) - set(runnable)):  # nothing nbgrader could run: zero, with the reasons
        finish(GradeResult(student, Status.UNREADABLE, notes=list(checked[student].notes)), None)
    if runnable:
        jobs = [Job(s, {c.name: c.notebook for c in checked[s].notebooks if c.status == "ok"}, checked[s].notes)
                for s in runnable]
        base = folder.workers(assignment.id) / f"run-{os.getpid()}-{int(time.time())}"
        bar = _progress(len(jobs), options.progress, assignment.id)

        def on_result(result, worker_folder):
            finish(result, worker_folder if result.status is Status.GRADED else None)
            bar.update(1)
        try:
            run_all(assignment, jobs, workers=options.workers, policy=policy_fields(root, assignment, options),
                    nbgrader_config=nbgrader_config(options), timeout=_student_timeout(assignment, options),
                    base=base, on_result=on_result)
        finally:
            bar.close()
            if not os.environ.get("TINYTORCH_KEEP_WORKERS"):  # everything useful was stored
                shutil.rmtree(base, ignore_errors=True)
    return run


def _progress(total, enabled, label):
    from tqdm import tqdm
    return tqdm(total=total, desc=f"grading {label}", unit="submission", disable=not enabled, file=sys.stderr)
