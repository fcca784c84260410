"""`tinytorch collect`: put learners' submissions where nbgrader expects them.

From a folder of LMS downloads (`collect_downloads`). Accepted, in any mix and nesting:

* zip files made by `tinytorch handin` (`ID_03_optimizers.zip`, `ID_all.zip`): the id is read
  from the `handin.json` inside;
* any other zip, one per learner: the id is taken from the zip's name;
* notebooks with LMS-mangled names, e.g. `ID_late_12345_optimizers-1.ipynb`: the id is taken
  from the name, the notebook from the course notebook name it ends with (`optimizers`,
  optionally followed by `-N`, ` (N)` or `_N`, the LMS's resubmission counters);
* a folder per learner (`ID_.../optimizers.ipynb`): the id is taken from the folder name;
* a zip holding zips (an LMS's "download all" of hand-ins); an archive of loose notebooks from
  several learners must be unzipped first (a zip without zips inside is one learner's).

By default the learner id is the start of the name up to the first `_`, space or `-`
(`--id-pattern REGEX` with a group named `id` overrides it). Every id, wherever it comes from,
must pass learner_ids.check_learner_id; two learners whose ids differ only in case or accent
form are not collected, and both are named. When one learner has several copies of a notebook,
the highest resubmission counter wins, then the newest file.

Nothing a learner sent decides where a file is written: zips are read (with limits, safe_zip.py),
never extracted, and each notebook goes to `COURSE/submitted/ID/NN_name/name.ipynb`, a path made
from a checked id and the course's own names. An earlier, different copy there is moved to
`COURSE/submitted_history/` first: nothing a learner handed in is lost. A file that can't be
read, a bad zip, a bad `handin.json` is that submission's problem: it is reported and the rest
of the class is collected. Every file that is not used is listed in the report.

From an nbgrader exchange (`collect_exchange`): `nbgrader collect` with `c.Exchange.root`.
"""
import os
import re
import shutil
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .collect_names import Matcher, Owner
from .handin import MANIFEST
from .layout import CourseError, Module
from .learner_ids import check_learner_id, same_key
from .nbgrader_runner import exchange_folder, prepare_course_dir, run_nbgrader
from .notebook_check import MAX_NOTEBOOK_BYTES, load_json, read_notebook
from .safe_zip import MAX_NESTING, UnreadableZip, member_problem, open_zip, read_member

MAX_ARCHIVE_BYTES = 2 * 2**30                # what one top-level zip may unpack to, nested zips included
MAX_MANIFEST_BYTES = 2**20
JUNK = {"__MACOSX": "macOS metadata", ".ipynb_checkpoints": "Jupyter checkpoint copies"}


def shown(text) -> str:
    "`text` safe to print: control characters and undecodable bytes of file names escaped."
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(text))


@dataclass
class Candidate:
    owner: Owner
    module: Module
    notebook: str | None  # None (and data None): a hand-in that names the module but holds no notebook
    data: bytes | None
    origin: str           # where it came from, for the report
    counter: int
    mtime: float

    @property
    def student(self) -> str:
        return self.owner.learner


@dataclass
class CollectReport:
    collected: dict = field(default_factory=dict)   # {student: [module ids]}
    messages: list = field(default_factory=list)    # what was replaced, refused, not used, and why

    def __str__(self):
        lines = [f"{student}: {', '.join(sorted(mods))}" for student, mods in sorted(self.collected.items())]
        return "\n".join(lines + self.messages) or "nothing collected"


