"""`tinytorch collect`: put learners' submissions where nbgrader expects them.

From a folder of LMS downloads (`collect_downloads`). Accepted, in any mix and nesting:

* zip files made by `tinytorch handin` (`ID_03_optimizers.zip`, `ID_all.zip`): the id is read
  from the `handin.json` inside;
* any other zip, one per learner: the id is taken from the zip's name;
* notebooks with LMS-mangled names, e.g. `ID_late_12345_optimizers-1.ipynb`: the id is taken
  from the name, the module from the notebook name it ends with (`optimizers`, optionally
  followed by `-N`, ` (N)` or `_N`, the LMS's resubmission counters);
* a folder per learner (`ID_.../optimizers.ipynb`): the id is taken from the folder name;
* a zip holding zips (an LMS's "download all" of hand-ins); an archive of loose notebooks from
  several learners must be unzipped first (a zip without zips inside is one learner's).

By default the learner id is the start of the name up to the first `_`, space or `-`
(`--id-pattern REGEX` with a group named `id` overrides it). When one learner has several
copies of a notebook, the highest resubmission counter wins, then the newest file.

From an nbgrader exchange (`collect_exchange`): `nbgrader collect` with `c.Exchange.root`.

Submissions land in `COURSE/submitted/ID/NN_name/name.ipynb`. An earlier, different copy
there is moved to `COURSE/submitted_history/` first: nothing a learner handed in is lost.
"""
import io
import json
import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .handin import MANIFEST, STUDENT_ID
from .layout import CourseError, Module
from .nbgrader_runner import prepare_course_dir, run_nbgrader

DEFAULT_ID_PATTERN = r"^(?P<id>[A-Za-z0-9][A-Za-z0-9.]*)"
SKIPPED_PARTS = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Candidate:
    student: str
    module: Module
    data: bytes | None   # None: a hand-in that names the module but holds no notebook for it
    origin: str          # where it came from, for the report
    counter: int         # the LMS resubmission counter (0: none)
    mtime: float


@dataclass
class CollectReport:
    collected: dict = field(default_factory=dict)   # {student: [module ids]}
    messages: list = field(default_factory=list)

    def __str__(self):
        lines = [f"{student}: {', '.join(sorted(mods))}" for student, mods in sorted(self.collected.items())]
        return "\n".join(lines + self.messages) or "nothing collected"


class Matcher:
    "Tells which module notebook a file name is, and whose it is."

    def __init__(self, modules, id_pattern=None):
        self.modules = list(modules)
        self.id_pattern = re.compile(id_pattern or DEFAULT_ID_PATTERN)

    def module_of(self, filename: str, folder_hint: str = ""):
        "(module, resubmission counter) for a notebook file name, or (None, 0)."
        stem = PurePosixPath(filename).name
        if not stem.lower().endswith(".ipynb"):
            return None, 0
        stem = stem[:-len(".ipynb")].lower()
        for module in self.modules:
            if folder_hint == module.id:
                return module, 0
        for module in sorted(self.modules, key=lambda m: -len(m.name)):
            m = re.search(rf"(?:^|[^a-z0-9]){re.escape(module.name)}(?:(?:-| \(|_)(\d+)\)?)?$", stem)
            if m:
                return module, int(m.group(1) or 0)
        return None, 0

    def student_of(self, name: str):
        m = self.id_pattern.search(PurePosixPath(name).name)
        student = m.group("id") if m else None
        return student if student and STUDENT_ID.match(student) else None


def _walk_zip(zf: zipfile.ZipFile, origin: str, student, matcher, report, out):
    "Candidates from a zip whose learner is `student` (None: each entry names its learner)."
    names = [n for n in zf.namelist() if not any(p in n for p in SKIPPED_PARTS) and not n.endswith("/")]
    if MANIFEST in names and student is None:
        try:
            manifest = json.loads(zf.read(MANIFEST))
            student = manifest.get("student")
            # A module the hand-in names but holds no notebook for is recorded as handed in empty.
            for module in matcher.modules:
                if module.id in manifest.get("modules", []) and student and STUDENT_ID.match(student):
                    out.append(Candidate(student, module, None, f"{origin} (no notebook)", -1, 0.0))
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            report.messages.append(f"{origin}: unreadable {MANIFEST}, the learner id comes from the file name")
    for name in names:
        if name == MANIFEST:
            continue
        info = zf.getinfo(name)
        inner = f"{origin}!{name}"
        if name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(io.BytesIO(zf.read(name))) as nested:
                    _walk_zip(nested, inner, student or matcher.student_of(name), matcher, report, out)
            except zipfile.BadZipFile:
                report.messages.append(f"not collected: {inner} is not a valid zip")
            continue
        parts = PurePosixPath(name).parts
        folder = parts[-2] if len(parts) > 1 else ""
        module, counter = matcher.module_of(name, folder)
        owner = student or matcher.student_of(parts[0] if len(parts) > 1 else name)
        if module is None or owner is None:
            if name.lower().endswith(".ipynb"):
                why = "no module notebook name in it" if module is None else "no learner id in its name"
                report.messages.append(f"not collected: {inner} ({why})")
            continue
        out.append(Candidate(owner, module, zf.read(name), inner, counter, time.mktime(info.date_time + (0, 0, -1))))


