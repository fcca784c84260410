"""Prepare a module for grading, once per run: the marked source in the gradebook, the tests as
learners received them, one reference package per notebook, the grading kernelspec.

nbgrader's generate_assignment only runs when the module's source (or the kernel) changed since
last time: it refuses to drop graded cells that already have grades, and it takes seconds.
`load` reads what an earlier `prepare` made and never regenerates anything (for `summary`).
"""
import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..layout import CourseError, Module, list_modules
from ..nbgrader_runner import prepare_course_dir, run_nbgrader
from ..notebooks import nbgrader_meta
from ..submissions import ExpectedNotebook
from . import kernel as kernel_module
from .layout import CourseFolder
from .marks import mark_test_cells, unmark
from .sandbox import make_matplotlib_cache

KERNEL_NAME = "tinytorch-grader"
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")
EXPORT_TARGET = re.compile(r"^#\|\s*default_exp\s+([\w.]+)", re.M)
CORE_IMPORT = re.compile(r"tinytorch\.core\.(\w+)|from\s+tinytorch\.core\s+import\s+([\w, ()]+)")
RELATIVE_IMPORT = re.compile(r"^\s*from\s+\.(\w+)\s+import", re.M)
# What a notebook may import of the course tooling under grading: the last cell's export call,
# which does nothing there. Nothing else of tinytorch/course/ is in a reference package.
EXPORT_STUB = '''"""Exporting does nothing under the autograder."""


def export_from_notebook(notebook_name: str) -> None:
    print("Grading run: nothing exported.")
'''


@dataclass
class Assignment:
    "A module prepared for grading in a course folder."
    module: Module
    folder: CourseFolder
    expected: list                      # [ExpectedNotebook]
    source_hash: str
    dependencies: dict = field(default_factory=dict)  # {notebook: [package modules its reference holds]}
    withheld: list = field(default_factory=list)      # every package module this module's notebooks export

    @property
    def id(self) -> str:
        return self.module.id

    @property
    def course(self) -> Path:
        return self.folder.root

    @property
    def tests(self) -> dict:
        "{(notebook, grade_id): points} in notebook order."
        return {(nb.name, gid): pts for nb in self.expected for gid, pts in nb.tests.items()}

    def reference_for(self, notebook: str) -> Path:
        return self.folder.reference(self.id, notebook)


# --------------------------------------------------------------------------- dependencies
def exported_modules(nb) -> list[str]:
    "The package modules a notebook exports to, e.g. ['core.optimizers'] from `#| default_exp core.optimizers`."
    return sorted({m for cell in nb.cells if cell.cell_type == "code" for m in EXPORT_TARGET.findall(cell.source)})


def _imported_core(text: str) -> set[str]:
    found = set()
    for dotted, names in CORE_IMPORT.findall(text):
        if dotted:
            found.add(dotted)
        else:
            found.update(n.strip() for n in names.replace("(", "").replace(")", "").split(",") if n.strip())
    return {f"core.{name}" for name in found}