class Collector:
    "Finds the candidate submissions in a folder of downloads, reporting everything it leaves out."

    def __init__(self, matcher: Matcher, report: CollectReport, only: Module | None = None):
        self.matcher, self.report, self.only = matcher, report, only
        self.found: list[Candidate] = []
        self.junk = Counter()   # {(where, why): files}
        self.budget = MAX_ARCHIVE_BYTES

    def not_used(self, origin, why: str):
        self.report.messages.append(f"not used: {shown(origin)} ({why})")

    def refuse(self, origin, why: str):
        self.report.messages.append(f"not collected: {shown(origin)} ({why})")

    def _owner_problem(self, origin, owner: Owner | None) -> bool:
        "Report a missing or unusable learner id; True when there was one."
        if owner is None:
            self.refuse(origin, "no learner id in its name")
        elif owner.problem:
            self.refuse(origin, f"the learner id {shown(repr(owner.spelled))} {owner.problem}")
        return owner is None or owner.problem is not None

    def _other_module(self, origin, match) -> bool:
        "Report a notebook of a module that is not being collected; True when it is one."
        if self.only is not None and match.module.id != self.only.id:
            self.not_used(origin, f"a notebook of {match.module.id}; only {self.only.id} is collected")
            return True
        return False

    def _junk_part(self, parts) -> str | None:
        return next((p for p in parts if p in JUNK), None)

    # ------------------------------------------------------------------ folders
    def folder(self, source: Path):
        def unreadable(error: OSError):
            self.refuse(Path(error.filename).relative_to(source), f"can't be read: {error.strerror}")
        for dirpath, dirnames, filenames in os.walk(source, onerror=unreadable):  # never follows symbolic links
            here = Path(dirpath)
            dirnames.sort()
            for name in list(dirnames):
                if (here / name).is_symlink():
                    self.not_used((here / name).relative_to(source), "a symbolic link")
                    dirnames.remove(name)
            for name in sorted(filenames):
                path = here / name
                relative = path.relative_to(source)
                junk = self._junk_part(relative.parts)
                if junk:
                    self.junk[(str(relative.parent), JUNK[junk])] += 1
                    continue
                try:
                    self.file(path, relative)
                except Exception as e:  # last line of defence: one learner's file never stops the class
                    self.refuse(relative, f"could not be read: {type(e).__name__}: {e}")

    def file(self, path: Path, relative: Path):
        if path.is_symlink() or not path.is_file():
            self.not_used(relative, "a symbolic link" if path.is_symlink() else "not a regular file")
        elif path.suffix.lower() == ".zip":
            try:
                zf = open_zip(path)
            except UnreadableZip as e:
                self.refuse(relative, str(e))
                return
            self.budget = MAX_ARCHIVE_BYTES
            with zf:
                self.zip(zf, str(relative), None, path.name, depth=1)
        elif path.suffix.lower() == ".ipynb":
            match = self.matcher.notebook_of(path.name, relative.parent.name)
            if match is None:
                self.not_used(relative, "no module notebook name in it")
                return
            if self._other_module(relative, match):
                return
            owner = (self.matcher.owner_in(relative.parts[0]) if len(relative.parts) > 1
                     else self.matcher.owner_of_notebook(path.name, match))
            if self._owner_problem(relative, owner):
                return
            if path.stat().st_size > MAX_NOTEBOOK_BYTES:
                self.refuse(relative, f"{path.stat().st_size / 2**20:.0f} MB, more than a notebook may be "
                            f"({MAX_NOTEBOOK_BYTES / 2**20:g} MB)")
                return
            self.found.append(Candidate(owner, match.module, match.notebook, path.read_bytes(), str(relative),
                                        match.counter, path.stat().st_mtime))
        else:
            self.not_used(relative, "not a notebook or a zip")

    # ------------------------------------------------------------------ zips
    def _manifest_owner(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, origin: str, name_hint: str):
        """(owner, modules) from a hand-in's handin.json; (None, None) when the zip must be skipped.
        An unreadable manifest falls back to the zip's name; a manifest naming a bad id skips the zip."""
        where = f"{origin}!{MANIFEST}"
        try:
            value, problems = load_json(read_member(zf, info, MAX_MANIFEST_BYTES), where, MAX_MANIFEST_BYTES)
            why = problems[-1].message if value is None else f"{where} is not a JSON object"
        except UnreadableZip as e:
            value, why = None, f"{where} {e}"
        if not isinstance(value, dict):
            self.report.messages.append(f"{shown(why)}: the learner id comes from the zip's name")
            return self.matcher.owner_in(PurePosixPath(name_hint).name), []
        student = value.get("student")
        owner = Owner.of(student)
        if owner.problem:
            self.refuse(origin, f"its {MANIFEST} gives the learner id {shown(repr(student))[:100]}, "
                        f"which {owner.problem}")
            return None, None
        modules = value.get("modules", [])
        if not isinstance(modules, list):
            self.report.messages.append(f"{shown(where)}: 'modules' is not a list; it is ignored")
            modules = []
        return owner, [m for m in modules if isinstance(m, str)]

    def zip(self, zf: zipfile.ZipFile, origin: str, owner: Owner | None, name_hint: str, depth: int):
        "Candidates from a zip whose learner is `owner` (None: the zip or each of its entries names it)."
        infos = [i for i in zf.infolist() if not i.is_dir()]
        manifest = next((i for i in infos if i.filename == MANIFEST), None)
        container = any(i.filename.lower().endswith(".zip") for i in infos)  # a "download all" archive
        used_manifest = owner is None and manifest is not None
        if used_manifest:
            owner, modules = self._manifest_owner(zf, manifest, origin, name_hint)
            if modules is None or self._owner_problem(origin, owner):
                return
            for module in self.matcher.modules:  # named but holding no notebook: handed in empty
                if module.id in modules and (self.only is None or module.id == self.only.id):
                    self.found.append(Candidate(owner, module, None, None, f"{origin} (no notebook)", -1, 0.0))
        elif owner is None and not container:
            owner = self.matcher.owner_in(PurePosixPath(name_hint).name)
            if self._owner_problem(origin, owner):
                return
        for info in infos:
            if info is manifest and used_manifest:
                continue
            try:
                self.member(zf, info, origin, owner, depth)
            except UnreadableZip as e:
                self.refuse(f"{origin}!{info.filename}", str(e))
            except Exception as e:  # one odd member of a "download all" zip never costs the others theirs
                self.refuse(f"{origin}!{info.filename}", f"could not be read: {type(e).__name__}: {e}")

    def member(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, origin: str, owner: Owner | None, depth: int):
        name, inner = info.filename, f"{origin}!{info.filename}"
        parts = PurePosixPath(name.replace("\\", "/")).parts
        junk = self._junk_part(parts)
        if junk:
            self.junk[(origin, JUNK[junk])] += 1
            return
        problem = member_problem(info)
        if problem:
            self.not_used(inner, problem)
            return
        if name.lower().endswith(".zip"):
            if depth >= MAX_NESTING:
                self.refuse(inner, f"zips nested more than {MAX_NESTING} deep")
                return
            data = self._read(zf, info)
            with open_zip(data) as nested:
                self.zip(nested, inner, owner, name, depth + 1)
            return
        match = self.matcher.notebook_of(name, parts[-2] if len(parts) > 1 else "")
        if match is None:
            self.not_used(inner, "no module notebook name in it" if name.lower().endswith(".ipynb")
                          else "not a notebook of the course")
            return
        if self._other_module(inner, match):
            return
        who = owner or (self.matcher.owner_in(parts[0]) if len(parts) > 1
                        else self.matcher.owner_of_notebook(name, match))
        if self._owner_problem(inner, who):
            return
        self.found.append(Candidate(who, match.module, match.notebook, self._read(zf, info), inner, match.counter,
                                    time.mktime(info.date_time + (0, 0, -1))))

    def _read(self, zf, info) -> bytes:
        data = read_member(zf, info)
        self.budget -= len(data)
        if self.budget < 0:
            raise UnreadableZip(f"the archive unpacks to more than {MAX_ARCHIVE_BYTES / 2**30:g} GB")
        return data

    def finish(self):
        for (where, why), count in sorted(self.junk.items()):
            self.not_used(where or ".", f"{count} file(s) of {why}")


