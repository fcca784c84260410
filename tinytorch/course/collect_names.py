"""Which course notebook a downloaded file is, and whose: the name rules of `tinytorch collect`.

LMSs rename what learners upload (`ID_late_12345_optimizers-1.ipynb`, `optimizers (2).ipynb`),
so a notebook is recognised by the course notebook name its name ends with, with the LMS's
resubmission counter. The learner id is the start of a name up to the first `_`, `-` or space,
or what an instructor's `--id-pattern` finds; either way it is checked (learner_ids.py) and kept
as found, so that two spellings of one name can be told apart.
"""
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from .layout import Module
from .learner_ids import check_learner_id, learner_id_problem

DEFAULT_ID_PATTERN = r"^(?P<id>[^_\-\s]+)"   # the start of the name, up to the first _, - or space


@dataclass(frozen=True)
class Owner:
    "A learner id as it was found (`spelled`) and as it is used (`learner`, NFC; None when refused)."
    spelled: object
    learner: str | None
    problem: str | None = None

    @staticmethod
    def of(spelled) -> "Owner":
        problem = learner_id_problem(spelled)
        return Owner(spelled, None if problem else check_learner_id(spelled), problem)


@dataclass(frozen=True)
class NotebookMatch:
    module: Module
    notebook: str       # the course notebook's name without .ipynb ("nn" in 02_autograd)
    counter: int        # the LMS resubmission counter (0: none)
    prefix: str         # what comes before the notebook name in the file name (where the id is)


class Matcher:
    "Tells which course notebook a file name is, and whose it is."

    def __init__(self, modules, id_pattern=None):
        self.modules = list(modules)
        self.id_pattern = re.compile(id_pattern) if id_pattern else None
        pairs = [(m, p.stem) for m in self.modules for p in sorted(m.dir.glob("*.ipynb"))]
        pairs += [(m, m.name) for m in self.modules if (m, m.name) not in pairs]
        self.notebooks = sorted(pairs, key=lambda pair: -len(pair[1]))  # longest first: "nn" after "training"

    def notebook_of(self, filename: str, folder_hint: str = "") -> NotebookMatch | None:
        "Which course notebook `filename` is (LMS counters understood), or None."
        name = PurePosixPath(filename).name
        if not name.lower().endswith(".ipynb"):
            return None
        stem = name[:-len(".ipynb")]
        for module, notebook in self.notebooks:
            if folder_hint and folder_hint == module.id and stem == notebook:
                return NotebookMatch(module, notebook, 0, "")
        for module, notebook in self.notebooks:
            m = re.search(rf"(?:^|[^a-z0-9]){re.escape(notebook)}(?:(?:-| \(|_)(\d+)\)?)?$", stem.lower())
            if m:
                return NotebookMatch(module, notebook, int(m.group(1) or 0), stem[:m.start()])
        return None

    def module_of(self, filename: str, folder_hint: str = ""):
        "(module, resubmission counter) for a notebook file name, or (None, 0)."
        found = self.notebook_of(filename, folder_hint)
        return (found.module, found.counter) if found else (None, 0)

    def owner_in(self, name: str) -> Owner | None:
        """The learner id in a file or folder name (None: there is none). The default pattern reads
        the name without `.zip` / `.ipynb`; an --id-pattern reads the name as it is."""
        if self.id_pattern is None:
            name = re.sub(r"\.(zip|ipynb)$", "", name, flags=re.I)
        m = (self.id_pattern or re.compile(DEFAULT_ID_PATTERN)).search(name)
        if not m or not m.group("id"):
            return None
        return Owner.of(m.group("id"))

    def owner_of_notebook(self, filename: str, match: NotebookMatch) -> Owner | None:
        "The learner id in a loose notebook's name: the default pattern reads what precedes the notebook name."
        return self.owner_in(PurePosixPath(filename).name if self.id_pattern else match.prefix)

    def student_of(self, name: str) -> str | None:
        "The usable learner id in a name, or None."
        owner = self.owner_in(PurePosixPath(name).name)
        return owner.learner if owner else None
