"""`tinytorch test MODULE`: run a module's visible tests on the learner's own notebook."""
import os
from pathlib import Path

from .execute import execute_notebook
from .layout import find_module


def check_module(root, key, out=print) -> bool:
    "Execute the module's notebook in a fresh kernel, print a line per test cell, return True if all pass."
    module = find_module(root, key)
    # The learner's own package must be the one the notebook imports.
    pythonpath = os.pathsep.join(filter(None, [str(Path(root).resolve()), os.environ.get("PYTHONPATH")]))
    results = []
    for notebook in sorted(module.dir.glob("*.ipynb"), key=lambda p: (p != module.notebook, p.name)):
        out(f"Running {notebook.relative_to(root)} in a fresh kernel ...")
        results += execute_notebook(notebook, extra_env={"PYTHONPATH": pythonpath})[1]
    tests = [r for r in results if r.kind == "test"]
    earned = sum(r.points for r in tests if r.error is None)
    for r in tests:
        status = "ok" if r.error is None else "FAILED"
        out(f"  {r.grade_id:<32} {r.points:>4g} pt  {status}")
        if r.error:  # a check's message is several lines: the case, expected vs got, the mistake it matches
            for line in r.error.splitlines()[:8]:
                out(f"      {line[:200]}")
    broken = [r for r in results if r.kind != "test" and r.error and not r.error.startswith("NotImplementedError")]
    for r in broken:
        out(f"  note: {r.grade_id} raised {r.error.splitlines()[0][:200]}")
    total = sum(r.points for r in tests)
    out(f"{sum(r.error is None for r in tests)}/{len(tests)} test cells pass, {earned:g}/{total:g} points "
        "(visible tests only: the autograder also runs hidden tests)")
    return all(r.error is None for r in tests)
