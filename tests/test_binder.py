"""Binder: the READMEs' badges, and the environment Binder builds (built here for real).

Binder builds the published student repository (`tinytorch publish`), never this one. The build
test publishes this working tree, clones the published repository, makes a fresh virtual
environment from that clone's binder/ alone, runs its binder/postBuild and checks what a learner
gets: the student notebooks, no solution code anywhere, the learner's own package installed,
JupyterLab serving module 01 without the instructor's tools. It takes a few minutes (mostly `pip install`),
and writes its timings and sizes to test-artifacts/binder-build.json.
"""
import json
import re
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from binder_build import REPO, build, record
from lab_server import LabServer
from leak_scan import course_secrets, find_leaks

from tinytorch.course.layout import STUDENT_MARKER, list_modules
from tinytorch.course.publish import instructor_files

ARTIFACTS = REPO / "test-artifacts"
BADGE = re.compile(r"\(https://mybinder\.org/v2/gh/([^/]+)/([^/]+)/([^?)]+)\?urlpath=([^)\s]+)\)")

# nbgrader's JupyterLab plugins a learner must not see, and the one they use.
HIDDEN_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                  "@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:menu",
                  "@jupyterlab/apputils-extension:announcements"]
KEPT_PLUGIN = "@jupyter/nbgrader:validate-assignment"


def badge_target(readme=REPO / "README.md"):
    "(github owner, repo, ref, path opened in JupyterLab) of a README's Binder badge."
    found = BADGE.findall(Path(readme).read_text())
    assert len(found) == 1, f"the README should have exactly one Binder badge, found {found}"
    owner, repo, ref, urlpath = found[0]
    urlpath = urllib.parse.unquote(urlpath)
    assert urlpath.startswith("lab/tree/"), f"the badge should open a file in JupyterLab (lab/tree/...), not {urlpath}"
    return owner, repo, ref, urlpath.removeprefix("lab/tree/")


def test_badge_opens_module_01_of_the_published_repository():
    "The instructor README's badge builds the published student repository (settings.ini), not this one."
    owner, repo, ref, path = badge_target()
    settings = (REPO / "settings.ini").read_text()
    published = re.search(r"^student_repo\s*=\s*(\S+)", settings, re.M).group(1)
    assert published.rstrip("/") == f"https://github.com/{owner}/{repo}", (published, owner, repo)
    git_url = re.search(r"^git_url\s*=\s*(\S+)", settings, re.M).group(1)
    assert git_url.rstrip("/") != published.rstrip("/"), "Binder must never build the instructor repository"
    branch = re.search(r"^student_branch\s*=\s*(\S+)", settings, re.M).group(1)
    assert ref == branch, f"the badge builds {ref!r}, the published repository's branch is {branch!r}"
    first = list_modules(REPO)[0]
    assert path == first.notebook.relative_to(REPO).as_posix(), f"the badge opens {path}, module 01 is {first.notebook}"


