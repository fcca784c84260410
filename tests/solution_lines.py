"""Find solution code by its content, not by its markers.

A leak check that only looks for `### BEGIN SOLUTION` passes when a tool drops the markers
but keeps the code. Here we take the actual lines between the markers of the instructor's
notebooks (solutions and hidden tests) and look for those lines in every file of a tree.
"""
import json
from pathlib import Path

REGIONS = {"### BEGIN SOLUTION": "### END SOLUTION", "### BEGIN HIDDEN TESTS": "### END HIDDEN TESTS"}
MARKERS = (*REGIONS, *REGIONS.values())


def _cell_sources(notebook: Path):
    nb = json.loads(notebook.read_text())
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        yield "".join(source) if isinstance(source, list) else source


def _split(source: str):
    "Yield (line, inside_a_region) for each line of one cell."
    end = None
    for line in source.splitlines():
        stripped = line.strip()
        if end is None and stripped in REGIONS:
            end = REGIONS[stripped]
        elif end is not None and stripped == end:
            end = None
        elif stripped not in MARKERS:
            yield stripped, end is not None


def secret_lines(notebooks) -> set[str]:
    """Lines that only occur inside solution or hidden-test regions of `notebooks`.

    Lines that also appear outside the regions of any notebook (a shared `else:`, an import,
    a line the skeleton repeats) are not evidence of a leak and are left out, as are lines too
    short to identify anything.
    """
    inside, outside = set(), set()
    for notebook in notebooks:
        for source in _cell_sources(notebook):
            for line, secret in _split(source):
                (inside if secret else outside).add(line)
    return {line for line in inside - outside if len(line) >= 8 and any(c.isalnum() for c in line)}


def _texts(path: Path):
    "The text of a file; for a notebook, each cell's source and text outputs."
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        for cell in nb.get("cells", []):
            source = cell.get("source", "")
            yield "".join(source) if isinstance(source, list) else source
            for output in cell.get("outputs", []):
                for text in [output.get("text", ""), *output.get("data", {}).values()]:
                    if isinstance(text, (str, list)):  # text, Markdown, HTML; images are base64 strings
                        yield "".join(text) if isinstance(text, list) else text
    else:
        try:
            yield path.read_text()
        except (UnicodeDecodeError, OSError):
            return  # binary files (images, compiled bytecode) hold no source lines


def find_leaks(tree: Path, secrets: set[str]) -> list[str]:
    """Every place in `tree` where a secret line appears, or a region marker in code, as 'file: line'.

    (The README may name the markers; a notebook or a Python file holding one is a leak.)
    """
    leaks = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or path.suffix == ".pyc":
            continue
        for text in _texts(path):
            for line in text.splitlines():
                stripped = line.strip()
                marker = path.suffix in (".ipynb", ".py") and any(m in stripped for m in MARKERS)
                if stripped in secrets or marker:
                    leaks.append(f"{path.relative_to(tree)}: {stripped}")
    return leaks
