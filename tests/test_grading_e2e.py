"""End to end: release module 01, learners hand in (correct, partly wrong, broken, cheating, hostile),
the instructor collects the zips, grades them in parallel (each kernel in its sandbox), and every
score, CSV cell and feedback page is checked, and that nothing outside the graded submissions'
own results changed. The grading runs once per test session (shared by the pytest-xdist workers);
the tests below only read what it produced.
"""
import csv
import fcntl
import hashlib
import json
import os
import shutil
import site
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from grading_corpus import apply_case, cases, expected_scores, graded_points, score_problems

from tinytorch.course.collect import collect_downloads
from tinytorch.course.grading.grade import GradeOptions, grade
from tinytorch.course.grading.prepare import prepare
from tinytorch.course.grading.report import summary, write_csv
from tinytorch.course.grading.store import load_results
from tinytorch.course.handin import handin, released_cells
from tinytorch.course.layout import STUDENT_MARKER, find_module, list_modules
from tinytorch.course.notebooks import fill_solutions
from tinytorch.course.release import release

ROOT = Path(__file__).resolve().parents[1]
MODULE = find_module(ROOT, "01")
# Short limits keep the suite fast; the code paths are those of the 60 s default.
OPTIONS = dict(cell_timeout=5, memory_limit_mb=2048, interrupt_grace=3, progress=False)
CHEATS = {f"cheat{i:02d}": case for i, case in enumerate(cases("cheating"), 1)}
BROKEN = {f"broken{i:02d}": case for i, case in enumerate(cases("broken"), 1)}
HOSTILE = {f"hostile{i:02d}": case for i, case in enumerate(cases("hostile"), 1)}
HONEST = ("correct", "lms")  # their scores and files must come out as if graded alone
SEQUENTIAL = ["correct", "untouched", "notjson", "cheat01", "broken03"]  # also graded one at a time

pytestmark = pytest.mark.slow


def _shared_dir(tmp_path_factory) -> Path:
    "A folder all xdist workers of this run share (each run gets a new one)."
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    folder = base.parent / f"grading-e2e-{run}" if run else base / "grading-e2e"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _learner_tree(folder: Path, nb) -> Path:
    "A learner's student tree holding only module 01, with the marker `tinytorch student` writes."
    notebook = folder / "modules" / MODULE.id / MODULE.notebook.name
    notebook.parent.mkdir(parents=True)
    if isinstance(nb, bytes):
        notebook.write_bytes(nb)
    else:
        nbformat.write(nb, notebook)
    return folder


