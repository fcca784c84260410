"""Hostile and careless hand-ins against `tinytorch collect`, `handin` and the shared notebook checker.

Each test sends what a learner (or an LMS) can send: an unsafe learner id from each place an id
comes from, two ids that differ only in case or accent form, malformed zips and manifests, files
shipped next to a notebook. Every case checks three things: the bad submission is reported with
a message naming the bad value, the honest learner next to it is still collected, and nothing
outside the course folder changed (a canary folder beside it and the instructor's modules/).
"""
import hashlib
import json
import os
import shutil
import stat
import unicodedata
import zipfile
from pathlib import Path

import nbformat
import pytest

from tinytorch.course import safe_zip
from tinytorch.course.collect import collect_downloads
from tinytorch.course.handin import check_handin_notebook, graded_cells_of, handin, released_cells
from tinytorch.course.layout import STUDENT_MARKER, CourseError, list_modules
from tinytorch.course.learner_ids import UnsafeLearnerId, check_learner_id, same_key
from tinytorch.course.notebook_check import MAX_JSON_DEPTH, check_notebook_bytes, load_json
from tinytorch.course.notebooks import nbgrader_meta
from tinytorch.course.submissions import ExpectedNotebook, check_notebook

ROOT = Path(__file__).resolve().parents[1]
TENSOR = ROOT / "modules" / "01_tensor" / "tensor.ipynb"
HONEST = TENSOR.read_bytes()


