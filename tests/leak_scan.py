"""Find solution code in a tree by its content, not only by its markers.

A check that only looks for `### BEGIN SOLUTION` passes when a tool drops the markers but keeps
the code. Here the actual lines of the instructor's solutions and hidden tests (helpers.py picks
them) are looked for in every file of a tree, notebook outputs included (a site's API docs, a
rendered traceback): the same rule as the student tree's own test, applied to what Binder and
the course site make.
"""
from pathlib import Path

from helpers import read_nb, secret_lines

from tinytorch.course.notebooks import BEGIN_HIDDEN, BEGIN_SOLUTION

MARKERS = (BEGIN_SOLUTION, BEGIN_HIDDEN)


def course_secrets() -> dict[str, str]:
    "{line: why} for every solution and hidden-test line of the course (none of which a learner may see)."
    secrets = secret_lines()
    assert len(secrets) > 20, "the course's notebooks should have solutions and hidden tests to look for"
    return secrets


def _texts(path: Path):
    "The text of a file; for a notebook, each cell's source and every textual output."
    if path.suffix == ".ipynb":
        for cell in read_nb(path).cells:
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


def find_leaks(tree: Path, secrets: dict[str, str]) -> list[str]:
    """Every secret line found anywhere in `tree`, and every region marker in a notebook or in the
    exported package (tinytorch/core), as 'file: why: line'. (The README and the course tools
    name the markers; that is no leak.)"""
    leaks = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.suffix == ".pyc":
            continue
        for text in _texts(path):
            if path.suffix == ".ipynb" or path.parent.name == "core":
                leaks += [f"{path.relative_to(tree)}: marker: {m}" for m in MARKERS if m in text]
            leaks += [f"{path.relative_to(tree)}: {why}: {line}" for line, why in secrets.items() if line in text]
    return leaks
