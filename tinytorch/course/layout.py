"""Where things are in a course tree: the root, its numbered modules and their notebooks.

A course tree (the instructor's repository or a learner's student tree) is a folder
with `settings.ini` (nbdev) and `modules/NN_name/name.ipynb` notebooks.
"""
import re
from dataclasses import dataclass
from pathlib import Path

MODULE_DIR = re.compile(r"^(\d\d)_([a-z][a-z0-9_]*)$")
STUDENT_MARKER = ".tinytorch-student.json"  # written into every student tree
# Files of a module folder that hold answers (the instructor's store of expected values, the
# mistake catalogue, the quizzes' typical wrong answers): never released, published or graded from.
INSTRUCTOR_ONLY = ("*.checks.json", "mistakes.py", "*_mistakes.py", "slips.py")


class CourseError(Exception):
    "A problem with the course tree or the learner's request, reported without a traceback by the CLI."


@dataclass(frozen=True)
class Module:
    id: str          # "03_optimizers": the folder name, also the nbgrader assignment id
    number: str      # "03"
    name: str        # "optimizers"
    dir: Path

    @property
    def notebook(self) -> Path:
        "The module's notebook, `modules/03_optimizers/optimizers.ipynb`."
        return self.dir / f"{self.name}.ipynb"


def find_root(start=".") -> Path:
    "The course root containing `start`: the nearest folder upwards with settings.ini and modules/."
    start = Path(start).resolve()
    for folder in [start, *start.parents]:
        if (folder / "settings.ini").is_file() and (folder / "modules").is_dir():
            return folder
    raise CourseError(f"{start} is not inside a tinytorch course (no settings.ini with a modules/ folder "
                      "in it or above it). Run the command from the course folder, or pass --root.")


def list_modules(root) -> list[Module]:
    "Every numbered module of the course, in order."
    modules_dir = Path(root) / "modules"
    if not modules_dir.is_dir():
        raise CourseError(f"{root} is not a tinytorch course: it has no modules/ folder")
    found = []
    for d in sorted(modules_dir.iterdir()):
        m = MODULE_DIR.match(d.name)
        if d.is_dir() and m:
            found.append(Module(id=d.name, number=m.group(1), name=m.group(2), dir=d))
    return found


def find_module(root, key: str) -> Module:
    "The module named by `key`: '3', '03', 'optimizers' or '03_optimizers'. Its notebook must exist."
    modules = list_modules(root)
    key = str(key).strip().lower()
    for module in modules:
        if key in (module.id, module.name, module.number) or (key.isdigit() and int(key) == int(module.number)):
            if not module.notebook.is_file():
                raise CourseError(f"module {module.id} has no notebook: expected {module.notebook}")
            return module
    known = ", ".join(m.id for m in modules) or "none"
    raise CourseError(f"unknown module {key!r}; this course has: {known}")


def is_student_tree(root) -> bool:
    return (Path(root) / STUDENT_MARKER).is_file()
