"""How fast does `tinytorch grade` get through a pile of submissions, one at a time vs in parallel?

Makes N synthetic submissions of a module (default 03, else the last module the course has):
a third filled with the solutions, a third untouched, a third with every other exercise solved.
Grades them once with one worker (what plain nbgrader does: one submission after the other)
and once with W workers, each in a fresh course folder, then prints seconds per submission,
the speed-up, and checks that both runs gave every learner the same score on every cell.

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

from tinytorch.course.grade import GradeOptions, grade, prepare  # noqa: E402

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


def timed_grade(module, pile: Path, course: Path, workers: int):
    shutil.copytree(pile, course / "submitted")
    prepare(ROOT, module, course)  # generate_assignment etc. once, outside the timing
    started = time.perf_counter()
    results = grade(ROOT, module, course, GradeOptions(workers=workers, progress=False), out=lambda *a: None)
    return time.perf_counter() - started, results


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
        parallel, many = timed_grade(module, pile, work / "parallel", args.workers)
    same = all(one[s]["cells"] == many[s]["cells"] for s in one) and set(one) == set(many)
    print(f"module {module.id}, {args.n} submissions")
    print(f"one at a time : {sequential:7.1f} s  ({sequential / args.n:5.2f} s per submission)")
    print(f"{args.workers} workers     : {parallel:7.1f} s  ({parallel / args.n:5.2f} s per submission)")
    print(f"speed-up      : {sequential / parallel:5.2f}x")
    print(f"same scores   : {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
