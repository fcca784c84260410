import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import pytest
from filelock import FileLock
from helpers import ROOT, kernel_env

from tinytorch.course.claims import ENV_FILE
from tinytorch.course.execute import CellResult, execute_notebook
from tinytorch.course.layout import STUDENT_MARKER
from tinytorch.course.student import build_student_tree


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory, worker_id, testrun_uid) -> Path:
    """A folder that every pytest-xdist worker of this test run sees (the parent of the workers' own
    temporary folders), for what is built once per run and read by tests on every worker. Each entry
    is made under a file lock by the first worker that needs it (see `shared`)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if worker_id != "master" else base
    folder = root / f"shared-{testrun_uid}"
    folder.mkdir(exist_ok=True)
    return folder


def shared(folder: Path, name: str, make) -> Path:
    """`folder/name`, made by `make(path)` on first use across all workers of the run and reused after.
    A failed `make` leaves nothing behind, so the next worker tries again (and fails the same way)."""
    done = folder / f"{name}.done"
    with FileLock(str(folder / f"{name}.lock")):
        if not done.exists():
            target = folder / name
            shutil.rmtree(target, ignore_errors=True)
            make(target)
            done.touch()
    return folder / name


@pytest.fixture(scope="session")
def student_tree(shared_dir) -> Path:
    """The student tree built from this repository, once per test run (shared by the xdist workers: read it,
    don't change it)."""
    tree = shared(shared_dir, "student", lambda path: build_student_tree(ROOT, path / "tree")) / "tree"
    assert (tree / STUDENT_MARKER).is_file()
    return tree


@dataclass(frozen=True)
class ExecutedRun:
    nb: object            # the executed notebook, outputs filled in
    results: list         # tinytorch.course.execute.CellResult of every code cell
    elapsed: float        # seconds the run took
    claims_file: Path     # what the run's `claim(...)` calls recorded (tinytorch.course.claims)


@pytest.fixture(scope="session")
def executed_notebook(shared_dir):
    """`run(path)`: the source notebook at `path` run top to bottom in a fresh kernel, offline, with the
    repository's package and a claims file (tinytorch.course.claims.ENV_FILE), once per test run; the
    tests that read the run (tests/test_notebooks_run.py, tests/test_prose_claims.py) share it."""
    def run(path) -> ExecutedRun:
        path = Path(path)

        def make(folder: Path):
            folder.mkdir(parents=True)
            start = time.perf_counter()
            nb, results = execute_notebook(path, extra_env={**kernel_env(ROOT), ENV_FILE: str(folder / "claims.jsonl")})
            elapsed = time.perf_counter() - start
            nbformat.write(nb, folder / "executed.ipynb")
            (folder / "run.json").write_text(json.dumps({"elapsed": elapsed, "results": [asdict(r) for r in results]}))

        folder = shared(shared_dir, "executed-" + str(path.relative_to(ROOT)).replace("/", "__"), make)
        run = json.loads((folder / "run.json").read_text())
        return ExecutedRun(nbformat.read(folder / "executed.ipynb", as_version=4),
                           [CellResult(**r) for r in run["results"]], run["elapsed"], folder / "claims.jsonl")
    return run


# The fast lane (`scripts/test.sh --fast`) leaves out whole files that build or drive something big.
# They are marked here, by file, so that no test file has to remember it (markers: pyproject.toml).
LANES = {"test_binder.py": "binder", "test_browser.py": "browser",
         "test_hub.py": ("hub", "browser"),   # its learners work in Chromium
         "test_grading_e2e.py": "corpus", "test_autograde_modules.py": "corpus",
         "test_optimizers_grading.py": "corpus", "test_grading_checks.py": "corpus",
         # module 03's release filled with every catalogued mistake (a sample: tests/test_learner_loop.py)
         "test_learner_loop_optimizers.py": "corpus"}


# The longest tests, longest first (seconds on 2 cores): a whole file (its tests stay together, so a
# module-scoped fixture is built once) or one test that shares no module-scoped fixture. The workers
# take tests in this order (pytest-xdist's worksteal: a worker that runs out takes half of the other's
# queue), so the long ones start early and the short ones fill the gaps. In file order, module 03's
# filled package came last and ran alone for 50 s of a 190 s fast lane. Only the order depends on
# this list, never a result.
LONGEST_FIRST = [
    "test_optimizers_grading.py",   # 330, corpus
    "test_grading_e2e.py",   # 250, corpus
    "test_learner_loop_optimizers.py",   # 110, corpus
    "test_hub.py",   # 125, browser
    "test_binder.py",   # 100
    "test_autograde_modules.py",   # 120, corpus
    "test_student_tree.py::test_filled_learner_package_passes_full_tests[03_optimizers]",   # 30-40
    "test_notebooks_run.py::test_source_notebook_runs_clean[modules/03_optimizers/optimizers.ipynb]",   # 20-25
    "test_student_tree.py::test_filled_learner_package_passes_full_tests[04_training]",   # 11
    "test_notebooks_run.py::test_source_notebook_runs_clean[modules/04_training/training.ipynb]",   # 11
    "test_lab_serves.py::test_lab_lands_on_module_01_of_the_student_tree",   # 11
    "test_benchmark_runs.py::test_benchmark_quick_run_prints_the_whole_table",   # 11
    "test_cli.py::test_export_and_test_in_a_student_tree",   # 8
    "test_student_tree.py::test_filled_learner_package_passes_full_tests[02_autograd]",   # 8
    "test_notebooks_run.py::test_source_notebook_runs_clean[modules/03_optimizers/fused.ipynb]",   # 7
]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    # sort is stable: within a listed file, and for everything unlisted, the order stays the files' own
    items.sort(key=lambda item: rank.get(f"{item.path.name}::{item.name}", rank.get(item.path.name, len(rank))))
    for item in items:
        lanes = LANES.get(item.path.name, ())
        for lane in (lanes,) if isinstance(lanes, str) else lanes:
            item.add_marker(getattr(pytest.mark, lane))
        if "student_tree" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)   # the student tree is made by nbgrader (once per run)