def _build(shared: Path) -> dict:
    course, downloads, trees = shared / "grading", shared / "downloads", shared / "learners"
    downloads.mkdir()
    release_dir = release(ROOT, "01", course)[0]
    released = nbformat.read(release_dir / MODULE.notebook.name, as_version=4)
    correct = fill_solutions(released, nbformat.read(MODULE.notebook, as_version=4))
    marker = {"kind": "tinytorch student tree", "modules": [MODULE.id],
              "graded_cells": {MODULE.id: released_cells(release_dir)}}
    learners = {"correct": correct, "untouched": released, "empty": b""}
    learners.update({sid: apply_case(correct, case) for sid, case in {**CHEATS, **BROKEN, **HOSTILE}.items()})
    warnings = {}
    for sid, nb in learners.items():
        tree = _learner_tree(trees / sid, nb)
        (tree / STUDENT_MARKER).write_text(json.dumps(marker))
        said = []
        handin(tree, "01", sid, dest=downloads, out=said.append)
        warnings[sid] = said
    # Some hand-ins arrive inside an LMS "download all" zip of zips.
    with zipfile.ZipFile(downloads / "download_all.zip", "w") as bundle:
        for sid in ("cheat01", "broken01", "broken02"):
            zip_path = downloads / f"{sid}_01_tensor.zip"
            bundle.write(zip_path, f"{sid}_attempt_1/{zip_path.name}")
            zip_path.unlink()
    # Loose notebooks with LMS names: an older wrong copy and a resubmission ("-1") that is right.
    nbformat.write(released, downloads / "lms_12345_tensor.ipynb")
    nbformat.write(correct, downloads / "lms_late_12346_tensor-1.ipynb")
    (downloads / "notjson_late_777_tensor.ipynb").write_text("{ this is not a notebook")
    with zipfile.ZipFile(downloads / "missing_01_tensor.zip", "w") as zf:  # a hand-in without the notebook
        zf.writestr("handin.json", json.dumps({"student": "missing", "modules": [MODULE.id]}))
        zf.writestr("notes.txt", "I forgot the notebook")
    report = collect_downloads(downloads, course, list_modules(ROOT))
    nested = course / "submitted" / "nested" / MODULE.id  # RecursionError in a JSON parser
    nested.mkdir(parents=True)
    (nested / "tensor.ipynb").write_text("[" * 200_000 + "]" * 200_000)

    assignment = prepare(ROOT, MODULE, course)
    canary = shared / "canary"
    canary.mkdir()
    (canary / "keep.txt").write_text("untouched")
    before = _snapshot(course, canary)
    started = time.monotonic()
    results = _plain(grade(ROOT, MODULE, course, GradeOptions(workers=2, **OPTIONS), out=lambda *a: None))
    parallel_seconds = time.monotonic() - started
    after = _snapshot(course, canary)
    csv_path = write_csv(assignment)
    text = summary(assignment)
    feedback_before = {str(p.relative_to(course)): p.stat().st_mtime_ns for p in (course / "feedback").rglob("*.html")}

    # Grading again changes nothing and keeps the feedback; --force for one learner gives the same scores.
    said = []
    again = _plain(grade(ROOT, MODULE, course, GradeOptions(workers=2, **OPTIONS), out=said.append))
    feedback_after = {str(p.relative_to(course)): p.stat().st_mtime_ns for p in (course / "feedback").rglob("*.html")}
    forced = _plain(grade(ROOT, MODULE, course, GradeOptions(workers=2, students=["correct"], force=True, **OPTIONS),
                          out=lambda *a: None))

    # The same submissions graded one at a time (one worker), in a second course folder.
    sequential = shared / "sequential"
    for sid in SEQUENTIAL:
        shutil.copytree(course / "submitted" / sid, sequential / "submitted" / sid)
    one_by_one = _plain(grade(ROOT, MODULE, sequential, GradeOptions(workers=1, **OPTIONS), out=lambda *a: None))
    return {"results": results, "before": before, "after": after, "again": again, "again_said": said,
            "forced": forced, "one_by_one": one_by_one,
            "feedback_before": feedback_before, "feedback_after": feedback_after, "summary": text,
            "csv": str(csv_path), "course": str(course), "warnings": warnings, "parallel_seconds": parallel_seconds,
            "collected": report.collected, "collect_messages": report.messages,
            "points": graded_points(correct)}


def _plain(run) -> dict:
    return {sid: result.to_json() for sid, result in run.results.items()}


def _tree_digest(folder: Path, skip=()) -> dict:
    "{relative path: sha256} of every file under `folder`, less the subfolders in `skip`."
    digest = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and not path.is_symlink() and not any(rel == s or rel.startswith(s + "/") for s in skip):
            digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def _snapshot(course: Path, canary: Path) -> dict:
    """What no grading kernel may change: the collected submissions and the prepared source, the
    instructor tree, the Python environment (site-packages) and a folder next to the course."""
    return {"course": _tree_digest(course, skip=("autograded", "feedback", "feedback_history", "results",
                                                 "gradebook.db", ".tinytorch/workers", ".tinytorch/plain-feedback")),
            "instructor": {**_tree_digest(ROOT / "modules"), **_tree_digest(ROOT / "tinytorch", skip=("__pycache__",))},
            "site": {str(p): sorted(os.listdir(p)) for p in site.getsitepackages() if os.path.isdir(p)},
            "canary": _tree_digest(canary)}


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    shared = _shared_dir(tmp_path_factory)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker grades, the others wait and read
        done = shared / "done.json"
        if not done.is_file():
            done.write_text(json.dumps(_build(shared)))
    return json.loads(done.read_text())


def _cells(run, sid, key="results"):
    return run[key][sid]["cells"]["tensor"]


# --------------------------------------------------------------------------- hand-in and collect
def test_handin_warns_about_broken_notebooks(run):
    assert len(run["warnings"]["correct"]) == 1 and "ready to upload" in run["warnings"]["correct"][0]
    said = run["warnings"]["empty"]
    assert any(w.startswith("WARNING") and "is empty" in w for w in said), said
    deleted = next(sid for sid, case in BROKEN.items() if case["name"] == "deleted_test")
    assert any("test_quiz_fit was deleted" in w for w in run["warnings"][deleted]), run["warnings"][deleted]
    edited = next(sid for sid, case in BROKEN.items() if case["name"] == "edited_test_correct")
    assert any("test cell test_memory_bytes was changed" in w for w in run["warnings"][edited])


def test_collect_finds_every_learner(run):
    expected = {"correct", "untouched", "empty", "lms", "notjson", "missing", *CHEATS, *BROKEN, *HOSTILE}
    assert set(run["collected"]) == expected
    assert all(mods == [MODULE.id] for mods in run["collected"].values())
    assert any("lms_late_12346_tensor-1.ipynb over lms_12345_tensor.ipynb" in m for m in run["collect_messages"])


