"""How fast does `tinytorch grade` get through a pile of submissions, and what does the sandbox cost?

Makes N synthetic submissions of a module (default 03, else the last module the course has):
a third filled with the solutions, a third untouched, a third with every other exercise solved.
Grades them, each run in a fresh course folder:

* with one worker, each kernel in its bubblewrap sandbox (one submission after the other, as
  plain nbgrader does);
* with one worker and --unsafe-no-sandbox: the difference is the sandbox's cost per submission;
* with W workers, sandboxed: the speed-up over one worker.

The difference of two whole runs is the sandbox's cost, but on a busy machine it drowns in noise
(it came out negative once), so the cost is also measured directly: a kernel's start (Python with
numpy and ipykernel imported, the kernel's environment) with and without bubblewrap, in
interleaved pairs, median of the differences. Each submission starts one kernel per notebook
(more only when a cell kills it).

It prints seconds per submission, the sandbox's cost both ways, the speed-up, and checks that every
run gave every learner the same score on every cell.

    .venv/bin/python benchmarks/bench_grading.py [--module 03] [-n 8] [--workers 2]
"""
import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinytorch.course.grading.grade import GradeOptions, grade  # noqa: E402
from tinytorch.course.grading.policy import GuardPolicy  # noqa: E402
from tinytorch.course.grading.prepare import prepare  # noqa: E402
from tinytorch.course.grading.sandbox import make_event_log, make_private_folder, sandbox_problem  # noqa: E402
from tinytorch.course.layout import CourseError, find_module, list_modules  # noqa: E402
from tinytorch.course.notebooks import fill_solutions, nbgrader_meta  # noqa: E402
from tinytorch.course.release import release  # noqa: E402


def pick_module(key):
    try:
        return find_module(ROOT, key)
    except CourseError:
        modules = [m for m in list_modules(ROOT) if m.notebook.is_file()]
        print(f"module {key} is not in this course yet; benchmarking {modules[-1].id} instead")
        return modules[-1]


def submissions(module, n, work: Path) -> Path:
    "N learners' folders under work/submitted, in three kinds (full, untouched, half done)."
    released_dir = release(ROOT, module.number, work / "release-course")[0]
    released = nbformat.read(released_dir / module.notebook.name, as_version=4)
    full = fill_solutions(released, nbformat.read(module.notebook, as_version=4))
    half = nbformat.from_dict(full)
    solutions = [c for c in half.cells if nbgrader_meta(c).get("solution")]
    stubs = {nbgrader_meta(c).get("grade_id"): c.source for c in released.cells}
    for cell in solutions[::2]:
        cell.source = stubs[nbgrader_meta(cell)["grade_id"]]
    kinds = [full, released, half]
    for i in range(n):
        folder = work / "pile" / f"learner{i:03d}" / module.id
        folder.mkdir(parents=True)
        nbformat.write(kinds[i % 3], folder / module.notebook.name)
    return work / "pile"


def timed_grade(module, pile: Path, course: Path, workers: int, sandbox: bool = True):
    shutil.copytree(pile, course / "submitted")
    prepare(ROOT, module, course)  # generate_assignment etc. once, outside the timing
    options = GradeOptions(workers=workers, progress=False, unsafe_no_sandbox=not sandbox)
    started = time.perf_counter()
    run = grade(ROOT, module, course, options, out=lambda *a: None)
    return time.perf_counter() - started, {s: r.cells for s, r in run.results.items()}


def kernel_start_cost(repeats: int) -> tuple[float, float]:
    "Median seconds to start a kernel's Python (numpy, ipykernel) bare, and the median extra in the sandbox."
    kernel = str(ROOT / "tinytorch" / "course" / "grading" / "kernel.py")
    start = [sys.executable, "-c", "import numpy, ipykernel.kernelapp"]
    bare, extra = [], []
    for _ in range(repeats):
        private = make_private_folder("tt-bench-")
        try:
            policy = GuardPolicy(private=str(private), references={}, kernel_script=kernel)
            make_event_log(policy)
            times = {}
            for name, argv, env in [("bare", start, policy.kernel_env()),
                                    ("sandboxed", policy.bwrap_argv("", start), None)]:
                began = time.perf_counter()
                subprocess.run(argv, env=env, check=True, capture_output=True, cwd=policy.work)
                times[name] = time.perf_counter() - began
        finally:
            shutil.rmtree(private, ignore_errors=True)
        bare.append(times["bare"])
        extra.append(times["sandboxed"] - times["bare"])
    return statistics.median(bare), statistics.median(extra)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="03")
    parser.add_argument("-n", type=int, default=8, help="number of submissions (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--starts", type=int, default=15, help="kernel starts timed each way (default 15)")
    args = parser.parse_args()
    problem = sandbox_problem()
    if problem:
        sys.exit(f"the benchmark measures the sandbox, which can't run here: {problem}")
    module = pick_module(args.module)
    start_bare, start_extra = kernel_start_cost(args.starts)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        work = Path(tmp)
        pile = submissions(module, args.n, work)
        sequential, one = timed_grade(module, pile, work / "sequential", 1)
        unsandboxed, bare = timed_grade(module, pile, work / "unsandboxed", 1, sandbox=False)
        parallel, many = timed_grade(module, pile, work / "parallel", args.workers)
    same = one == many == bare
    n = args.n
    print(f"module {module.id}, {n} submissions")
    print(f"one at a time, sandboxed     : {sequential:7.1f} s  ({sequential / n:5.2f} s per submission)")
    print(f"one at a time, no sandbox    : {unsandboxed:7.1f} s  ({unsandboxed / n:5.2f} s per submission)")
    print(f"sandbox cost, whole runs     : {(sequential - unsandboxed) / n:+5.2f} s per submission "
          f"({100 * (sequential - unsandboxed) / unsandboxed:+.0f}%; the difference of two runs, noisy)")
    print(f"sandbox cost, kernel start   : {start_extra:+5.3f} s per kernel (bare start {start_bare:.3f} s; "
          f"median of {args.starts} interleaved pairs), {100 * start_extra / (sequential / n):+.1f}% of a submission")
    print(f"{args.workers} workers, sandboxed         : {parallel:7.1f} s  ({parallel / n:5.2f} s per submission)")
    print(f"speed-up                     : {sequential / parallel:5.2f}x")
    print(f"same scores in all three runs: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