def test_postbuild_refuses_the_instructor_tree(tmp_path):
    "Binder must build the published repository: postBuild run on this tree stops before installing anything."
    proc = subprocess.run(["bash", str(REPO / "binder" / "postBuild")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 1 and "not a published student repository" in proc.stderr, proc.stderr


def test_postbuild_is_executable_in_git():
    "repo2docker runs binder/postBuild as a program: git must store it with the executable bit."
    for script in ("binder/postBuild", "binder/jupyter-learner-config"):
        mode = subprocess.run(["git", "ls-files", "-s", script], cwd=REPO,
                              capture_output=True, text=True).stdout.split()
        assert mode and mode[0] == "100755", f"{script} is not committed as executable: {mode}"


@pytest.mark.slow
def test_binder_build_gives_the_learner_environment(tmp_path):
    # The venv (about 630 MiB) stays in pytest's temporary folder, which keeps the last three runs:
    # deleting 30,000 files takes 10-80 s on a busy machine.
    check_learner_environment(build(tmp_path))


def check_learner_environment(result) -> None:
    "Everything a learner relies on, in the tree and environment Binder's steps made."
    secrets = course_secrets()
    tree = result.checkout

    # The published repository: every module's released notebook, nothing of the instructor's.
    assert (tree / STUDENT_MARKER).is_file(), "the checkout is not a published student repository"
    assert badge_target(tree / "README.md")[:3] == badge_target()[:3], \
        "the learner README's badge is not the published repository's"
    history = subprocess.run(["git", "rev-list", "--all"], cwd=tree,
                             capture_output=True, text=True, check=True).stdout.split()
    instructor = subprocess.run(["git", "rev-list", "--all"], cwd=REPO, capture_output=True, text=True).stdout.split()
    assert history and not set(history) & set(instructor), "the published history holds instructor commits"
    assert instructor_files(tree) == [], "an instructor store is in the published repository"
    assert [m.id for m in list_modules(tree)] == [m.id for m in list_modules(REPO)]
    for module in list_modules(tree):
        cells = json.loads(module.notebook.read_text())["cells"]
        assert any("raise NotImplementedError(" in "".join(c["source"]) for c in cells), module.notebook
    for gone in ("tests", "tools", "scripts", "deploy", "nbgrader_config.py", "requirements-dev.txt"):
        assert not (tree / gone).exists(), f"{gone} is still in the learner's tree"
    leaks = find_leaks(tree, secrets)
    assert not leaks, "solution or hidden-test code in the learner's tree:\n" + "\n".join(leaks[:30])

    # The installed package is the learner's: imported from the tree, from anywhere, and stubbed.
    probe = ("import importlib, json, pkgutil, tinytorch, tinytorch.core as core\n"
             "mods = [m.name for m in pkgutil.iter_modules(core.__path__)]\n"
             "for m in mods: importlib.import_module('tinytorch.core.' + m)\n"
             "from tinytorch.core.tensor import memory_bytes\n"
             "try:\n    memory_bytes(10, 'float32'); outcome = 'returned'\n"
             "except NotImplementedError: outcome = 'NotImplementedError'\n"
             "print(json.dumps({'file': tinytorch.__file__, 'modules': mods, 'memory_bytes': outcome}))")
    seen = json.loads(result.run([str(result.python), "-c", probe], cwd=result.home).stdout)
    assert Path(seen["file"]).resolve().is_relative_to(tree.resolve()), seen
    assert "tensor" in seen["modules"], seen
    assert seen["memory_bytes"] == "NotImplementedError", "the installed tinytorch is not the learner's stub"

    # JupyterLab, started as Binder starts it (in the tree), serves the badge's notebook.
    _, _, _, badge_path = badge_target()
    server = LabServer([str(result.python), "-m", "jupyter", "lab"], root=tree, env=result.env(),
                       log_path=ARTIFACTS / "binder-jupyterlab.log")
    with server:
        status, page = server.get(f"lab/tree/{badge_path}")
        assert status == 200, f"the badge's page answered {status}\n{server.log()}"
        config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                      page, re.S).group(1))
        disabled = config.get("disabledExtensions", [])
        locked = config.get("lockedExtensions", [])
        for plugin in HIDDEN_PLUGINS:
            assert plugin in disabled, f"{plugin} is not disabled: {disabled}"
            assert plugin in locked, f"{plugin} can be switched back on in the Plugin Manager: {locked}"
        assert KEPT_PLUGIN not in disabled and "@jupyter/nbgrader" not in disabled, disabled
        notebook = server.get_json(f"api/contents/{badge_path}")
        assert notebook["type"] == "notebook"
        assert any("raise NotImplementedError(" in c["source"] for c in notebook["content"]["cells"])
        listing = server.get_json("api/contents/modules")
        assert sorted(e["name"] for e in listing["content"]) == [m.id for m in list_modules(REPO)]
        # Server side: the formgrader is gone, the learner's Validate endpoint is there.
        assert server.get("formgrader")[0] == 404, "the formgrader server extension is still enabled"
        assert server.get("assignments/validate")[0] != 404, "nbgrader's validate server extension is missing"

    record(result, ARTIFACTS, jupyterlab_start_seconds=server.startup_seconds)
