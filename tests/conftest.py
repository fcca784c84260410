import pytest

from helpers import ROOT
from tinytorch.course.student import build_student_tree


@pytest.fixture(scope="session")
def student_tree(tmp_path_factory):
    "The student tree built from this repository, once per test process."
    return build_student_tree(ROOT, tmp_path_factory.mktemp("student") / "tree")


# The fast lane (`scripts/test.sh --fast`) leaves out whole files that build or drive something big.
# They are marked here, by file, so that no test file has to remember it (markers: pyproject.toml).
LANES = {"test_binder.py": "binder", "test_browser.py": "browser", "test_hub.py": "hub",
         "test_grading_e2e.py": "corpus", "test_autograde_modules.py": "corpus",
         "test_optimizers_grading.py": "corpus", "test_grading_checks.py": "corpus"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        lane = LANES.get(item.path.name)
        if lane:
            item.add_marker(getattr(pytest.mark, lane))
