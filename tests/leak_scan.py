"""Find solution code in a tree by its content, not only by its markers.

A check that only looks for `### BEGIN SOLUTION` passes when a tool drops the markers but keeps
the code. Here the actual lines of the instructor's solutions and hidden tests (helpers.py picks
them) are looked for in every file of a tree, notebook outputs included (a site's API docs, a
rendered traceback).
"""
from pathlib import Path

from helpers import hidden_test_lines, module_notebooks, read_nb, solution_lines
from tinytorch.course.notebooks import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION

MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)


def course_secrets() -> set[str]:
    "Every solution and hidden-test line of the course's notebooks (none of which a learner may see)."
    secrets = set()
    for _, notebook in module_notebooks():
        nb = read_nb(notebook)
        secrets |= solution_lines(nb) | hidden_test_lines(nb)
    assert len(secrets) > 20, "the course's notebooks should have solutions and hidden tests to look for"
    return secrets


def _texts(path: Path):
    "The text of a file; for a notebook, each cell's source and every textual output."
    if path.suffix == ".ipynb":
        nb = read_nb(path)
        for cell in nb.cells:
            yield cell.source
            for output in cell.get("outputs", []):
                for text in [output.get("text", ""), *output.get("data", {}).values()]:
                    if isinstance(text, str):  # text, Markdown, HTML (images are base64 strings: harmless)
                        yield text
    else:
        try:
            yield path.read_text()
        except (UnicodeDecodeError, OSError):
            return  # binary files (images, bytecode) hold no source lines


def find_leaks(tree: Path, secrets: set[str]) -> list[str]:
    """Every place in `tree` where a secret line appears, or a region marker in a notebook or in
    the exported package (tinytorch/core), as 'file: line'. (The README and the course tools name
    the markers; that is no leak.)
    """
    leaks = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.suffix == ".pyc":
            continue
        for text in _texts(path):
            for line in text.splitlines():
                stripped = line.strip()
                marker = (path.suffix == ".ipynb" or path.parent.name == "core") and any(m in stripped for m in MARKERS)
                if stripped in secrets or marker:
                    leaks.append(f"{path.relative_to(tree)}: {stripped}")
    return leaks
