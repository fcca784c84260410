"Every source notebook runs top to bottom in a fresh kernel, offline, without an error."
import time

import pytest

from helpers import ROOT, kernel_env, module_notebooks
from tinytorch.course.execute import execute_notebook

NOTEBOOKS = module_notebooks()


@pytest.mark.slow
@pytest.mark.parametrize("path", [nb for _, nb in NOTEBOOKS], ids=[str(nb.relative_to(ROOT)) for _, nb in NOTEBOOKS])
def test_source_notebook_runs_clean(path):
    start = time.perf_counter()
    _, results = execute_notebook(path, extra_env=kernel_env(ROOT))
    elapsed = time.perf_counter() - start
    errors = [(r.grade_id, r.error) for r in results if r.error]
    assert not errors, f"cells raised: {errors}"
    # A generous bound: the design target is well under a minute on a loaded 2-core machine.
    assert elapsed < 120, f"{path.name} took {elapsed:.0f} s"