# --------------------------------------------------------------------------- scores
def test_correct_and_untouched(run):
    points = run["points"]
    assert _cells(run, "correct") == points
    assert _cells(run, "lms") == points  # the resubmission was graded, not the older copy
    assert _cells(run, "untouched") == {gid: 0.0 for gid in points}


@pytest.mark.parametrize("sid", sorted(CHEATS))
def test_cheat_scores_zero_on_its_target(run, sid):
    case = CHEATS[sid]
    assert case["targets"], case
    assert not score_problems(_cells(run, sid), run["points"], case["targets"]), \
        (case["why"], score_problems(_cells(run, sid), run["points"], case["targets"]))


@pytest.mark.parametrize("sid", sorted(BROKEN))
def test_broken_submission_loses_only_what_it_breaks(run, sid):
    case = BROKEN[sid]
    assert run["results"][sid]["status"] == "graded"
    assert not score_problems(_cells(run, sid), run["points"], case["targets"]), \
        (case["why"], score_problems(_cells(run, sid), run["points"], case["targets"]))


@pytest.mark.parametrize("sid", sorted(HOSTILE))
def test_hostile_submission_gains_nothing_and_breaks_nothing(run, sid):
    "Attacks on the grader, other learners and the feedback: graded as the correct work they hold."
    assert run["results"][sid]["status"] == "graded", run["results"][sid]
    assert _cells(run, sid) == run["points"], HOSTILE[sid]["why"]


def test_no_file_outside_the_graded_submissions_changed(run):
    for part in ("course", "instructor", "site", "canary"):
        assert run["after"][part] == run["before"][part], part
    assert run["before"]["canary"] == {"keep.txt": hashlib.sha256(b"untouched").hexdigest()}


def test_honest_learners_are_unaffected(run):
    course = Path(run["course"])
    for sid in HONEST:
        assert _cells(run, sid) == run["points"], sid
        graded = nbformat.read(course / "autograded" / sid / MODULE.id / "tensor.ipynb", as_version=4)
        assert len(graded.cells) > 10, sid  # the notebook nbgrader ran, not something a classmate wrote
        assert run["results"][sid]["notes"] == [], run["results"][sid]["notes"]


def test_sandbox_leaves_no_way_out(run):
    "What the hostile kernels tried, as their own autograded notebooks show it."
    course = Path(run["course"])
    by_name = {case["name"]: sid for sid, case in HOSTILE.items()}
    def printed(name):
        nb = nbformat.read(course / "autograded" / by_name[name] / MODULE.id / "tensor.ipynb", as_version=4)
        return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "LEAKED" not in printed("read_other_module")
    assert printed("read_other_module").count("refused:") == 3
    assert "aaa_tinytorch_poison" not in "".join(str(v) for v in run["after"]["site"].values())


def test_feedback_never_runs_the_learners_html(run):
    course = Path(run["course"])
    sid = next(sid for sid, case in HOSTILE.items() if case["name"] == "feedback_html")
    page = (course / "feedback" / sid / MODULE.id / "tensor.html").read_text()
    assert "PWNED" in page  # the learner's text is shown ...
    for live in ("<script>window.PWNED", "<img src=x onerror", 'href="javascript:'):
        assert live not in page, live  # ... but nothing of it runs
    # The real notes box is the autograder's alone; the imitation is plain text.
    assert page.count('class="tinytorch-autograder-notes"') == 0
    told = next(sid for sid, case in CHEATS.items() if case["name"] == "patch_during_test")  # has notes
    noted = (course / "feedback" / told / MODULE.id / "tensor.html").read_text()
    assert noted.count('class="tinytorch-autograder-notes"') == 1


@pytest.mark.parametrize("sid, reason", [("notjson", "not valid JSON"), ("empty", "is empty"),
                                         ("nested", "levels deep"),
                                         ("missing", "missing from the submission")])
def test_unreadable_submissions_score_zero_with_the_reason(run, sid, reason):
    result = run["results"][sid]
    assert result["status"] == "unreadable" and result["cells"] == {}  # nothing ran; the CSV test checks the zeros
    assert any(reason in note for note in result["notes"]), result["notes"]
    page = Path(run["course"]) / "feedback" / sid / MODULE.id / "tensor.html"
    assert reason in page.read_text()


