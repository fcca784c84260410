"""Export notebooks into the package with nbdev, in whichever course tree we are in.

In the instructor tree this regenerates the reference `tinytorch/core`; in a student tree
it puts the learner's own code into their package.
"""
import os
import subprocess
import sys
from pathlib import Path

from .layout import CourseError, find_root

# nbdev_export reads settings.ini from the working directory, so it runs in the tree's root.
_EXPORT = "from nbdev.doclinks import nbdev_export; nbdev_export()"


def export_tree(root) -> None:
    "Export every notebook of the course at `root` into `root/tinytorch`."
    proc = subprocess.run([sys.executable, "-c", _EXPORT], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CourseError(f"nbdev_export failed in {root}:\n{proc.stdout}{proc.stderr}")


def export_from_notebook(notebook_name: str) -> None:
    """Called from the last cell of each module: export the course this notebook belongs to.

    Does nothing under the autograder (nbgrader sets NBGRADER_EXECUTION) or a test run
    (TINYTORCH_NO_EXPORT), which must never rewrite a package, nor outside a course tree.
    """
    if os.environ.get("NBGRADER_EXECUTION") or os.environ.get("TINYTORCH_NO_EXPORT"):
        print("Grading or test run: nothing exported.")
        return
    try:
        root = find_root(Path.cwd())
    except CourseError as e:
        print(f"Not exported: {e}")
        return
    export_tree(root)
    print(f"Exported the notebooks of {root} into {root / 'tinytorch'} (from {notebook_name}). "
          "Restart the kernel of the next module to import the new code.")
