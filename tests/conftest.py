import pytest

from helpers import ROOT
from tinytorch.course.student import build_student_tree


@pytest.fixture(scope="session")
def student_tree(tmp_path_factory):
    "The student tree built from this repository, once per test process."
    return build_student_tree(ROOT, tmp_path_factory.mktemp("student") / "tree")
