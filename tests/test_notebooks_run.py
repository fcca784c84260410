"Every source notebook runs top to bottom in a fresh kernel, offline, without an error."
import pytest
from helpers import ROOT, module_notebooks

NOTEBOOKS = module_notebooks()


@pytest.mark.slow
@pytest.mark.parametrize("path", [nb for _, nb in NOTEBOOKS], ids=[str(nb.relative_to(ROOT)) for _, nb in NOTEBOOKS])
def test_source_notebook_runs_clean(path, executed_notebook):
    run = executed_notebook(path)   # the run tests/test_prose_claims.py reads too (conftest.py: once per test run)
    errors = [(r.grade_id, r.error) for r in run.results if r.error]
    assert not errors, f"cells raised: {errors}"
    # A generous bound: the design target is well under a minute on a loaded 2-core machine.
    assert run.elapsed < 120, f"{path.name} took {run.elapsed:.0f} s"
