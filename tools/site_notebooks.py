"""nbdev's docs processing of a course tree's notebooks, written to `_proc/` beside them.

Run by tools/build_site.py inside the student tree (`python tools/site_notebooks.py`, with the
tree as working folder and on PYTHONPATH, so the code it runs is the tree's own). It is what
`nbdev_proc_nbs` does, with one change: nbdev also runs every cell that merely *contains* an
import (its FAQ asks authors to keep imports in cells of their own); our notebooks' plotting
cells import matplotlib next to code that needs earlier, unexported cells, so here only the
exported cells (self-contained by design: they become the package) and nbdev's own `show_doc`
cells run. Every other cell keeps the student notebook's (empty) outputs.
"""
import os
import re
import shutil
from pathlib import Path

from execnb.nbio import read_nb, write_nb
from nbdev.config import get_config
from nbdev.processors import FilterDefaults, exec_show_docs

EXPORT_DIRECTIVES = {"export", "exports", "exporti"}
SHOW_DOC = re.compile(r"^show_doc\(", re.M)


class exec_exported_and_docs(exec_show_docs):
    "nbdev's `exec_show_docs`, running only exported cells and `show_doc` cells."
    def __call__(self, cell):
        code = cell.cell_type == "code" and cell.source
        if code and (EXPORT_DIRECTIVES & set(cell.directives_) or SHOW_DOC.search(cell.source)):
            super().__call__(cell)


class CourseFilter(FilterDefaults):
    def base_procs(self):
        return [exec_exported_and_docs if proc is exec_show_docs else proc for proc in super().base_procs()]


def process_tree() -> Path:
    "Process every file of the notebooks folder (settings.ini's nbs_path) into `_proc/`."
    cfg = get_config()
    source, proc = Path(cfg.nbs_path), Path(cfg.config_path) / "_proc"
    shutil.rmtree(proc, ignore_errors=True)
    os.environ["IN_TEST"] = "1"  # as nbdev's processing sets it: notebooks may skip slow demos
    for path in sorted(source.rglob("*")):
        if not path.is_file() or any(part.startswith((".", "_")) for part in path.relative_to(source).parts):
            continue
        target = proc / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".ipynb":
            nb = read_nb(path)
            CourseFilter()(nb)
            write_nb(nb, target)
        else:
            shutil.copy2(path, target)
    return proc


if __name__ == "__main__":
    print(process_tree())