def find_candidates(source: Path, matcher: Matcher, report: CollectReport, only: Module | None = None) -> list:
    collector = Collector(matcher, report, only)
    collector.folder(Path(source))
    collector.finish()
    return collector.found


def drop_collisions(candidates: list, existing: list, report: CollectReport) -> list:
    """The candidates whose learner can't be confused with another; a pair of ids that differ only
    in case or accent form (in this run, or from a learner collected before) is reported, naming both."""
    spellings: dict = {}
    for c in candidates:
        spellings.setdefault(same_key(c.student), {}).setdefault(c.owner.spelled, []).append(c.origin)
    earlier = {same_key(name): name for name in existing}
    refused = set()
    for key, spelled in sorted(spellings.items()):
        names = sorted(spelled)
        if len(names) > 1:
            listed = " and ".join(f"{ascii(n)} (from {shown(spelled[n][0])})" for n in names)
            report.messages.append(f"not collected: learner ids {listed} differ only in case or in how accents "
                                   "are written; rename the files of one of them (or use --id-pattern)")
            refused.add(key)
        elif key in earlier and check_learner_id(names[0]) != earlier[key]:
            report.messages.append(f"not collected: learner id {ascii(names[0])} (from {shown(spelled[names[0]][0])}) "
                                   f"and the already collected {ascii(earlier[key])} differ only in case or in how "
                                   "accents are written; rename one of them")
            refused.add(key)
    return [c for c in candidates if same_key(c.student) not in refused]


