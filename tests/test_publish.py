"""`tinytorch publish`: the student tree as a git repository of its own, with nothing of the instructor's.

The course is published from a copy of this repository into which the instructor's stores
(docs/checks.md: `*.checks.json`, `mistakes.py`, `slips.py`) have been put next to a notebook, so
the test fails if any route lets them through. Publishing twice must add a commit on top of
the first, so that a learner's clone fast-forwards.
"""
import re
import shutil
import subprocess

import nbformat
import pytest
from helpers import ROOT, copy_course
from leak_scan import course_secrets, find_leaks

from tinytorch.course.cli import main
from tinytorch.course.layout import STUDENT_MARKER, CourseError, list_modules
from tinytorch.course.publish import destination, instructor_files, publish

URL = "https://github.com/example-school/tinytorch-2027"
STORES = {"tensor.checks.json": '{"test_matmul": {"secret": "STORED-EXPECTED-VALUE"}}\n',
          "mistakes.py": "MISTAKES = {'transposed': 'INSTRUCTOR-MISTAKE-CATALOGUE'}\n",
          "slips.py": "SLIPS = {'bytes': 'INSTRUCTOR-SLIP'}\n"}


def git(repo, *args) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def course_with_stores(tmp_path_factory):
    "A copy of the instructor tree with the instructor's stores beside module 01's notebook."
    course = copy_course(tmp_path_factory.mktemp("course"))
    shutil.copy2(ROOT / "_quarto.yml", course / "_quarto.yml")  # the course site config (copy_course leaves it)
    for name, text in STORES.items():
        (course / "modules" / "01_tensor" / name).write_text(text)
    return course


@pytest.fixture(scope="module")
def published(course_with_stores, tmp_path_factory):
    dest = tmp_path_factory.mktemp("published") / "tinytorch-2027"
    assert main(["--root", str(course_with_stores), "publish", str(dest), "--repo-url", URL]) == 0
    return dest


@pytest.mark.slow
def test_published_repository_holds_the_student_tree_and_nothing_secret(published):
    assert (published / STUDENT_MARKER).is_file()
    assert [m.id for m in list_modules(published)] == [m.id for m in list_modules(ROOT)]
    for module in list_modules(published):
        assert "raise NotImplementedError(" in module.notebook.read_text(), module.notebook
    leaks = find_leaks(published, course_secrets())
    assert not leaks, "solution or hidden-test code in the published repository:\n" + "\n".join(leaks[:30])
    assert instructor_files(published) == [], "an instructor store was published"
    text = "\n".join(p.read_text(errors="replace") for p in published.rglob("*")
                     if p.is_file() and ".git" not in p.parts)
    for secret in ("STORED-EXPECTED-VALUE", "INSTRUCTOR-MISTAKE-CATALOGUE", "INSTRUCTOR-SLIP"):
        assert secret not in text, f"{secret} (an instructor store) reached the published repository"
    for gone in ("tests", "tools", "scripts", "deploy", "requirements-dev.txt", "nbgrader_config.py", "grading"):
        assert not (published / gone).exists(), f"{gone} is in the published repository"
    # What a learner and Binder need is there.
    for needed in ("binder/requirements.txt", "binder/runtime.txt", "binder/postBuild", "binder/jupyter-learner-config",
                   "_quarto.yml", "settings.ini", "pyproject.toml", "tinytorch/course/cli.py", ".gitignore"):
        assert (published / needed).is_file(), f"{needed} is missing from the published repository"
    assert "tinytorch student --in-place" not in (published / "binder" / "postBuild").read_text()