# --------------------------------------------------------------------------- CSV, feedback, summary
def test_csv_value_by_value(run):
    with open(run["csv"]) as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    points = run["points"]
    # exact for the submissions whose scores are known; cheats and broken ones are checked case by case
    # (test_cheat_scores_zero_on_its_target) and must agree here with their JSON
    expected = {"correct": points, "lms": points, "untouched": expected_scores(points, points),
                **{sid: expected_scores(points, points) for sid in ("notjson", "nested", "empty", "missing")},
                **{sid: points for sid in HOSTILE},
                **{sid: _cells(run, sid) for sid in {**CHEATS, **BROKEN}}}
    assert set(rows) == set(expected)
    for sid, scores in expected.items():
        row = rows[sid]
        for gid, score in scores.items():
            assert float(row[gid]) == score, (sid, gid)
        assert float(row["total"]) == sum(scores.values()), sid
        assert float(row["max"]) == sum(points.values())
    cheat = next(sid for sid, case in CHEATS.items() if case["name"] == "patch_numpy_helpers")
    assert "replaces np.testing.assert_allclose" in rows[cheat]["flags"]
    assert rows["correct"]["flags"] == ""


def test_feedback_pages_explain(run):
    course = Path(run["course"])
    for sid in run["results"]:
        assert (course / "feedback" / sid / MODULE.id / "tensor.html").is_file(), sid
    by_name = {case["name"]: sid for sid, case in {**CHEATS, **BROKEN, **HOSTILE}.items()}
    page = lambda name: (course / "feedback" / by_name[name] / MODULE.id / "tensor.html").read_text()
    assert "test_quiz_fit was deleted" in page("deleted_test")
    assert "stopped the Python kernel" in page("kernel_exit")
    assert "ignored the interrupt" in page("stubborn_loop")
    # objects whose __eq__ always says yes are refused by the checks before any comparison
    assert "return numbers, arrays or Tensors" in page("always_equal") or "IntegrityError" in page("always_equal")
    assert "replaced while the test ran" in page("patch_during_test")
    assert "checks were switched off" in page("disable_autograder")
    assert "MemoryError" in page("huge_allocation")
    assert "output of this cell cut" in page("huge_output")
    assert len(page("huge_output")) < 3_000_000  # megabytes printed, a bounded page


def test_summary_lists_learners_and_most_failed_tests(run):
    text = run["summary"]
    assert "correct" in text and "16/16" in text.replace(" ", "")
    assert "Tests failed most often:" in text
    failed_lines = text.split("Tests failed most often:")[1]
    # every learner except correct/lms/zero-target ones misses test_quiz_linear or others; the
    # most failed test is listed first with its count
    counts = [int(line.split("failed by ")[1].split(" of")[0])
              for line in failed_lines.splitlines() if "failed by" in line]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


# --------------------------------------------------------------------------- parallel, twice, crashes
def test_parallel_scores_equal_one_at_a_time(run):
    for sid in SEQUENTIAL:
        assert run["one_by_one"][sid]["cells"] == run["results"][sid]["cells"], sid
        assert run["one_by_one"][sid]["status"] == run["results"][sid]["status"]


def test_grading_twice_keeps_results_and_feedback(run):
    assert run["again"] == run["results"]
    assert run["feedback_after"] == run["feedback_before"]
    assert any("unchanged since they were graded" in line for line in run["again_said"])
    assert run["forced"]["correct"]["cells"] == run["results"]["correct"]["cells"]


def test_crash_mid_run_loses_nothing(tmp_path):
    "Kill `tinytorch grade` after its first learner is graded; the next run keeps that result."
    course = tmp_path / "grading"
    released = nbformat.read(release(ROOT, "01", course)[0] / MODULE.notebook.name, as_version=4)
    correct = fill_solutions(released, nbformat.read(MODULE.notebook, as_version=4))
    for sid in ("a", "b", "c"):
        folder = course / "submitted" / sid / MODULE.id
        folder.mkdir(parents=True)
        nbformat.write(correct, folder / "tensor.ipynb")
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "tinytorch.course.cli", "--root", str(ROOT), "grade", "01",
                             "--course-dir", str(course), "--workers", "1", "--timeout", "5", "--memory-limit", "2048",
                             "--no-progress"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    results = course / "results" / MODULE.id
    deadline = time.monotonic() + 300
    while not list(results.glob("*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, 9)
    proc.wait()
    first = {p.stem: p.read_text() for p in results.glob("*.json")}
    assert len(first) >= 1
    said = []
    final = grade(ROOT, MODULE, course, GradeOptions(workers=1, **OPTIONS), out=said.append).results
    assert sorted(final) == ["a", "b", "c"]
    for sid, text in first.items():
        assert (results / f"{sid}.json").read_text() == text  # kept as it was, not graded again
    assert all(r.cells["tensor"] == graded_points(correct) for r in final.values())
    assert load_results(MODULE.id, course) == final
