"The `tinytorch` command: clear errors, and a learner's work is never overwritten."
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT, copy_course, kernel_env

from tinytorch.course.cli import main
from tinytorch.course.lab import lab_command
from tinytorch.course.layout import CourseError, find_module, find_root


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "tinytorch.course.cli", *args], cwd=cwd,
                          env=kernel_env(cwd), capture_output=True, text=True)


@pytest.mark.parametrize("key", ["1", "01", "tensor", "01_tensor", " Tensor "])
def test_module_names(key):
    assert find_module(ROOT, key).id == "01_tensor"


def test_unknown_module_lists_the_known_ones(capsys):
    assert main(["--root", str(ROOT), "test", "99"]) == 2
    err = capsys.readouterr().err
    assert "unknown module '99'" in err and "01_tensor" in err


def test_missing_notebook(tmp_path):
    course = copy_course(tmp_path)
    (course / "modules" / "01_tensor" / "tensor.ipynb").unlink()
    with pytest.raises(CourseError, match=r"01_tensor has no notebook.*tensor\.ipynb"):
        find_module(course, "01")


def test_not_a_course(tmp_path):
    proc = run_cli("export", cwd=tmp_path)
    assert proc.returncode == 2 and "is not inside a tinytorch course" in proc.stderr and "Traceback" not in proc.stderr


def test_find_root_from_a_module_folder():
    assert find_root(ROOT / "modules" / "01_tensor") == ROOT


def test_student_refuses_a_non_empty_destination(tmp_path):
    (tmp_path / "mine.txt").write_text("my work")
    assert main(["--root", str(ROOT), "student", str(tmp_path)]) == 2
    assert (tmp_path / "mine.txt").read_text() == "my work"


def test_export_and_test_in_a_student_tree(student_tree, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(student_tree, tree)
    proc = run_cli("test", "01", cwd=tree / "modules" / "01_tensor")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "test_matmul" in proc.stdout and "NotImplementedError" in proc.stdout and "0/16 points" in proc.stdout
    proc = run_cli("export", cwd=tree)
    assert proc.returncode == 0 and "Exported 01_tensor" in proc.stdout, proc.stderr


def test_lab_serves_only_student_trees(student_tree):
    with pytest.raises(CourseError, match="not a student tree"):
        lab_command(ROOT)
    cmd, env = lab_command(student_tree, port=9999, open_browser=False)
    assert "--LabApp.default_url=/lab/tree/modules/01_tensor/tensor.ipynb" in cmd
    assert env["PYTHONPATH"].split(":")[0] == str(student_tree)


def test_export_refuses_when_the_notebook_on_disk_is_older_than_what_ran(tmp_path):
    import nbformat

    from tinytorch.course.export import unsaved_exports
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("#| export\ndef f():\n    return 1"),
                                         nbformat.v4.new_code_cell("#| export\nclass A:\n    pass")])
    path = tmp_path / "m.ipynb"
    nbformat.write(nb, path)
    saved_f, saved_a = nb.cells[0].source, nb.cells[1].source
    edited_f = "#| export\ndef f():\n    return 2"
    assert unsaved_exports(path, [saved_f, saved_a]) == []
    assert unsaved_exports(path, [edited_f, saved_a]) == ["f"], "ran an edit that was not saved"
    assert unsaved_exports(path, [edited_f, saved_f]) == [], "the last run of each cell is what counts"
    assert unsaved_exports(path, ["x = 1", "#| export\ndef g(): pass"]) == [], "new or plain cells are not compared"
