"""A whole class on JupyterHub, on loopback, driven through Chromium: release, fetch, solve, validate,
submit, collect, grade, feedback.

The hub is deploy/jupyterhub_config.py as a real class runs it (root hub, PAM logins, one Unix
account per person, nbgrader's exchange in a shared folder). The users' Python environment is
built from the published student repository (`tinytorch publish`), as a hub machine's would be;
the instructor works in their own copy of the instructor tree, through the `tinytorch` CLI and
nbgrader's commands only. Each learner does everything in the browser: logs in, fetches module 01
in the Assignments tab, solves it (learner A fully, learner B half the exercises: the notebook
is saved through their server's contents API, as JupyterLab saves it), validates, submits; after
grading, fetches the feedback and reads the score on it. The scores must equal a direct grading
run of the same notebooks (collected from a folder instead of the exchange). Screenshots land in
test-artifacts/hub-*.png and the timings in test-artifacts/hub-class.json.
"""
import csv
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from helpers import ROOT, copy_course
from hub_class import Hub, course_environment, create_user, make_base, remove_user

from tinytorch.course.notebooks import cells_by_grade_id, fill_solutions, nbgrader_meta
from tinytorch.course.publish import publish

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]
MODULE, NOTEBOOK = "01_tensor", "tensor"
UI_TIMEOUT = 180_000  # ms: a learner's first server start on a busy 2-core machine


def solved(release_nb, source_nb, share: float):
    "The release with the first `share` of its exercise cells solved (in notebook order), the rest left as stubs."
    full = fill_solutions(release_nb, source_nb)
    exercises = [gid for gid, cell in cells_by_grade_id(release_nb).items()
                 if nbgrader_meta(cell).get("solution") and cell.cell_type == "code"]
    keep = set(exercises[:round(len(exercises) * share)])
    out = nbformat.from_dict(release_nb)
    for cell, done in zip(out.cells, full.cells):
        if nbgrader_meta(cell).get("grade_id") in keep:
            cell.source = done.source
    return out


class Learner:
    "One learner's browser: logs in to the hub and works in the Assignments tab."

    def __init__(self, browser, hub, user):
        self.hub, self.user = hub, user
        self.context = browser.new_context(viewport={"width": 1400, "height": 950})
        self.context.set_default_timeout(60_000)
        self.page = self.context.new_page()

    @property
    def server(self) -> str:
        return f"{self.hub.url}/user/{self.user.name}"

    def log_in(self):
        page = self.page
        page.goto(f"{self.hub.url}/hub/login")
        page.fill("#username_input", self.user.name)
        page.fill("#password_input", self.user.password)
        page.click("#login_submit")
        page.wait_for_selector("#jp-main-dock-panel", timeout=UI_TIMEOUT)
        return self

    def open_assignments(self):
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
        page.wait_for_selector("#released_assignments_list")
        return self

    def refresh(self):
        self.page.click("#refresh_assignments_list")

    def fetch(self):
        row = self.page.locator("#released_assignments_list .list_item", has_text=MODULE)
        row.get_by_role("button", name="Fetch").click()
        self.page.locator("#fetched_assignments_list .list_item", has_text=MODULE).first.wait_for()

    def contents(self, path, method="GET", body=None):
        "The learner's own server's contents API, with the browser's login (and its XSRF cookie)."
        xsrf = next((c["value"] for c in self.context.cookies() if c["name"] == "_xsrf"), "")
        response = self.context.request.fetch(f"{self.server}/api/contents/{path}", method=method,
                                              headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
                                              data=json.dumps(body) if body is not None else None)
        assert response.ok, f"{method} {path}: {response.status} {response.text()[:500]}"
        return response.json()

    def save_notebook(self, path, nb):
        self.contents(path, method="PUT", body={"type": "notebook", "format": "json", "content": nb})

    def validate(self) -> str:
        "Validate the fetched notebook from the Assignments tab; return the dialog's text."
        page = self.page
        assignment = page.locator("#fetched_assignments_list .list_item", has_text=MODULE).first
        assignment.locator("a", has_text=MODULE).first.click()  # unfold: one row per notebook
        page.locator("#fetched_assignments_list").get_by_role("button", name="Validate").first.click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=UI_TIMEOUT)
        text = dialog.inner_text()
        dialog.get_by_role("button").last.click()
        dialog.wait_for(state="detached")
        return text

    def submit(self):
        self.page.locator("#fetched_assignments_list .list_item", has_text=MODULE).first \
            .get_by_role("button", name="Submit").click()
        self.page.locator("#submitted_assignments_list .list_item", has_text=MODULE).first.wait_for(timeout=UI_TIMEOUT)

    def fetch_feedback(self):
        "Fetch Feedback in the Submitted list, then follow its '(view feedback)' link to the feedback folder."
        page = self.page
        self.refresh()
        submitted = page.locator("#submitted_assignments_list")
        submitted.get_by_text("feedback available to fetch").first.wait_for(timeout=UI_TIMEOUT)
        submitted.get_by_role("button", name="Fetch Feedback").first.click()
        submitted.locator("a", has_text="view feedback").first.click(timeout=UI_TIMEOUT)
        page.locator(".jp-DirListing-item", has_text=f"{NOTEBOOK}.html").first.wait_for(timeout=UI_TIMEOUT)

    def open_feedback(self):
        "The fetched feedback page, opened in a new tab as 'Open in New Browser Tab' does; returns that page."
        timestamps = self.contents(f"{MODULE}/feedback")["content"]
        assert len(timestamps) == 1, timestamps
        page = self.context.new_page()
        page.goto(f"{self.server}/files/{MODULE}/feedback/{timestamps[0]['name']}/{NOTEBOOK}.html")
        return page

    def screenshot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"hub-{name}.png"), full_page=True)


