"""A learner's path through JupyterLab, in a real browser (headless Debian Chromium, Playwright).

Each test builds a student tree in a temporary folder, sets JupyterLab up as Binder does
(binder/jupyter-learner-config), starts it with `tinytorch lab`'s command on a free port and
drives the page with the keyboard and mouse, as a learner would. Screenshots of the key
steps go to test-artifacts/browser/<test>/ (with FAILED.png and the server log when a step fails).
"""
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from lab_server import LabServer
from playwright.sync_api import expect, sync_playwright

from tinytorch.course.lab import lab_command
from tinytorch.course.layout import find_module
from tinytorch.course.student import build_student_tree

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright never downloads a browser here
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]
STEP_TIMEOUT_MS = 90_000  # a busy 2-core machine: kernel start and cell runs take seconds, not minutes



@dataclass(frozen=True)
class LearnerPath:
    "What the browser does in one module: solve an exercise, pass its test, use the export."
    module: str           # the module whose notebook the learner works in
    exercise: str         # grade_id of the exercise cell the learner fills in
    visible_test: str     # grade_id of the test cell that must then pass (cells between are run too)
    use: str              # code typed into a new notebook, using the exported work
    expected_output: str  # what that code must print


TENSOR = LearnerPath(
    "01_tensor", "memory_bytes", "test_memory_bytes",
    use=("import tinytorch.core.tensor as learners\n"
         "print('from', learners.__file__)\n"
         "print('10 float32 numbers take', learners.memory_bytes(10, 'float32'), 'bytes')"),
    expected_output="10 float32 numbers take 40 bytes")
OPTIMIZERS = LearnerPath(
    "03_optimizers", "optimizer_base", "test_optimizer_base",
    use=("import numpy as np\n"
         "import tinytorch.core.optimizers as learners\n"
         "from tinytorch.core.tensor import Tensor\n"
         "print('from', learners.__file__)\n"
         "w = Tensor(np.ones(3))\n"
         "w.grad = Tensor(np.ones(3))\n"
         "learners.Optimizer([w], {'lr': 0.1}).zero_grad()\n"
         "print('after zero_grad the gradient is', w.grad)"),
    expected_output="after zero_grad the gradient is None")

# The learner's path the browser follows: module 03, the centre of the course. TENSOR is the
# same path through module 01 (what this test drove before module 03 existed).
PATH = OPTIMIZERS

expect.set_options(timeout=STEP_TIMEOUT_MS)


# --- what to type, and where: read from the notebooks -------------------------------------

def _cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text())["cells"]


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _cell(notebook: Path, grade_id: str) -> dict:
    found = [c for c in _cells(notebook) if _grade_id(c) == grade_id]
    assert len(found) == 1, f"{notebook} has {len(found)} cells with grade_id {grade_id!r}"
    return found[0]


