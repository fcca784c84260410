"""Export notebooks into the package with nbdev, in whichever course tree we are in.

In the instructor tree this regenerates the reference `tinytorch/core`; in a student tree
it puts the learner's own code into their package.
"""
import ast
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


def _defined_names(source: str):
    "The names a cell's top-level `def`s and `class`es define: what identifies an exported cell."
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names = tuple(node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef)))
    return names or None


def unsaved_exports(notebook_path, ran_cells) -> list[str]:
    """Names defined by exported cells whose last run (`ran_cells`, oldest first, as in IPython's `In`)
    differs from the notebook saved on disk: nbdev exports the file, so those edits would be lost."""
    # Imported here, not above: every module's last cell imports this file, and importing nbformat takes
    # over a second (jsonschema's format checkers build their parsers), which a graded or tested run,
    # which never exports, would pay for nothing.
    import nbformat

    saved = {}
    for cell in nbformat.read(notebook_path, as_version=4).cells:
        if cell.cell_type == "code" and (names := _defined_names(cell.source)):
            saved[names] = cell.source.strip()
    last_run = {}
    for source in ran_cells:
        if source.lstrip().startswith(("#| export", "#|export")) and (names := _defined_names(source)):
            last_run[names] = source.strip()
    return [name for names, source in last_run.items() if saved.get(names, source) != source for name in names]


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
    try:
        from IPython import get_ipython
        ran = get_ipython().user_ns.get("In", []) if get_ipython() else []
    except ImportError:
        ran = []
    stale = unsaved_exports(Path.cwd() / notebook_name, ran) if (Path.cwd() / notebook_name).is_file() else []
    if stale:
        print(f"Not exported: the saved {notebook_name} is older than the code you ran for {', '.join(stale)}. "
              "The export reads the file on disk: save the notebook (Ctrl+S), then run this cell again.")
        return
    export_tree(root)
    print(f"Exported the notebooks of {root} into {root / 'tinytorch'} (from {notebook_name}). "
          "Restart the kernel of the next module to import the new code.")
