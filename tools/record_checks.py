"""Record what the checks of a notebook expect, and what each catalogued mistake makes them say.

    python tools/record_checks.py modules/03_optimizers/optimizers.ipynb     # one notebook
    python tools/record_checks.py --all                                      # every notebook
    python tools/record_checks.py --all --no-mistakes                        # reference values only (fast)

For each notebook it runs the instructor's notebook with TINYTORCH_CHECKS=record and collects
every check's value: those are the expected values. Then it runs the notebook once per mistake
of the module's catalogue (`modules/NN_name/mistakes.py`) that patches it, and keeps, for every
check the mistake changes, the value it produced: its fingerprint. It writes

* the instructor store `modules/NN_name/<notebook>.checks.json` (everything; never released), and
* the learner store `tinytorch/checks/data/<notebook>.json` (visible checks' expected values and
  fingerprints, quiz hashes with the typical slips of `modules/NN_name/slips.py`).

It refuses to record when the reference itself fails a check, when a cell's check points don't
add up to the cell's nbgrader points, or when a mistake no longer applies.
"""
import argparse
import ast
import hashlib
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinytorch.checks import quiz as quizzes  # noqa: E402
from tinytorch.checks.judge import error_fingerprint, judge  # noqa: E402
from tinytorch.checks.stores import INSTRUCTOR_SUFFIX, Fingerprint, RecordedCheck, Store, data_dir, write_store  # noqa: E402
from tinytorch.course.check_runs import checks_of, run_notebook  # noqa: E402
from tinytorch.course.mistakes import StaleMistake, apply_mistake, load_catalogue, load_module_file, mistakes_for  # noqa: E402


class RecordError(Exception):
    pass


def _notebooks(args) -> list[Path]:
    if args.all:
        return sorted(p for p in (ROOT / "modules").glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return [Path(p).resolve() for p in args.notebooks]


def plain_asserts(source: str) -> int:
    """How many `assert` statements and `np.testing` calls a test cell holds. A cell graded by its checks
    may have none: under grading its score is the sum of its checks, so an assert beside them would weigh
    nothing (and its expected value would sit in the learner's kernel)."""
    code = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return 0
    return sum(isinstance(node, ast.Assert) for node in ast.walk(tree)) + code.count("np.testing.")


def reference_checks(nb, folder: Path) -> tuple[dict, dict]:
    "({cell: {name: Report}}, {cell: points}) of the reference run; RecordError if the reference fails."
    run = run_notebook(nb, folder, "record")
    sources = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells if c.cell_type == "code"}
    problems, cells, points = [], {}, {}
    for cell in run.cells:
        if cell.error:
            problems.append(f"cell {cell.grade_id} raised {cell.error}")
        reports = checks_of(cell)
        if not reports:
            continue
        if not cell.graded:
            problems.append(f"cell {cell.grade_id} has checks but is not a graded test cell")
        if plain_asserts(sources.get(cell.grade_id, "")):
            problems.append(f"cell {cell.grade_id} mixes checks with plain asserts or np.testing: "
                            "make each of them a check (an assert beside checks carries no points)")
        by_name = {}
        for r in reports:
            if r.error:
                problems.append(f"{cell.grade_id}: check {r.check!r} failed on the reference: {r.error}")
            if r.check in by_name:
                problems.append(f"{cell.grade_id}: two checks named {r.check!r}")
            by_name[r.check] = r
        total = sum(r.points for r in reports)
        if abs(total - cell.points) > 1e-9:
            problems.append(f"{cell.grade_id}: its checks have {total:g} points, the cell has {cell.points:g}")
        cells[cell.grade_id], points[cell.grade_id] = by_name, cell.points
    if problems:
        raise RecordError("the reference does not pass its own checks:\n  " + "\n  ".join(problems))
    return cells, points


def _mistake_run(args):
    nb_dict, folder, name, mistake = args
    patched = apply_mistake(nbformat.from_dict(nb_dict), mistake, name)
    try:
        run = run_notebook(patched, Path(folder), "record")
    except Exception:  # noqa: BLE001 - two kernels started at once can race for a port ("Address already in use"): once more
        run = run_notebook(patched, Path(folder), "record")
    return name, {c.grade_id: {r.check: r for r in checks_of(c)} for c in run.cells if c.graded}