def find_candidates(source: Path, matcher: Matcher, report: CollectReport) -> list:
    found = []
    for path in sorted(Path(source).rglob("*")):
        if not path.is_file() or any(p in path.parts for p in SKIPPED_PARTS):
            continue
        relative = path.relative_to(source)
        if path.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(path) as zf:
                    names = zf.namelist()
                    container = any(n.lower().endswith(".zip") for n in names)  # a "download all" archive
                    owner = None if container or MANIFEST in names else matcher.student_of(path.name)
                    _walk_zip(zf, str(relative), owner, matcher, report, found)
            except zipfile.BadZipFile:
                report.messages.append(f"not collected: {relative} is not a valid zip")
        elif path.suffix.lower() == ".ipynb":
            folder = relative.parts[0] if len(relative.parts) > 1 else ""
            module, counter = matcher.module_of(path.name, relative.parent.name)
            student = matcher.student_of(folder or path.name)
            if module is None or student is None:
                why = "no module notebook name in it" if module is None else "no learner id in its name"
                report.messages.append(f"not collected: {relative} ({why})")
                continue
            found.append(Candidate(student, module, path.read_bytes(), str(relative), counter, path.stat().st_mtime))
    return found


def _store(course: Path, candidate: Candidate, stamp: str) -> str:
    target = course / "submitted" / candidate.student / candidate.module.id / candidate.module.notebook.name
    if candidate.data is None:
        target.parent.mkdir(parents=True, exist_ok=True)
        return "handed in without a notebook" if not target.is_file() else "handed in without a notebook (an earlier copy is kept)"
    if target.is_file():
        if target.read_bytes() == candidate.data:
            return "unchanged"
        backup = course / "submitted_history" / stamp / candidate.student / candidate.module.id
        backup.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), backup / target.name)
        state = f"replaced (the earlier copy is in {backup.relative_to(course)})"
    else:
        state = "new"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(candidate.data)
    return state


def collect_downloads(source, course_dir, modules, only=None, id_pattern=None) -> CollectReport:
    """Collect every submission found in `source` (a folder, or one zip) into the course folder.

    `only`: collect this module only (a Module). Returns what was collected and every file left out."""
    source = Path(source)
    if not source.exists():
        raise CourseError(f"nothing to collect: {source} does not exist")
    if id_pattern and "(?P<id>" not in id_pattern:
        raise CourseError(f"--id-pattern {id_pattern!r} needs a group named id, e.g. '^(?P<id>[0-9]+)_'")
    course = prepare_course_dir(course_dir)
    matcher = Matcher([only] if only else modules, id_pattern)
    report = CollectReport()
    if source.is_file():
        tmp = course / ".tinytorch" / "collect-input"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        shutil.copy(source, tmp / source.name)
        source = tmp
    candidates = find_candidates(source, matcher, report)
    chosen = {}
    for c in candidates:
        key = (c.student, c.module.id)
        best = chosen.get(key)
        both_real = best is not None and best.data is not None and c.data is not None
        if best is None or (c.counter, c.mtime) > (best.counter, best.mtime):
            if both_real:
                report.messages.append(f"{c.student} {c.module.id}: several copies, took {c.origin} over {best.origin}")
            chosen[key] = c
        elif both_real:
            report.messages.append(f"{c.student} {c.module.id}: several copies, took {best.origin} over {c.origin}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for (student, module_id), c in sorted(chosen.items()):
        state = _store(course, c, stamp)
        report.collected.setdefault(student, []).append(module_id)
        if state != "new":
            report.messages.append(f"{student} {module_id}: {state}")
    return report


def collect_exchange(course_dir, module: Module, exchange_root) -> CollectReport:
    "Collect the submissions of `module` from an nbgrader exchange (nbgrader collect, newest per learner)."
    root = Path(exchange_root)
    if not root.is_dir():
        raise CourseError(f"no nbgrader exchange at {root}")
    course = prepare_course_dir(course_dir)
    run_nbgrader(course, "collect", module.id, f"--Exchange.root={root.resolve()}", "--update")
    report = CollectReport()
    submitted = course / "submitted"
    if submitted.is_dir():
        for student in sorted(p.name for p in submitted.iterdir() if (p / module.id).is_dir()):
            report.collected[student] = [module.id]
    return report