def grades(csv_path: Path) -> dict:
    with open(csv_path) as f:
        return {row["student"]: (float(row["total"]), float(row["max"])) for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def classroom():
    "Users, the users' environment and the hub; everything removed afterwards."
    is_root = subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0"
    if shutil.which("useradd") is None or not is_root:
        pytest.fail("the hub test creates Unix users: run it as root (CI does)")
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium"
    started = time.monotonic()
    base, users, hub = make_base(), [], None
    timings = {}
    try:
        published = publish(ROOT, base / "published").dest
        timings["publish"] = round(time.monotonic() - started, 1)
        env = course_environment(published)
        timings["users' environment"] = round(time.monotonic() - started - timings["publish"], 1)
        instructor = create_user("i")
        learners = [create_user("a"), create_user("b")]
        users += [instructor, *learners]
        checkout = instructor.home / "course"  # the instructor's own copy of the instructor tree
        checkout.mkdir()
        course = copy_course(checkout)
        subprocess.run(["chown", "-R", f"{instructor.name}:", str(instructor.home)], check=True)
        hub = Hub(instructor=instructor, learners=learners, base=base, env=env).start()
        timings["hub start"] = hub.startup_seconds
        yield {"hub": hub, "instructor": instructor, "learners": learners, "course": course, "env": env,
               "timings": timings, "started": started, "published": published}
    finally:
        if hub is not None:
            hub.stop()
        for user in users:
            remove_user(user)
        shutil.rmtree(base, ignore_errors=True)


def instructor_run(classroom, *args, cwd=None):
    "A command in the instructor's terminal on the hub: their Jupyter settings, their checkout's tinytorch."
    instructor, hub = classroom["instructor"], classroom["hub"]
    return instructor.run(args, env_bin=classroom["env"] / "bin", cwd=cwd, extra_env={
        "JUPYTER_CONFIG_DIR": str(hub.base / "state" / "jupyter" / "instructor"),
        "PYTHONPATH": str(classroom["course"])})


def tinytorch(classroom, *args, course_dir="grading"):
    return instructor_run(classroom, "python", "-m", "tinytorch.course.cli", "--root", classroom["course"], *args,
                          "--course-dir", str(classroom["instructor"].home / course_dir))


def test_a_class_on_jupyterhub(classroom):
    from playwright.sync_api import sync_playwright

    hub, instructor = classroom["hub"], classroom["instructor"]
    learner_a, learner_b = classroom["learners"]
    grading = instructor.home / "grading"
    timings, clock = classroom["timings"], time.monotonic()

    def lap(name):
        nonlocal clock
        timings[name] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    # The instructor releases module 01: the student version, then nbgrader's release to the exchange.
    tinytorch(classroom, "release", "01")
    instructor_run(classroom, "nbgrader", "release_assignment", MODULE, cwd=grading)
    assert (hub.exchange / "tinytorch" / "outbound" / MODULE / f"{NOTEBOOK}.ipynb").is_file()
    lap("instructor: release")

    release_nb = nbformat.read(grading / "release" / MODULE / f"{NOTEBOOK}.ipynb", as_version=4)
    source_nb = nbformat.read(ROOT / "modules" / MODULE / f"{NOTEBOOK}.ipynb", as_version=4)
    work = {learner_a.name: solved(release_nb, source_nb, 1.0), learner_b.name: solved(release_nb, source_nb, 0.5)}

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            learners = [Learner(browser, hub, user) for user in (learner_a, learner_b)]
            validations = {}
            for learner in learners:
                learner.log_in().open_assignments()
                learner.fetch()
                if learner is learners[0]:
                    learner.screenshot("assignments-tab")
                listing = learner.contents(MODULE)
                assert f"{NOTEBOOK}.ipynb" in [e["name"] for e in listing["content"]], listing
                fetched = learner.contents(f"{MODULE}/{NOTEBOOK}.ipynb")["content"]
                assert any("raise NotImplementedError" in "".join(c["source"]) for c in fetched["cells"]), \
                    "the fetched notebook is not the student version"
                assert not any("BEGIN HIDDEN TESTS" in "".join(c["source"]) for c in fetched["cells"])
                learner.save_notebook(f"{MODULE}/{NOTEBOOK}.ipynb", work[learner.user.name])
                validations[learner.user.name] = learner.validate()
                learner.submit()
                if learner is learners[0]:
                    learner.screenshot("submitted-list")
                # A learner has no formgrader (the server extension is off for learners).
                assert learner.context.request.get(f"{learner.server}/formgrader").status == 404
            lap("learners: log in, fetch, solve, validate, submit")
            assert "Success" in validations[learner_a.name], validations[learner_a.name]
            assert "Success" not in validations[learner_b.name], validations[learner_b.name]

            # The instructor collects from the exchange, grades, and releases the feedback.
            tinytorch(classroom, "collect", "--exchange", str(hub.exchange), "--module", "01")
            for user in (learner_a, learner_b):
                assert (grading / "submitted" / user.name / MODULE / f"{NOTEBOOK}.ipynb").is_file(), user.name
            graded = tinytorch(classroom, "grade", "01", "--workers", "2", "--no-progress")
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "hub-grade.txt").write_text(graded.stdout + graded.stderr + "\n" + "\n".join(
                f"--- {p.name}\n{p.read_text()[-3000:]}"
                for p in sorted((grading / "results" / MODULE).glob("*.json"))))
            released = tinytorch(classroom, "release-feedback", "01", "--exchange", str(hub.exchange)).stdout
            assert "for 2 learner(s)" in released, released
            lap("instructor: collect, grade, release feedback")

            seen = {}
            for learner in learners:
                learner.fetch_feedback()
                if learner is learners[0]:
                    learner.screenshot("feedback-fetched")
                feedback = learner.open_feedback()
                text = feedback.inner_text("body")
                if learner is learners[0]:
                    feedback.screenshot(path=str(ARTIFACTS / "hub-feedback-page.png"), full_page=True)
                score = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
                assert score, f"no score on {learner.user.name}'s feedback page:\n{text[:1500]}"
                seen[learner.user.name] = (float(score[1]), float(score[2]))
            lap("learners: fetch feedback")

            # The instructor's formgrader shows the module.
            teacher = Learner(browser, hub, instructor).log_in()
            teacher.page.goto(f"{teacher.server}/formgrader")
            teacher.page.get_by_text(MODULE).first.wait_for(timeout=UI_TIMEOUT)
            teacher.screenshot("formgrader")
        finally:
            browser.close()

    # Scores: what the learners saw = the hub's grades CSV = a direct grading run of the same notebooks.
    on_hub = grades(grading / f"grades-{MODULE}.csv")
    downloads = instructor.home / "downloads"
    instructor_run(classroom, "mkdir", "-p", downloads)
    for user in (learner_a, learner_b):
        instructor_run(classroom, "cp", grading / "submitted" / user.name / MODULE / f"{NOTEBOOK}.ipynb",
                       downloads / f"{user.name}_{NOTEBOOK}.ipynb")
    tinytorch(classroom, "collect", str(downloads), "--module", "01", course_dir="direct")
    tinytorch(classroom, "grade", "01", "--workers", "1", "--no-progress", course_dir="direct")
    direct = grades(instructor.home / "direct" / f"grades-{MODULE}.csv")
    lap("direct grading run")

    full_marks = on_hub[learner_a.name][1]
    assert on_hub[learner_a.name] == (full_marks, full_marks), on_hub
    assert 0 < on_hub[learner_b.name][0] < full_marks, on_hub
    assert seen == on_hub == direct, {"feedback": seen, "hub csv": on_hub, "direct": direct}

    timings["wall seconds"] = round(time.monotonic() - classroom["started"], 1)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hub-class.json").write_text(json.dumps(
        {"timings": timings,
         "scores": {"A (all solved)": on_hub[learner_a.name], "B (half solved)": on_hub[learner_b.name]}},
        indent=2) + "\n")
    print("hub class:", json.dumps(timings))