def _inside(folder: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _store(course: Path, candidate: Candidate, stamp: str) -> str:
    submitted = course / "submitted"
    folder = submitted / candidate.student / candidate.module.id
    if not _inside(submitted, folder):  # only a symbolic link planted in submitted/ could do this
        raise CourseError(f"{folder} leads out of {submitted}")
    if candidate.data is None:
        folder.mkdir(parents=True, exist_ok=True)
        return "handed in without a notebook" if not any(folder.glob("*.ipynb")) \
            else "handed in without a notebook (an earlier copy is kept)"
    target = folder / f"{candidate.notebook}.ipynb"
    if target.is_symlink() or not _inside(submitted, target):
        raise CourseError(f"{target} is a symbolic link; remove it by hand")
    if target.is_file():
        if target.read_bytes() == candidate.data:
            return "unchanged"
        backup = course / "submitted_history" / stamp / candidate.student / candidate.module.id
        backup.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), backup / target.name)
        state = f"replaced (the earlier copy is in {backup.relative_to(course)})"
    else:
        state = "new"
    folder.mkdir(parents=True, exist_ok=True)
    target.write_bytes(candidate.data)
    return state


def choose(candidates: list, report: CollectReport) -> dict:
    "{(student, module id, notebook): the copy to keep}: highest resubmission counter, then newest."
    chosen = {}
    for c in candidates:
        key = (c.student, c.module.id, c.notebook)
        best = chosen.get(key)
        both_real = best is not None and best.data is not None and c.data is not None
        if best is None or (c.counter, c.mtime) > (best.counter, best.mtime):
            if both_real:
                report.messages.append(f"{c.student} {c.module.id}: several copies, took {shown(c.origin)} "
                                       f"over {shown(best.origin)}")
            chosen[key] = c
        elif both_real:
            report.messages.append(f"{c.student} {c.module.id}: several copies, took {shown(best.origin)} "
                                   f"over {shown(c.origin)}")
    # A placeholder (no notebook) is only kept for a module of which no notebook arrived.
    real = {(s, m) for (s, m, nb), c in chosen.items() if c.data is not None}
    return {k: c for k, c in chosen.items() if c.data is not None or (k[0], k[1]) not in real}


