"The generated package must be exactly what nbdev_export makes of the notebooks."
import filecmp
import subprocess
import sys

from helpers import ROOT, copy_course


def test_nbdev_export_leaves_no_diff(tmp_path):
    course = copy_course(tmp_path)
    # Start from no generated files at all, so a module whose notebook is gone is caught too.
    for generated_file in [*(course / "tinytorch" / "core").glob("*.py"), course / "tinytorch" / "_modidx.py"]:
        if generated_file.name != "__init__.py":
            generated_file.unlink()
    subprocess.run([sys.executable, "-c", "from nbdev.doclinks import nbdev_export; nbdev_export()"],
                   cwd=course, check=True, capture_output=True)
    generated = sorted(p.relative_to(course) for p in (course / "tinytorch").rglob("*.py"))
    committed = sorted(p.relative_to(ROOT) for p in (ROOT / "tinytorch").rglob("*.py"))
    assert generated == committed, "nbdev_export created or removed files: run nbdev_export and commit"
    stale = [str(p) for p in generated if not filecmp.cmp(course / p, ROOT / p, shallow=False)]
    assert not stale, f"out of sync with the notebooks (run .venv/bin/nbdev_export and commit): {stale}"


def test_nbdev_export_does_not_touch_packaging(tmp_path):
    course = copy_course(tmp_path)
    before = (course / "pyproject.toml").read_text()
    subprocess.run([sys.executable, "-c", "from nbdev.doclinks import nbdev_export; nbdev_export()"],
                   cwd=course, check=True, capture_output=True)
    assert (course / "pyproject.toml").read_text() == before
    assert "__version__" in (course / "tinytorch" / "__init__.py").read_text()