# --------------------------------------------------------------------------- a course beside a canary
class Course:
    "An instructor tree with ./grading inside it (the default layout), a canary folder beside it."

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.tree = tmp / "instructor"
        for module in ("01_tensor", "02_autograd"):
            shutil.copytree(ROOT / "modules" / module, self.tree / "modules" / module,
                            ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        shutil.copy(ROOT / "settings.ini", self.tree / "settings.ini")
        (tmp / "canary").mkdir()
        (tmp / "canary" / "precious.txt").write_text("do not touch")
        self.course = self.tree / "grading"
        self.downloads = tmp / "downloads"
        self.downloads.mkdir()
        self.modules = list_modules(self.tree)
        self.before = self.snapshot()

    def snapshot(self) -> dict:
        "{path: sha256} of every file under tmp except the course folder and the downloads."
        found = {}
        for path in sorted(self.tmp.rglob("*")):
            if self.course in path.parents or self.downloads in path.parents or path.is_dir():
                continue
            found[str(path.relative_to(self.tmp))] = hashlib.sha256(path.read_bytes()).hexdigest()
        return found

    def collect(self, **kw):
        report = collect_downloads(self.downloads, self.course, self.modules, **kw)
        assert self.snapshot() == self.before, "collect wrote outside the course folder"
        str(report).encode("utf-8")  # the report prints on any terminal (no lone surrogates)
        return report

    def submitted(self) -> list[str]:
        folder = self.course / "submitted"
        return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []

    def zip(self, name: str, members: dict, links=()) -> Path:
        "A zip of `members` ({name: bytes or str}); names in `links` are stored as symbolic links."
        path = self.downloads / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, data in members.items():
                info = zipfile.ZipInfo(member, date_time=(2026, 11, 30, 12, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                if member in links:
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, data)
        return path

    def handin_zip(self, name: str, student, notebook=HONEST, extra=None) -> Path:
        return self.zip(name, {"handin.json": json.dumps({"student": student, "modules": ["01_tensor"]}),
                               "01_tensor/tensor.ipynb": notebook, **(extra or {})})


@pytest.fixture
def course(tmp_path):
    c = Course(tmp_path)
    (c.downloads / "honest_tensor.ipynb").write_bytes(HONEST)  # a learner who did everything right
    return c


def assert_honest_collected(c: Course):
    assert (c.course / "submitted" / "honest" / "01_tensor" / "tensor.ipynb").read_bytes() == HONEST


def said(report, *words) -> bool:
    return any(all(w in m for w in words) for m in report.messages)


# --------------------------------------------------------------------------- unsafe learner ids
UNSAFE_IDS = ["../../modules", "../..", "..", "a/b", "a\\b", "/etc", "C:\\Users", "", "a\x1bb", "tab\there",
              "\u202eevil", "zero\u200bwidth", ".hidden", "x" * 65, [1, 2], 42, None, {"id": "x"}]


@pytest.mark.parametrize("bad", UNSAFE_IDS, ids=repr)
def test_an_unsafe_id_in_handin_json_skips_that_zip_only(course, bad):
    course.handin_zip("evil_01_tensor.zip", bad)
    report = course.collect()
    assert said(report, "not collected", "evil_01_tensor.zip", repr(bad)[:40]), report.messages
    assert_honest_collected(course)
    assert course.submitted() == ["honest/01_tensor/tensor.ipynb"]


@pytest.mark.parametrize("name, bad", [("a..b_01_tensor.zip", "a..b"), ("bell\x07_01_tensor.zip", "bell\x07"),
                                       ("+plus_01_tensor.zip", "+plus")], ids=repr)
def test_an_unsafe_id_in_a_zip_name(course, name, bad):
    course.zip(name, {"01_tensor/tensor.ipynb": HONEST})
    report = course.collect()
    assert said(report, "not collected", repr(bad)), report.messages
    assert_honest_collected(course)
    assert course.submitted() == ["honest/01_tensor/tensor.ipynb"]


def test_an_unsafe_id_in_a_folder_or_notebook_name(course):
    (course.downloads / "del\x7f_tensor.ipynb").write_bytes(HONEST)
    (course.downloads / "a\x01b_submission").mkdir()
    (course.downloads / "a\x01b_submission" / "tensor.ipynb").write_bytes(HONEST)
    undecodable = os.fsdecode(b"caf\xff_tensor.ipynb")  # a file name that is not UTF-8
    (course.downloads / undecodable).write_bytes(HONEST)
    report = course.collect()
    assert said(report, "not collected", "control or invisible character U+007F")
    assert said(report, "not collected", "control or invisible character U+0001")
    assert said(report, "not collected", "U+DCFF")
    assert_honest_collected(course)
    assert course.submitted() == ["honest/01_tensor/tensor.ipynb"]


def test_an_unsafe_id_from_the_id_pattern(course):
    (course.downloads / "x..y_tensor.ipynb").write_bytes(HONEST)
    report = course.collect(id_pattern=r"^(?P<id>.+)_tensor")
    assert said(report, "not collected", "'x..y'", "'..'")
    assert_honest_collected(course)
    with pytest.raises(CourseError, match="not a regular expression"):
        collect_downloads(course.downloads, course.course, course.modules, id_pattern="(?P<id>[")


def test_handin_refuses_an_unsafe_id_before_writing(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "modules" / "01_tensor", tree / "modules" / "01_tensor",
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for bad in ("../x", "a/b", "", "a\x00b"):
        with pytest.raises(CourseError, match="learner id"):
            handin(tree, "01", bad, dest=tmp_path / "out", out=lambda *a: None)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    with pytest.raises(UnsafeLearnerId, match=r"\[1\] is list, not text"):
        check_learner_id([1])


# --------------------------------------------------------------------------- collisions
NFC, NFD = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")


def test_ids_that_differ_only_in_case_or_accent_form_are_a_reported_collision(course):
    assert NFC != NFD and same_key(NFC) == same_key(NFD) and same_key("Ada") == same_key("ada")
    course.handin_zip("a_01_tensor.zip", NFC)
    course.handin_zip("b_01_tensor.zip", NFD)
    (course.downloads / "Ada_tensor.ipynb").write_bytes(HONEST)
    (course.downloads / "ada_tensor.ipynb").write_bytes(HONEST)
    (course.downloads / "Jose_tensor.ipynb").write_bytes(HONEST)  # "Jose" is someone else than "José"
    report = course.collect()
    collisions = [m for m in report.messages if "differ only in case" in m]
    assert len(collisions) == 2, report.messages
    assert any(ascii(NFC) in m and ascii(NFD) in m for m in collisions)
    assert any("'Ada'" in m and "'ada'" in m for m in collisions)
    assert set(report.collected) == {"honest", "Jose"}
    assert_honest_collected(course)


def test_a_collision_with_a_learner_collected_earlier(course):
    (course.downloads / "Ada_tensor.ipynb").write_bytes(HONEST)
    assert "Ada" in course.collect().collected
    (course.downloads / "Ada_tensor.ipynb").unlink()
    (course.downloads / "ADA_tensor.ipynb").write_bytes(HONEST)
    report = course.collect()
    assert said(report, "not collected", "'ADA'", "already collected 'Ada'")
    assert not (course.course / "submitted" / "ADA").exists()


def test_accented_names_are_kept_as_different_learners(course):
    course.handin_zip("a_01_tensor.zip", NFD)
    (course.downloads / "Jose_tensor.ipynb").write_bytes(HONEST)
    report = course.collect()
    assert set(report.collected) == {"honest", NFC, "Jose"}  # stored composed (NFC)
    assert (course.course / "submitted" / NFC / "01_tensor" / "tensor.ipynb").is_file()


# --------------------------------------------------------------------------- malformed submissions
def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("case", ["garbage_zip", "truncated_zip", "huge_member", "nested_too_deep",
                                  "deep_manifest", "manifest_not_object", "manifest_not_utf8", "symlink_member",
                                  "absolute_member", "dotdot_member", "too_many_levels_of_zips"])
def test_one_malformed_submission_is_reported_and_skipped(course, monkeypatch, case):
    monkeypatch.setattr(safe_zip, "MAX_MEMBER_BYTES", 2**20)
    if case == "garbage_zip":
        (course.downloads / "bad_01_tensor.zip").write_bytes(b"PK\x03\x04 this is not a zip")
        expected = ("not collected", "bad_01_tensor.zip", "not a valid zip")
    elif case == "truncated_zip":
        data = course.handin_zip("cut_01_tensor.zip", "cut").read_bytes()
        (course.downloads / "cut_01_tensor.zip").write_bytes(data[:len(data) // 2])
        expected = ("not collected", "cut_01_tensor.zip", "not a valid zip")
    elif case == "huge_member":  # 64 MB of zeros compress to 64 kB: read stops at the limit
        course.zip("bomb_01_tensor.zip", {"01_tensor/tensor.ipynb": b"\0" * (64 * 2**20)})
        expected = ("bomb_01_tensor.zip!01_tensor/tensor.ipynb", "MB")
    elif case == "nested_too_deep":
        course.handin_zip("deep_01_tensor.zip", "deep", notebook=_deep(100_000))
        expected = ("deep", "nests its JSON more than")  # collected (graded 0 with the reason) and reported
    elif case == "deep_manifest":
        course.zip("manifest_01_tensor.zip", {"handin.json": _deep(100_000), "01_tensor/tensor.ipynb": HONEST})
        expected = ("handin.json nests its JSON", "learner id comes from the zip's name")
    elif case == "manifest_not_object":
        course.zip("listy_01_tensor.zip", {"handin.json": "[1, 2, 3]", "01_tensor/tensor.ipynb": HONEST})
        expected = ("handin.json is not a JSON object", "learner id comes from the zip's name")
    elif case == "manifest_not_utf8":
        course.zip("bytes_01_tensor.zip", {"handin.json": b'{"student": "b\xffd"}', "01_tensor/tensor.ipynb": HONEST})
        expected = ("not collected", "bytes_01_tensor.zip", repr("b\ufffdd"))
    elif case == "symlink_member":
        course.zip("link_01_tensor.zip", {"01_tensor/tensor.ipynb": "../../instructor/modules/01_tensor/tensor.ipynb"},
                   links={"01_tensor/tensor.ipynb"})
        expected = ("not used", "link_01_tensor.zip!01_tensor/tensor.ipynb", "symbolic link")
    elif case == "absolute_member":
        course.zip("abs_01_tensor.zip", {"/tmp/01_tensor/tensor.ipynb": HONEST})
        expected = ("not used", "abs_01_tensor.zip!/tmp/01_tensor/tensor.ipynb", "absolute path")
    elif case == "dotdot_member":
        course.zip("up_01_tensor.zip", {"../../instructor/modules/01_tensor/tensor.ipynb": "{}"})
        expected = ("not used", "up_01_tensor.zip!../../instructor", "'..'")
    else:
        inner = course.zip("l3.zip", {"01_tensor/tensor.ipynb": HONEST}).read_bytes()
        for level in (2, 1, 0):
            inner = course.zip(f"l{level}.zip", {f"l{level + 1}.zip": inner}).read_bytes()
        for level in (1, 2, 3):
            (course.downloads / f"l{level}.zip").unlink()
        expected = ("not collected", "nested more than")
    report = course.collect()
    assert said(report, *expected), report.messages
    assert_honest_collected(course)
    if case in ("deep_manifest", "manifest_not_object"):
        assert {"manifest", "listy"} & set(report.collected)  # the learner's work is kept, under the zip's name
    elif case == "nested_too_deep":
        assert set(report.collected) == {"honest", "deep"}
    else:
        assert set(report.collected) == {"honest"}, report.collected


def test_a_symbolic_link_in_the_downloads_is_not_followed(course):
    (course.downloads / "thief_tensor.ipynb").symlink_to(course.tree / "modules" / "01_tensor" / "tensor.ipynb")
    (course.downloads / "thief_folder").symlink_to(course.tree / "modules", target_is_directory=True)
    report = course.collect()
    assert said(report, "not used", "thief_tensor.ipynb", "symbolic link")
    assert said(report, "not used", "thief_folder", "symbolic link")
    assert course.submitted() == ["honest/01_tensor/tensor.ipynb"]


def test_a_symbolic_link_planted_in_submitted_is_not_written_through(course):
    target = course.course / "submitted" / "mallory" / "01_tensor"
    target.mkdir(parents=True)
    (target / "tensor.ipynb").symlink_to(course.tree / "modules" / "01_tensor" / "tensor.ipynb")
    (course.downloads / "mallory_tensor.ipynb").write_text("{}")
    report = course.collect()
    assert said(report, "not collected", "mallory_tensor.ipynb", "symbolic link")
    assert_honest_collected(course)


def test_a_notebook_that_is_not_json_is_collected_and_reported(course):
    (course.downloads / "sloppy_tensor.ipynb").write_text("{ not json")
    report = course.collect()
    assert said(report, "sloppy 01_tensor", "tensor.ipynb is not valid JSON")
    assert "sloppy" in report.collected  # so that grading scores it 0 and tells the learner why


# --------------------------------------------------------------------------- files that are not used
def test_files_shipped_next_to_a_notebook_are_listed_as_not_used(course):
    shipped = {"numpy.py": "def array(*a): return 42", "tinytorch/__init__.py": "", "tinytorch/core/tensor.py": "x",
               "notes.txt": "hi", "01_tensor/scratch.ipynb": "{}", "__MACOSX/01_tensor/._tensor.ipynb": "junk",
               "01_tensor/.ipynb_checkpoints/tensor-checkpoint.ipynb": "{}"}
    course.handin_zip("zed_01_tensor.zip", "zed", extra=shipped)
    learner = course.downloads / "folk_attempt"
    for name, text in {"tensor.ipynb": HONEST.decode(), **shipped}.items():
        (learner / name).parent.mkdir(parents=True, exist_ok=True)
        (learner / name).write_text(text)
    report = course.collect()
    for origin in ("zed_01_tensor.zip!", "folk_attempt/"):
        for name in ("numpy.py", "tinytorch/__init__.py", "tinytorch/core/tensor.py", "notes.txt",
                     "01_tensor/scratch.ipynb"):
            assert said(report, "not used", origin + name), (origin, name, report.messages)
    assert said(report, "not used", "zed_01_tensor.zip", "macOS metadata")
    assert said(report, "not used", "Jupyter checkpoint copies")
    assert course.submitted() == ["folk/01_tensor/tensor.ipynb", "honest/01_tensor/tensor.ipynb",
                                  "zed/01_tensor/tensor.ipynb"]


def test_every_notebook_of_a_module_is_handed_in_and_collected(tmp_path):
    c = Course(tmp_path)
    tree = tmp_path / "learner"
    shutil.copytree(c.tree / "modules" / "02_autograd", tree / "modules" / "02_autograd")
    (tree / STUDENT_MARKER).write_text(json.dumps({"graded_cells": {"02_autograd": released_cells(
        tree / "modules" / "02_autograd")}}))
    lines = []
    handin(tree, "02", "ada", dest=c.downloads, out=lines.append)
    assert lines[-1].endswith("ready to upload"), lines
    c.before = c.snapshot()  # the learner's tree is new; from here on nothing outside grading/ may change
    report = c.collect()
    assert report.collected == {"ada": ["02_autograd"]}
    assert c.submitted() == ["ada/02_autograd/autograd.ipynb", "ada/02_autograd/nn.ipynb"]
    for name in ("autograd", "nn"):
        assert (c.course / "submitted" / "ada" / "02_autograd" / f"{name}.ipynb").read_bytes() == \
            (tree / "modules" / "02_autograd" / f"{name}.ipynb").read_bytes()


# --------------------------------------------------------------------------- the shared notebook checker
@pytest.fixture(scope="module")
def expected_tensor():
    "The same expectations on both sides: grade's ExpectedNotebook and the student tree's marker."
    nb = nbformat.read(TENSOR, as_version=4)
    tests = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
             if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}
    return ExpectedNotebook("tensor", nb, tests)


def _broken(kind: str) -> bytes:
    nb = json.loads(HONEST)
    gids = [nbgrader_meta(c).get("grade_id") for c in nb["cells"]]
    test = next(i for i, c in enumerate(nb["cells"])
                if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution"))
    if kind == "deleted":
        del nb["cells"][test]
    elif kind == "duplicated":
        nb["cells"].append(json.loads(json.dumps(nb["cells"][test])))
    elif kind == "changed":
        nb["cells"][test]["source"] = "pass"
    elif kind == "foreign":
        nb["cells"][0].setdefault("metadata", {})["nbgrader"] = {"grade_id": "made_up", "grade": True, "points": 99}
    elif kind == "not_a_cell":
        nb["cells"].insert(1, [1, 2])
    elif kind == "not_nbformat":
        del nb["metadata"]
    elif kind == "stripped":
        for cell in nb["cells"]:
            cell.get("metadata", {}).pop("nbgrader", None)
    elif kind == "not_utf8":
        return json.dumps(nb).encode().replace(b"Module 01", b"Module \xff01", 1)
    assert gids
    return json.dumps(nb).encode()


@pytest.mark.parametrize("kind, words", [
    ("deleted", ("was deleted; it scores 0 of",)), ("duplicated", ("appears 2 times",)),
    ("changed", ("was changed", "runs the original test")), ("foreign", ("'made_up'", "not part of the course")),
    ("not_a_cell", ("cell 2 is not a notebook cell",)), ("not_nbformat", ("does not follow the notebook format",)),
    ("stripped", ("no graded cells left",)), ("not_utf8", ("not UTF-8",))])
def test_handin_and_grade_say_the_same_thing(tmp_path, expected_tensor, kind, words):
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "tensor.ipynb").write_bytes(_broken(kind))
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(TENSOR, release / "tensor.ipynb")
    (tmp_path / STUDENT_MARKER).write_text(json.dumps({"graded_cells": {"01_tensor": released_cells(release)}}))
    module = next(m for m in list_modules(ROOT) if m.id == "01_tensor")
    marker_cells = graded_cells_of(tmp_path, module)["tensor"]
    warned = check_handin_notebook(folder / "tensor.ipynb", marker_cells)
    graded = check_notebook(folder, expected_tensor)
    assert warned == graded.notes, (warned, graded.notes)
    assert any(all(w in m for w in words) for m in warned), warned
    assert graded.status == "ok"
    assert check_handin_notebook(TENSOR, marker_cells) == []  # the untouched notebook has nothing to say


@pytest.mark.parametrize("data, words", [(b"", "is empty"), (b"{ nope", "not valid JSON"),
                                         (b"[1, 2]", "not a Jupyter notebook"),
                                         (_deep(100_000).encode(), "nests its JSON more than"),
                                         (_deep(MAX_JSON_DEPTH + 1).encode(), "nests its JSON more than"),
                                         (b"1" * 5000, "not valid JSON")])
def test_unreadable_notebooks_are_fatal_with_the_points_they_cost(expected_tensor, data, words):
    check = check_notebook_bytes(data, "tensor.ipynb", expected_tensor.expected_cells)
    assert not check.gradable and check.notebook is None
    total = sum(expected_tensor.tests.values())
    assert len(check.problems) == 1 and words in check.messages[0]
    assert f"its {total:g} points score 0" in check.messages[0]


def test_json_depth_limit_is_what_it_says():
    value, problems = load_json(_deep(MAX_JSON_DEPTH).encode(), "x.json")
    assert value is not None and problems == []
    value, problems = load_json(_deep(MAX_JSON_DEPTH + 1).encode(), "x.json")
    assert value is None and problems[0].code == "too_deep"


# --------------------------------------------------------------------------- an nbgrader exchange
@pytest.mark.slow
def test_the_exchange_is_collected_without_its_unsafe_ids(course):
    from tinytorch.course.collect import collect_exchange
    exchange = course.tmp / "exchange"
    stamp = "2026-11-21 10:00:00.000000 UTC"
    for student in ("ada", "bob", "..", "evil\x1b", "Bob"):
        inbound = exchange / "tinytorch" / "inbound" / f"{student}+01_tensor+{stamp}+abc123"
        inbound.mkdir(parents=True)
        (inbound / "tensor.ipynb").write_bytes(HONEST)
        (inbound / "timestamp.txt").write_text(stamp)
    course.before = course.snapshot()
    module = next(m for m in course.modules if m.id == "01_tensor")
    report = collect_exchange(course.course, module, exchange)
    assert course.snapshot() == course.before
    assert report.collected == {"ada": ["01_tensor"]}
    assert said(report, "not collected", "'..'") and said(report, "not collected", "U+001B")
    assert said(report, "not collected", "'Bob'", "'bob'", "differ only in case")
    assert not (course.course / "01_tensor").exists()


def test_collecting_one_module_lists_the_others_as_not_used(course):
    (course.downloads / "ada_nn.ipynb").write_bytes(HONEST)
    only = next(m for m in course.modules if m.id == "01_tensor")
    report = course.collect(only=only)
    assert said(report, "not used", "ada_nn.ipynb", "a notebook of 02_autograd; only 01_tensor is collected")
    assert report.collected == {"honest": ["01_tensor"]}


def test_the_downloads_and_the_course_folder_must_not_hold_each_other(course):
    for source, dest in ((course.tree, course.course), (course.downloads, course.downloads / "grading"),
                         (course.downloads, course.downloads)):
        with pytest.raises(CourseError, match="must not hold each other"):
            collect_downloads(source, dest, course.modules)
    assert course.snapshot() == course.before and not (course.downloads / "grading").exists()


def test_a_bad_hand_in_inside_a_download_all_zip_costs_only_its_owner(course):
    good = course.handin_zip("good_01_tensor.zip", "good").read_bytes()
    evil = course.handin_zip("evil_01_tensor.zip", "../../modules").read_bytes()
    for name in ("good_01_tensor.zip", "evil_01_tensor.zip"):
        (course.downloads / name).unlink()
    course.zip("download_all.zip", {"good_attempt/good_01_tensor.zip": good, "evil_attempt/evil_01_tensor.zip": evil,
                                    "bad_attempt/bad_01_tensor.zip": b"PK\x05\x06 broken"})
    report = course.collect()
    assert set(report.collected) == {"honest", "good"}
    assert said(report, "not collected", "download_all.zip!evil_attempt/evil_01_tensor.zip", "'../../modules'")
    assert said(report, "not collected", "download_all.zip!bad_attempt/bad_01_tensor.zip", "not a valid zip")


def test_a_notebook_that_never_had_graded_cells_is_not_warned_about(tmp_path):
    demo = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "demo.ipynb"
    nbformat.write(demo, path)
    assert check_handin_notebook(path, {}) == []                  # recorded: no graded cells
    assert any("no graded cells left" in w for w in check_handin_notebook(path, None))  # not recorded: say so


def test_reading_a_member_stops_at_the_limit_whatever_its_header_says(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tensor.ipynb", b"\0" * (3 * 2**20))
    with safe_zip.open_zip(path) as zf:
        with pytest.raises(safe_zip.UnreadableZip, match="more than 1 MB"):
            safe_zip.read_member(zf, zf.getinfo("tensor.ipynb"), limit=2**20)
        info = zf.getinfo("tensor.ipynb")
        info.file_size = 10  # a lying header: zipfile stops at it and finds the CRC wrong
        with pytest.raises(safe_zip.UnreadableZip, match="can't be unpacked"):
            safe_zip.read_member(zf, info, limit=2**20)