def collect_downloads(source, course_dir, modules, only=None, id_pattern=None) -> CollectReport:
    """Collect every submission found in `source` (a folder, or one zip) into the course folder.

    `only`: collect this module only (a Module). Returns what was collected and every file left out."""
    source = Path(source)
    if not source.exists():
        raise CourseError(f"nothing to collect: {source} does not exist")
    if id_pattern:
        if "(?P<id>" not in id_pattern:
            raise CourseError(f"--id-pattern {id_pattern!r} needs a group named id, e.g. '^(?P<id>[0-9]+)_'")
        try:
            re.compile(id_pattern)
        except re.error as e:
            raise CourseError(f"--id-pattern {id_pattern!r} is not a regular expression: {e}") from None
    here, there = source.resolve(), Path(course_dir).resolve()
    if source.is_dir() and (here == there or here in there.parents or there in here.parents):
        raise CourseError(f"the downloads ({source}) and the course folder ({course_dir}) must not hold each other: "
                          "collect from the folder the LMS downloads are in")
    course = prepare_course_dir(course_dir)
    matcher = Matcher(modules, id_pattern)
    report = CollectReport()
    if source.is_file():
        tmp = course / ".tinytorch" / "collect-input"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        shutil.copy(source, tmp / source.name)
        source = tmp
    candidates = find_candidates(source, matcher, report, only)
    submitted = course / "submitted"
    existing = [p.name for p in submitted.iterdir() if p.is_dir()] if submitted.is_dir() else []
    chosen = choose(drop_collisions(candidates, existing, report), report)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    in_order = sorted(chosen.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
    for (student, module_id, notebook), c in in_order:
        try:
            state = _store(course, c, stamp)
        except (CourseError, OSError) as e:
            report.messages.append(f"not collected: {shown(c.origin)} ({shown(e)})")
            continue
        mods = report.collected.setdefault(student, [])
        if module_id not in mods:
            mods.append(module_id)
        if state != "new":
            report.messages.append(f"{student} {module_id}: {state}")
        if c.data is not None:  # collected all the same: grading scores it 0 and tells the learner why
            for problem in read_notebook(c.data, f"{notebook}.ipynb", validate_format=False).problems:
                if problem.fatal:
                    report.messages.append(f"{student} {module_id}: {shown(problem.message)} (from {shown(c.origin)})")
    return report


def _exchange_course_id() -> str:
    "The course id nbgrader uses in the exchange (`c.CourseDirectory.course_id` of the course config)."
    from traitlets.config.loader import PyFileConfigLoader

    from .nbgrader_runner import CONFIG
    return PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config().CourseDirectory.course_id


def safe_exchange(course: Path, module: Module, root: Path, report: CollectReport) -> Path:
    """The exchange root to collect from: `root` itself when every learner id in its inbound folder
    is usable; otherwise a copy made of links to the usable submissions only (the rest are reported).

    nbgrader names an inbound submission `ID+ASSIGNMENT+TIMESTAMP[+RANDOM]` and writes it to
    `submitted/ID/`, so an id of `..` written by a learner's exchange client would land outside."""
    course_id = _exchange_course_id()
    inbound = root / course_id / "inbound"
    entries = sorted(inbound.glob(f"*+{module.id}+*")) if inbound.is_dir() else []
    candidates, refused = [], []
    for entry in entries:
        owner = Owner.of(entry.name.rsplit("+", 3)[0])
        if owner.problem:
            report.messages.append(f"not collected: {shown(entry.name)} in the exchange (the learner id "
                                   f"{shown(repr(owner.spelled))} {owner.problem})")
            refused.append(entry)
        else:
            candidates.append(Candidate(owner, module, None, None, entry.name, 0, 0.0))
    submitted = course / "submitted"
    existing = [p.name for p in submitted.iterdir() if p.is_dir()] if submitted.is_dir() else []
    kept = {c.origin for c in drop_collisions(candidates, existing, report)}
    if not refused and len(kept) == len(candidates):
        return root
    filtered = course / ".tinytorch" / "exchange"
    shutil.rmtree(filtered, ignore_errors=True)
    (filtered / course_id / "inbound").mkdir(parents=True)
    for entry in entries:
        if entry.name in kept:
            (filtered / course_id / "inbound" / entry.name).symlink_to(entry.resolve(), target_is_directory=True)
    return filtered


def collect_exchange(course_dir, module: Module, exchange_root) -> CollectReport:
    "Collect the submissions of `module` from an nbgrader exchange (nbgrader collect, newest per learner)."
    root = exchange_folder(exchange_root)
    course = prepare_course_dir(course_dir)
    report = CollectReport()
    source = safe_exchange(course, module, root.resolve(), report)
    run_nbgrader(course, "collect", module.id, f"--Exchange.root={source}", "--update")
    submitted = course / "submitted"
    if submitted.is_dir():
        for student in sorted(p.name for p in submitted.iterdir() if (p / module.id).is_dir()):
            report.collected[student] = [module.id]
    return report