def _salt(notebook: str, name: str) -> str:
    # Deterministic, so recording twice gives the same store; a salt needs to be unique, not secret.
    return hashlib.sha256(f"tinytorch quiz|{notebook}|{name}".encode()).hexdigest()[:16]


def _load_slips(module_dir: Path) -> dict:
    return load_module_file(module_dir / "slips.py", "SLIPS")


def record(path: Path, with_mistakes=True, jobs=2, out=print) -> tuple[Store, Store]:
    nb = nbformat.read(path, as_version=4)
    notebook, folder = path.stem, path.parent
    cells, points = reference_checks(nb, folder)
    catalogue = mistakes_for(path, load_catalogue(folder / "mistakes.py")) if with_mistakes else {}
    catalogue |= {k: v for k, v in (mistakes_for(path, load_catalogue(folder / f"{notebook}_mistakes.py"))
                                    if with_mistakes else {}).items()}
    fingerprints = {}   # (cell, check) -> [Fingerprint]
    lost = {}           # mistake -> cells where a check changed
    if catalogue:
        work = [(nb, str(folder), name, m) for name, m in catalogue.items()]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for name, runs in pool.map(_mistake_run, work):
                mistake = catalogue[name]
                for cell, reports in cells.items():
                    for check, ref in reports.items():
                        got = runs.get(cell, {}).get(check)
                        if got is None:        # the cell stopped before this check: nothing to recognise it by
                            lost.setdefault(name, set()).add(cell)
                            continue
                        options = ref.options or {}
                        unchanged = ref.kind == "quiz" or judge(ref.kind, got.value, ref.value, options).passed
                        if got.error is None and unchanged:
                            continue
                        lost.setdefault(name, set()).add(cell)
                        value = error_fingerprint(got.error) if got.error is not None else got.value
                        fingerprints.setdefault((cell, check), []).append(
                            Fingerprint(name, mistake.description, mistake.section, value))
                missed = set(mistake.catches) - lost.get(name, set())
                caught = f"; NOT caught by {sorted(missed)}" if missed else ""
                out(f"  {name}: changes {sorted(lost.get(name, ()))}{caught}")

    slips = _load_slips(folder)
    instructor, learner = Store(notebook, points=points), Store(notebook)
    for cell, reports in cells.items():
        for check, r in reports.items():
            prints = tuple(fingerprints.get((cell, check), ()))
            instructor.cells.setdefault(cell, {})[check] = RecordedCheck(r.kind, r.points, r.hidden, r.options or {},
                                                                        r.value, prints)
            if r.kind == "quiz":
                options = r.options or {}
                entry = quizzes.answer_entry(check, r.value, slips.get(check, []), options.get("rtol", 1e-3),
                                             options.get("atol", 0.0), salt=_salt(notebook, check))
                learner.quizzes[check] = entry
            elif not r.hidden:
                learner.cells.setdefault(cell, {})[check] = RecordedCheck(r.kind, r.points, False, r.options or {},
                                                                         r.value, prints)
    write_store(folder / f"{notebook}{INSTRUCTOR_SUFFIX}", instructor)
    data_dir().mkdir(parents=True, exist_ok=True)
    write_store(data_dir() / f"{notebook}.json", learner)
    return instructor, learner


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--all", action="store_true", help="every notebook of the course")
    parser.add_argument("--no-mistakes", action="store_true", help="reference values only, no fingerprints")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.notebooks and not args.all:
        parser.error("name notebooks, or --all")
    status = 0
    for path in _notebooks(args):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:")
        try:
            instructor, learner = record(path, not args.no_mistakes, args.jobs)
        except (RecordError, StaleMistake) as e:
            print(f"  {e}")
            status = 1
            continue
        n = sum(len(c) for c in instructor.cells.values())
        print(f"  recorded {n} checks in {len(instructor.cells)} cells, {len(learner.quizzes)} quiz answers")
    return status


if __name__ == "__main__":
    sys.exit(main())