@pytest.mark.slow
def test_published_history_is_its_own(published):
    commits = git(published, "rev-list", "--all").split()
    assert len(commits) == 1, commits
    instructor = set(git(ROOT, "rev-list", "--all").split())
    assert not instructor & set(commits)
    assert git(published, "status", "--porcelain") == "", "publish left uncommitted files"
    assert git(published, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    # Every file of the commit is a file of the tree that was scanned: nothing else is in the history.
    tracked = set(git(published, "ls-files").split())
    on_disk = {p.relative_to(published).as_posix() for p in published.rglob("*")
               if p.is_file() and ".git" not in p.parts}
    assert tracked == on_disk


@pytest.mark.slow
def test_learner_readme_badge_points_at_the_published_repository(published):
    readme = (published / "README.md").read_text()
    badges = re.findall(r"\(https://mybinder\.org/v2/gh/([^/]+/[^/]+)/([^?]+)\?urlpath=lab/tree/([^)]+)\)", readme)
    assert badges == [("example-school/tinytorch-2027", "main", "modules/01_tensor/tensor.ipynb")], badges
    assert f"git clone {URL}.git" in readme
    assert "BEGIN SOLUTION" not in readme and "grading" not in readme.lower().replace("autograder", "")
    settings = (published / "settings.ini").read_text()
    assert f"git_url = {URL}\n" in settings and "student_repo" not in settings


@pytest.mark.slow
def test_publishing_again_adds_a_commit_a_clone_can_pull(course_with_stores, published, tmp_path):
    first = git(published, "rev-parse", "HEAD").strip()
    learner = tmp_path / "learner"
    git(tmp_path, "clone", "--quiet", str(published), str(learner))

    unchanged = publish(course_with_stores, published, url=URL)
    assert not unchanged.changed and unchanged.commit == first, "an identical publish should not add a commit"

    notebook = course_with_stores / "modules" / "01_tensor" / "tensor.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    next(c for c in nb.cells if c.cell_type == "markdown").source += "\n\n(erratum 1)"
    nbformat.write(nb, notebook)
    again = publish(course_with_stores, published, url=URL, message="Erratum in module 01")
    assert again.changed and again.commits == 2
    assert git(published, "rev-list", "HEAD").split() == [again.commit, first], "the first commit must stay the parent"
    assert git(published, "log", "-1", "--format=%s").strip() == "Erratum in module 01"

    git(learner, "pull", "--quiet", "--ff-only")
    assert "erratum 1" in (learner / "modules" / "01_tensor" / "tensor.ipynb").read_text()
    assert instructor_files(published) == [] and not find_leaks(published, course_secrets())


def test_publish_refuses_what_would_lose_work_or_leak(tmp_path):
    course = ROOT
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    with pytest.raises(CourseError, match="neither empty nor a repository made by `tinytorch publish`"):
        publish(course, folder, url=URL)
    assert (folder / "notes.txt").read_text() == "my notes"
    with pytest.raises(CourseError, match="outside the instructor repository"):
        publish(course, ROOT / "build" / "published", url=URL)


def test_publish_refuses_a_published_clone_with_uncommitted_changes(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    git(clone, "init", "--quiet")
    (clone / STUDENT_MARKER).write_text("{}\n")
    git(clone, "add", STUDENT_MARKER)
    git(clone, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "published")
    (clone / "fix.txt").write_text("an edit made by hand in the published clone")
    with pytest.raises(CourseError, match="(?s)never committed.*fix.txt"):
        publish(ROOT, clone, url=URL)
    assert (clone / "fix.txt").exists()


@pytest.mark.parametrize("url", ["github.com/a/b", "https://gitlab.com/a/b", "https://github.com/a",
                                 "file:///tmp/x", ""])
def test_the_repository_url_must_be_a_github_repository(url):
    with pytest.raises(CourseError, match=re.escape(repr(url)) if url else "student_repo"):
        destination(ROOT if url else ROOT / "tests", url=url or None)


def test_the_url_comes_from_settings_or_the_flag():
    assert destination(ROOT).url == "https://github.com/tinytorch/tinytorch-student"
    assert destination(ROOT, url=URL + ".git", branch="spring").owner_repo == "example-school/tinytorch-2027"
    with pytest.raises(CourseError, match="'bad..branch'"):
        destination(ROOT, branch="bad..branch")


def test_instructor_files_are_found_in_modules_and_grading_folders_anywhere(tmp_path):
    for name in ("modules/01_tensor/tensor.checks.json", "modules/03_x/mistakes.py", "modules/03_x/fused_mistakes.py",
                 "modules/03_x/slips.py", "g/gradebook.db", "submitted/x/y.ipynb", "modules/01_tensor/tensor.ipynb",
                 "tinytorch/course/mistakes.py"):   # the catalogue's loader is course tooling, not a catalogue
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert instructor_files(tmp_path) == ["g/gradebook.db", "modules/01_tensor/tensor.checks.json",
                                          "modules/03_x/fused_mistakes.py", "modules/03_x/mistakes.py",
                                          "modules/03_x/slips.py", "submitted"]
