"""How fast does `tinytorch grade` get through a pile of submissions, and what does the sandbox cost?

Makes N synthetic submissions of a module (default 03, else the last module the course has):
a third filled with the solutions, a third untouched, a third with every other exercise solved.
Grades them, each run in a fresh course folder:

* with one worker, each kernel in its bubblewrap sandbox (one submission after the other, as
  plain nbgrader does);
* with one worker and --unsafe-no-sandbox: the difference is the sandbox's cost per submission;
* with W workers, sandboxed: the speed-up over one worker.

It prints seconds per submission, the sandbox's cost, the speed-up, and checks that every run
gave every learner the same score on every cell.

    .venv/bin/python benchmarks/bench_grading.py [--module 03] [-n 8] [--workers 2]
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinytorch.course.grading.grade import GradeOptions, grade  # noqa: E402
from tinytorch.course.grading.prepare import prepare  # noqa: E402
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="03")
    parser.add_argument("-n", type=int, default=8, help="number of submissions (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers (default 2)")
    args = parser.parse_args()
    module = pick_module(args.module)
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
    print(f"sandbox cost                 : {(sequential - unsandboxed) / n:+5.2f} s per submission "
          f"({100 * (sequential - unsandboxed) / unsandboxed:+.0f}%)")
    print(f"{args.workers} workers, sandboxed         : {parallel:7.1f} s  ({parallel / n:5.2f} s per submission)")
    print(f"speed-up                     : {sequential / parallel:5.2f}x")
    print(f"same scores in all three runs: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