def solution_source(notebook: Path, grade_id: str) -> str:
    "A correct implementation: the instructor's cell without nbgrader's solution markers."
    lines = _source(_cell(notebook, grade_id)).splitlines()
    return "\n".join(line for line in lines if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def where(notebook: Path, grade_id: str = None, containing: str = None) -> tuple[int, str]:
    """(position, first line of code) of a cell, by grade_id or by a piece of its code: the page
    holds the notebook's cells in the file's order, and the line confirms we found the right one."""
    for index, cell in enumerate(_cells(notebook)):
        if (grade_id and _grade_id(cell) == grade_id) or (containing and containing in _source(cell)):
            return index, next(line for line in _source(cell).splitlines()
                               if line.strip() and not line.startswith("#|"))
    raise AssertionError(f"no cell {grade_id or containing!r} in {notebook}")


def exported_file(notebook: Path) -> Path:
    "The package file a notebook exports to: its `#| default_exp core.x` names tinytorch/core/x.py."
    for cell in _cells(notebook):
        match = re.search(r"^#\|\s*default_exp\s+(\S+)", _source(cell), re.M)
        if match:
            return notebook.parents[2] / "tinytorch" / Path(*match.group(1).split(".")).with_suffix(".py")
    raise AssertionError(f"{notebook} has no `#| default_exp` cell")


# --- the page -----------------------------------------------------------------------------

class Learner:
    "One browser tab on JupyterLab, with the few gestures a learner makes; screenshots each step."

    def __init__(self, page, server: LabServer, shots: Path):
        self.page, self.server, self.shots, self.n = page, server, shots, 0

    def shot(self, name: str):
        self.n += 1
        self.page.screenshot(path=str(self.shots / f"{self.n:02d}-{name}.png"))

    def open(self, path: str):
        self.page.goto(self.server.url(f"lab/tree/{path}"))
        self.wait_idle()

    def wait_idle(self):
        "The kernel is started and idle (the status bar reads 'Python 3 (ipykernel) | Idle')."
        expect(self.page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).first).to_be_visible()

    def cell(self, position: tuple[int, str]):
        "The notebook's cell at `position` (index, first line of code), scrolled into view."
        index, first_line = position
        cell = self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)
        self.show(cell)
        expect(cell.locator(".cm-content")).to_contain_text(first_line.strip())
        return cell

    def show(self, cell):
        # The cell's top: the editor draws only the lines in view, and a cell can be taller than the window.
        cell.evaluate("element => element.scrollIntoView({block: 'start'})")
        self.page.wait_for_timeout(300)  # let the browser paint cells it skipped while off screen

    def type_into(self, cell, text: str):
        "Replace the cell's code with `text`, entered through the editor as typed input."
        # its first line: cells can be taller than the window
        cell.locator(".cm-content").click(position={"x": 10, "y": 5})
        self.page.keyboard.press("Control+a")
        # One input event for the whole text: the editor's auto-indent would re-indent line by line.
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")  # back to command mode, cell still selected

    def run(self, cell):
        "Run one cell (Ctrl+Enter) and wait until it has finished."
        # its first line: cells can be taller than the window
        cell.locator(".cm-content").click(position={"x": 10, "y": 5})
        self.page.keyboard.press("Control+Enter")
        expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
        self.wait_idle()

    def run_from(self, cell, count: int):
        "Run `count` cells from `cell` on with Shift+Enter (run, then select the next), as a learner steps through."
        # its first line: cells can be taller than the window
        cell.locator(".cm-content").click(position={"x": 10, "y": 5})
        self.page.keyboard.press("Escape")
        for _ in range(count):
            self.page.keyboard.press("Shift+Enter")

    def command(self, label: str):
        "Run a command by its label from the command palette (Ctrl+Shift+C)."
        self.page.keyboard.press("Control+Shift+C")
        self.page.locator(".lm-CommandPalette-input").fill(label)
        self.page.locator(".lm-CommandPalette-item", has_text=label).first.click()

    def save(self):
        self.page.keyboard.press("Control+s")
        expect(self.page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(0)

    def error_of(self, cell) -> str:
        "The text of the cell's error output ('' when it has none)."
        errors = cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        return "\n".join(errors.all_text_contents())


@pytest.fixture
def student_lab(tmp_path):
    "JupyterLab, set up as on Binder, on a new student tree; stopped after the test."
    tree = build_student_tree(REPO, tmp_path / "student")
    jupyter_dirs = {"JUPYTER_CONFIG_DIR": tmp_path / "jupyter-config",        # page config, workspaces
                    "JUPYTERLAB_SETTINGS_DIR": tmp_path / "jupyterlab-settings",
                    "JUPYTER_RUNTIME_DIR": tmp_path / "jupyter-runtime"}
    cmd, env = lab_command(tree, open_browser=False)
    env.update({name: str(path) for name, path in jupyter_dirs.items()})
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # this venv's `jupyter`
    proc = subprocess.run(["bash", str(REPO / "binder" / "jupyter-learner-config"), "--user"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with LabServer(cmd, tree, tmp_path / "jupyterlab.log", env=env) as server:
        yield server


@pytest.fixture
def learner(student_lab, request):
    "A Chromium tab; when the test fails, a FAILED screenshot and the server log are kept."
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium"
    shots = ARTIFACTS / request.node.name
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    failures_before = request.session.testsfailed
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(STEP_TIMEOUT_MS)
        you = Learner(page, student_lab, shots)
        try:
            yield you
        finally:
            if request.session.testsfailed > failures_before:
                page.screenshot(path=str(shots / "FAILED.png"))
                shutil.copy(student_lab.log_path, shots / "jupyterlab.log")
            browser.close()


def _learner_ui(you: Learner):
    "What Binder's configuration promises: nbgrader's Validate button, no instructor tools, no news pop-up."
    page = you.page
    expect(page.get_by_role("button", name="Validate")).to_be_visible()
    menus = page.locator("#jp-menu-panel .lm-MenuBar-itemLabel").all_text_contents()
    assert "File" in menus and "Nbgrader" not in menus, menus
    assert page.get_by_text("Create Assignment").count() == 0
    assert page.get_by_text("Would you like to get notified about official Jupyter news?").count() == 0


# --- the tests ------------------------------------------------------------------------------

@pytest.mark.slow
def test_learner_solves_an_exercise_exports_it_and_imports_it(learner, student_lab):
    you, tree = learner, student_lab.root
    released, source = find_module(tree, PATH.module).notebook, find_module(REPO, PATH.module).notebook
    solution = solution_source(source, PATH.exercise)
    ids = [_grade_id(c) for c in _cells(released)]
    cells_to_run = ids.index(PATH.visible_test) - ids.index(PATH.exercise) + 1  # exercise .. test

    you.open(released.relative_to(tree).as_posix())
    _learner_ui(you)
    test = you.cell(where(released, PATH.visible_test))
    exercise = you.cell(where(released, PATH.exercise))
    you.shot("module-opened")

    you.type_into(exercise, solution)
    you.command("Run All Above Selected Cell")   # the notebook's own cells before the exercise
    you.wait_idle()
    you.run_from(exercise, cells_to_run)         # Shift+Enter from the exercise down to its test
    expect(test.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
    you.wait_idle()
    you.show(test)
    you.shot("visible-tests-pass")
    assert you.error_of(exercise) == "", you.error_of(exercise)
    assert you.error_of(test) == "", f"the visible tests fail on a correct implementation:\n{you.error_of(test)}"

    # Export: save first (the export reads the notebook file), then run the module's last cell.
    you.save()
    assert _source(_cell(released, PATH.exercise)).rstrip() == solution.rstrip(), \
        "the saved notebook lacks what was typed"
    export = you.cell(where(released, containing="export_from_notebook("))
    you.run(export)
    expect(export.locator(".jp-OutputArea")).to_contain_text("Exported")
    you.show(export)
    you.shot("exported")
    package_file = exported_file(released)
    typed_line = next(line.strip() for line in solution.splitlines()[::-1] if line.strip())
    assert typed_line in package_file.read_text(), f"the learner's code is not in {package_file}"

    # A new notebook imports the learner's package and uses it.
    page = you.page
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^New$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Notebook$")).click()
    page.locator(".jp-Dialog .jp-mod-accept").click()  # "Select Kernel": Python 3, the default
    you.wait_idle()
    first = page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").first
    you.type_into(first, PATH.use)
    you.run(first)
    expect(first.locator(".jp-OutputArea")).to_contain_text(PATH.expected_output)
    expect(first.locator(".jp-OutputArea")).to_contain_text(str(package_file))
    assert you.error_of(first) == ""
    you.shot("new-notebook-uses-own-package")


@pytest.mark.slow
def test_untouched_exercise_shows_a_clear_not_implemented_error(learner, student_lab):
    you = learner
    released = find_module(student_lab.root, PATH.module).notebook
    you.open(released.relative_to(student_lab.root).as_posix())
    you.command("Run All Cells")
    test = you.cell(where(released, PATH.visible_test))
    expect(test.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
    you.wait_idle()
    you.show(test)
    you.shot("not-implemented")
    error = you.error_of(test)
    # the stub names its exercise
    assert "NotImplementedError" in error and "raise NotImplementedError(" in error, error
    assert re.search(r"in [\w.]+\(", error), f"the traceback should name the learner's function:\n{error}"
    # A failed exercise is an ordinary error: the kernel lives on, no dialog, no crash page.
    assert you.page.locator(".jp-Dialog").count() == 0
    expect(you.page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).first).to_be_visible()

    # nbgrader's Validate button (kept for learners) says which test failed, and why.
    you.page.get_by_role("button", name="Validate").click()
    dialog = you.page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validation Results")
    expect(dialog).to_contain_text("NotImplementedError")
    you.shot("validate-reports-failure")


@pytest.mark.slow
def test_learner_checks_answers_and_reads_what_is_wrong(learner, student_lab):
    """Module 01 in the browser: a wrong quiz answer (GB instead of GiB) is refused with the slip named,
    the fixed answer passes; a buggy exercise (bits instead of bytes) is named as that known mistake.
    The screenshots of the three messages are the ones the closing note of issue 11 shows."""
    you, tree = learner, student_lab.root
    released = find_module(tree, "01_tensor").notebook

    def show_message(cell):
        "Scroll so that the end of the cell's error output (where the check's message is) is in view."
        cell.locator(".jp-OutputArea").last.evaluate("element => element.scrollIntoView({block: 'end'})")
        you.page.wait_for_timeout(300)

    you.open(released.relative_to(tree).as_posix())
    quiz = you.cell(where(released, "quiz_10b_gib"))
    check = you.cell(where(released, "test_quiz_10b_fp32"))

    # A wrong answer: 4 × 10¹⁰ bytes counted in GB (10⁹) instead of GiB (2³⁰).
    you.type_into(quiz, "fp32_gib_10b = 40\nbf16_gib_10b = None\nint8_gib_10b = None")
    you.command("Run All Above Selected Cell")   # the imports and the checks' set-up, above the quiz
    you.wait_idle()
    you.run_from(quiz, 2)                        # the answer, then its check
    expect(check.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
    you.wait_idle()
    you.show(check)
    message = you.error_of(check)
    assert "CheckFailed" in message and "not right" in message and "GB" in message and "GiB" in message, message
    assert "37.2" not in message, f"the message must not give the answer away:\n{message}"
    show_message(check)
    you.shot("message-quiz-wrong-names-the-slip")

    # The fix: the same bytes divided by 2³⁰.
    you.type_into(quiz, "fp32_gib_10b = 4e10 / 2**30\nbf16_gib_10b = None\nint8_gib_10b = None")
    you.run_from(quiz, 2)
    you.wait_idle()
    you.show(check)
    assert you.error_of(check) == "", you.error_of(check)
    expect(check.locator(".jp-OutputArea")).to_contain_text("✓ 1 check passed")
    you.shot("message-quiz-right")

    # An exercise with a classic bug: bits instead of bytes. The check names the mistake and its section.
    exercise = you.cell(where(released, "memory_bytes"))
    test = you.cell(where(released, "test_memory_bytes"))
    you.type_into(exercise, 'def memory_bytes(n_elements, dtype="float32") -> int:\n'
                            '    return 8 * int(n_elements) * BYTES_PER_ELEMENT[dtype_name(dtype)]')
    you.run_from(exercise, 2)
    expect(test.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
    you.wait_idle()
    you.show(test)
    message = you.error_of(test)
    assert "expected 40, got 320" in message, message
    assert "This matches a known mistake" in message and "bits" in message and "section 1" in message, message
    show_message(test)
    you.shot("message-exercise-names-the-mistake")