def dependencies(root: Path, module: Module, nb) -> list[str]:
    """The package modules a notebook of `module` may use from the reference: what its code imports
    and, transitively, what those import, limited to modules of the same or an earlier module of
    the course, less what the notebook exports itself (graded, so withheld)."""
    package = root / "tinytorch"
    order = {}  # {"core.x": module number} for every exported package module of the course
    for m in list_modules(root):
        for path in sorted(m.dir.glob("*.ipynb")):
            for target in exported_modules(nbformat.read(path, as_version=4)):
                order[target] = m.number
    own = set(exported_modules(nb))
    wanted = _imported_core("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
    seen = set()
    while wanted:
        name = wanted.pop()
        if name in seen or name in own or order.get(name, "99") > module.number:
            continue
        seen.add(name)
        path = package.joinpath(*name.split(".")).with_suffix(".py")
        if path.is_file():
            text = path.read_text()
            wanted |= _imported_core(text) | {f"core.{m}" for m in RELATIVE_IMPORT.findall(text)}
    return sorted(seen)


def build_reference_copy(package_dir: Path, dest: Path, visible: list[str], withheld: list[str],
                         module_id: str) -> Path:
    """`dest/tinytorch`: the reference package with only the `visible` modules (e.g. 'core.tensor'),
    a stub refusing to import for each `withheld` one, the checking library, and nothing else."""
    target = dest / "tinytorch"
    if dest.exists():
        shutil.rmtree(dest)
    (target / "core").mkdir(parents=True)
    shutil.copyfile(package_dir / "__init__.py", target / "__init__.py")
    (target / "core" / "__init__.py").write_text("")
    if (package_dir / "checks").is_dir():  # the checking library holds no secret (it ships to learners)
        shutil.copytree(package_dir / "checks", target / "checks", ignore=IGNORED)
    (target / "course").mkdir()
    (target / "course" / "__init__.py").write_text("")
    (target / "course" / "export.py").write_text(EXPORT_STUB)
    for dotted in visible:
        relative = Path(*dotted.split(".")).with_suffix(".py")
        shutil.copyfile(package_dir / relative, target / relative)
    for dotted in withheld:
        stub = target.joinpath(*dotted.split(".")).with_suffix(".py")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(
            f'"""Withheld while module {module_id} is graded."""\n'
            f"raise ImportError('tinytorch.{dotted} is the module being graded ({module_id}): the autograder "
            "does not provide the reference solution. Write the code in the notebook.')\n")
    return target


# --------------------------------------------------------------------------- prepare / load
def _hash_tree(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _package(root: Path) -> Path:
    if (root / "tinytorch" / "__init__.py").is_file():
        return root / "tinytorch"
    import tinytorch
    return Path(tinytorch.__file__).parent


def prepare(root, module: Module, course_dir) -> Assignment:
    "Set up `course_dir` to grade `module` of the instructor tree at `root` (see the module docstring)."
    root = Path(root).resolve()
    folder = CourseFolder.at(prepare_course_dir(course_dir))
    package = _package(root)
    source_hash = (_hash_tree(module.dir) + _hash_tree(package / "core")[:16]
                   + hashlib.sha256(Path(kernel_module.__file__).read_bytes()).hexdigest()[:16])
    state_file, source = folder.state(module.id), folder.source(module.id)
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    if state.get("source_hash") != source_hash or not folder.gradebook.is_file():
        if source.exists():
            shutil.rmtree(source)
        shutil.copytree(module.dir, source, ignore=IGNORED)
        for path in sorted(source.glob("*.ipynb")):
            nbformat.write(mark_test_cells(nbformat.read(path, as_version=4)), path)
        run_nbgrader(folder.root, "generate_assignment", module.id, "--force",
                     f"--CourseDirectory.release_directory={folder.release(module.id).parent.relative_to(folder.root)}")
        assignment = load(module, folder.root, source_hash)
        for nb in assignment.expected:
            build_reference_copy(package, assignment.reference_for(nb.name),
                                 dependencies(root, module, nb.source), exported_modules(nb.source), module.id)
        assignment.dependencies = {nb.name: dependencies(root, module, nb.source) for nb in assignment.expected}
        state_file.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps({"source_hash": source_hash, "dependencies": assignment.dependencies}))
    _write_kernelspec(folder)
    make_matplotlib_cache(folder.matplotlib)
    return load(module, folder.root)


def load(module: Module, course_dir, source_hash: str | None = None) -> Assignment:
    "The assignment an earlier `prepare` made in `course_dir` (nothing is regenerated)."
    folder = CourseFolder.at(course_dir)
    state = json.loads(folder.state(module.id).read_text()) if folder.state(module.id).is_file() else {}
    expected = []
    for path in sorted(folder.source(module.id).glob("*.ipynb")):
        marked = nbformat.read(path, as_version=4)
        released = nbformat.read(folder.release(module.id) / path.name, as_version=4)
        tests = {nbgrader_meta(c)["grade_id"]: unmark(c.source) for c in released.cells
                 if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}
        expected.append(ExpectedNotebook(path.stem, marked, tests))
    if not expected:
        raise CourseError(f"module {module.id} is not prepared for grading in {folder.root} "
                          f"(run `tinytorch grade {module.number}` first)")
    withheld = sorted({m for nb in expected for m in exported_modules(nb.source)})
    return Assignment(module, folder, expected, source_hash or state.get("source_hash", ""),
                      state.get("dependencies", {}), withheld)


def _write_kernelspec(folder: CourseFolder) -> None:
    spec = folder.jupyter / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "tinytorch.course.grading.sandbox", "-f", "{connection_file}"],
        "display_name": "tinytorch autograder (sandboxed Python)", "language": "python",
        "interrupt_mode": "message"}, indent=1))  # a signal would stop at bubblewrap, a message reaches the kernel
