"""The grading kernel's OS sandbox and the grader's own preprocessors, without running nbgrader.

Each sandbox test runs a small Python program under the same bubblewrap command line a grading
kernel gets (GuardPolicy.bwrap_argv) and checks what it could see and do.
"""
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from tinytorch.course.grading import events as ev
from tinytorch.course.grading.feedback import NOTES_BOX, AutograderNotes
from tinytorch.course.grading.policy import IPC_INSIDE, REFERENCE_INSIDE, SANDBOX_UID, GuardPolicy
from tinytorch.course.grading.prepare import build_reference_copy, dependencies
from tinytorch.course.grading.preprocessors import GUARD_ENV, GuardEvents, ZeroViolations
from tinytorch.course.grading.result import GradeResult, Status
from tinytorch.course.grading.sandbox import make_event_log, make_private_folder, run_in_sandbox, sandbox_problem
from tinytorch.course.layout import CourseError, find_module

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="bubblewrap sandboxes need Linux")


@pytest.fixture
def sandboxed(tmp_path):
    "Run Python source inside a grading kernel's sandbox; returns (exit code, stdout, stderr, private folder)."
    assert sandbox_problem() is None, sandbox_problem()  # scripts/test.sh installs bubblewrap
    reference = tmp_path / "reference"
    build_reference_copy(ROOT / "tinytorch", reference, ["core.tensor"], ["core.optimizers"], "03_optimizers")
    private = make_private_folder()

    def run(source: str, **limits):
        policy = GuardPolicy(private=str(private), references={"nb": str(reference)},
                             kernel_script=str(ROOT / "tinytorch" / "course" / "grading" / "kernel.py"), **limits)
        make_event_log(policy)
        argv = policy.bwrap_argv("nb", [sys.executable, "-c", textwrap.dedent(source)])
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr, private
    yield run
    subprocess.run(["rm", "-rf", str(private)], check=False)


@linux_only
def test_the_kernel_sees_only_its_environment_reference_and_folder(sandboxed, tmp_path):
    code, out, err, private = sandboxed(f"""
        import os, sys, json
        sys.path.insert(0, {REFERENCE_INSIDE!r})
        seen = {{p: os.path.exists(p) for p in [{str(ROOT / 'modules')!r}, {str(ROOT / 'tinytorch')!r},
                                                 {str(tmp_path)!r}, "/root/.ssh", "/home", "/etc/passwd"]}}
        # the instructor tree's folder shows at most the environment inside it, never the course
        seen["tree"] = bool(set(os.listdir({str(ROOT)!r}) if os.path.isdir({str(ROOT)!r}) else []) - {{".venv"}})
        import tinytorch.core.tensor as t
        try:
            import tinytorch.core.optimizers
            withheld = "imported"
        except ImportError as e:
            withheld = str(e)
        try:
            import tinytorch.core.training
            later = "imported"
        except ImportError as e:
            later = type(e).__name__
        try:
            import tinytorch.course.grading
            tooling = "imported"
        except ImportError as e:
            tooling = type(e).__name__
        print(json.dumps({{"seen": seen, "tensor": t.__file__, "withheld": withheld, "later": later,
                          "tooling": tooling, "uid": os.getuid(), "pid": os.getpid(),
                          "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}}))
    """)
    assert code == 0, err
    facts = json.loads(out)
    assert not any(facts["seen"].values()), facts["seen"]
    assert facts["tensor"].startswith(REFERENCE_INSIDE)
    assert "module being graded" in facts["withheld"]
    assert facts["later"] == facts["tooling"] == "ModuleNotFoundError"
    if os.getuid() == 0:
        assert facts["uid"] == SANDBOX_UID
    assert max(facts["procs"]) < 10, facts["procs"]  # its own PID namespace: none of the grader's processes


@linux_only
def test_the_kernel_cannot_write_signal_or_connect_outside(sandboxed):
    import site
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        code, out, err, private = sandboxed(f"""
            import json, os, signal, socket
            results = {{}}
            for path in [{site.getsitepackages()[0] + '/planted.pth'!r}, {sys.prefix + '/planted'!r}, "/usr/planted"]:
                try:
                    open(path, "w").write("x")
                    results[path] = "written"
                except OSError as e:
                    results[path] = type(e).__name__
            try:
                os.kill({os.getpid()}, signal.SIGTERM)
                results["kill"] = "sent"
            except OSError as e:
                results["kill"] = type(e).__name__
            s = socket.socket()
            s.settimeout(3)
            results["connect"] = s.connect_ex(("127.0.0.1", {port}))
            open("mine.txt", "w").write("ok")
            results["mine"] = open("mine.txt").read()
            try:
                open(os.path.join(os.path.dirname(os.getcwd()), "planted"), "w").write("x")  # its private folder
                results["private"] = "written"
            except OSError as e:
                results["private"] = type(e).__name__
            print(json.dumps(results))
        """)
    finally:
        listener.close()
    assert code == 0, err
    results = json.loads(out)
    assert all(v in ("OSError", "PermissionError", "FileNotFoundError") for k, v in results.items()
               if k.startswith("/")), results
    assert results["kill"] in ("ProcessLookupError", "PermissionError"), results  # the test itself was not hit
    assert results["connect"] != 0, results  # the grader's loopback is not the kernel's
    assert results["mine"] == "ok"                       # its working folder is writable...
    assert not (private / "work" / "mine.txt").exists()  # ...and private to it: gone with the sandbox
    assert results["private"] in ("OSError", "PermissionError"), results  # the rest of its folder is read-only
    assert not (private / "planted").exists()
    assert not any(Path(p).exists() for p in results if p.startswith("/"))


@linux_only
def test_the_kernel_cannot_fill_the_graders_memory_or_disk(sandboxed):
    "Each scratch tmpfs is capped (tmpfs is RAM that the address-space limit does not count)."
    cap = 8 * 2**20
    code, out, err, private = sandboxed("""
        import errno, json, os
        written = {}
        for folder in ["/tmp", "/dev/shm", os.getcwd()]:
            total, chunk = 0, b"x" * 2**20
            try:
                with open(os.path.join(folder, "fill"), "wb") as f:
                    for _ in range(64):
                        f.write(chunk)
                        f.flush()
                        total += len(chunk)
            except OSError as e:
                written[folder] = [total, errno.errorcode.get(e.errno, str(e.errno))]
            else:
                written[folder] = [total, "no error"]
        print(json.dumps(written))
    """, scratch_limit_bytes=cap)
    assert code == 0, err
    written = json.loads(out)
    assert len(written) == 3, written
    for folder, (total, error) in written.items():
        assert error == "ENOSPC" and total <= cap, f"{folder}: {total} bytes written, then {error}"


@linux_only
def test_the_kernels_sockets_live_in_its_own_tmp_and_no_host_folder_is_writable():
    """The launcher's way (run_in_sandbox): the kernel binds its socket in its capped /tmp, the worker reaches
    it through private/ipc (a link into the sandbox), and nothing of the private folder but the event log is
    writable: a sockets folder on the host would let a notebook fill the disk, one capped file at a time."""
    assert sandbox_problem() is None, sandbox_problem()
    private = make_private_folder()
    policy = GuardPolicy(private=str(private), references={},
                         kernel_script=str(ROOT / "tinytorch" / "course" / "grading" / "kernel.py"))
    make_event_log(policy)
    before = sorted(p.name for p in private.iterdir())
    source = textwrap.dedent(f"""
        import json, os, socket
        tried = {{}}
        for folder in [{str(private)!r}, {os.path.dirname(policy.ipc_prefix)!r}, {policy.matplotlib_dir!r}]:
            try:
                open(os.path.join(folder, "planted"), "wb").write(b"x" * 1000)
                tried[folder] = "written"
            except OSError as e:
                tried[folder] = type(e).__name__
        server = socket.socket(socket.AF_UNIX)
        server.bind({IPC_INSIDE + "-1"!r})
        server.listen()
        connection, _ = server.accept()
        connection.sendall(json.dumps(tried).encode())
        connection.close()
    """)
    ended = {}
    kernel = threading.Thread(target=lambda: ended.setdefault("code", run_in_sandbox(
        policy, "", [sys.executable, "-c", source])))
    kernel.start()
    try:
        deadline, client = time.monotonic() + 60, socket.socket(socket.AF_UNIX)
        while True:   # as ZMQ does: retry until the link and the socket exist
            try:
                client.connect(policy.ipc_prefix + "-1")
                break
            except OSError:
                assert time.monotonic() < deadline and kernel.is_alive(), "the kernel's socket never appeared"
                time.sleep(0.05)
        tried = json.loads(client.recv(65536))
        client.close()
        kernel.join(60)
        assert ended.get("code") == 0, ended
        assert set(tried.values()) <= {"OSError", "PermissionError", "FileNotFoundError"}, tried
        assert sorted(p.name for p in private.iterdir()) == before   # the link went with the sandbox
        assert not any(private.rglob("planted"))
    finally:
        subprocess.run(["rm", "-rf", str(private)], check=False)


def test_grading_refuses_without_a_sandbox_unless_told(monkeypatch, tmp_path):
    from tinytorch.course.grading import grade as grade_module
    monkeypatch.setattr(grade_module, "sandbox_problem", lambda: "bubblewrap (`bwrap`) is not installed")
    with pytest.raises(CourseError, match="--unsafe-no-sandbox"):
        grade_module.grade(ROOT, find_module(ROOT, "01"), tmp_path / "grading",
                           grade_module.GradeOptions(progress=False))
    assert not (tmp_path / "grading").exists()  # refused before anything was prepared


# --------------------------------------------------------------------------- withholding by dependency
@pytest.mark.parametrize("module, notebook, present, absent", [
    ("01", "tensor", [], ["core.tensor", "core.autograd"]),
    ("02", "nn", ["core.tensor", "core.autograd"], ["core.nn", "core.optimizers", "core.training"]),
    ("02", "autograd", ["core.tensor"], ["core.autograd", "core.nn", "core.optimizers"]),
    # optimizers.ipynb imports tinytorch.core.fused itself (its foreach/fused paths), so that stays visible
    ("03", "optimizers", ["core.tensor", "core.fused"], ["core.optimizers", "core.training", "core.nn"]),
])
def test_reference_holds_only_what_the_notebook_depends_on(module, notebook, present, absent):
    m = find_module(ROOT, module)
    nb = nbformat.read(m.dir / f"{notebook}.ipynb", as_version=4)
    deps = dependencies(ROOT, m, nb)
    assert set(present) <= set(deps), deps
    assert not set(absent) & set(deps), deps


def test_reference_copy_has_no_course_tooling(tmp_path):
    target = build_reference_copy(ROOT / "tinytorch", tmp_path / "ref", ["core.tensor"], ["core.autograd"],
                                  "02_autograd")
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*.py"))
    assert "course/export.py" in files and "core/tensor.py" in files and "core/autograd.py" in files
    assert not [f for f in files if f.startswith("course/") and f not in ("course/__init__.py", "course/export.py")]
    assert "module being graded" in (target / "core" / "autograd.py").read_text()
    assert not (target / "core" / "optimizers.py").exists()


# --------------------------------------------------------------------------- the grader's preprocessors
def _test_cell(grade_id, outputs):
    cell = nbformat.v4.new_code_cell("pass")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id, "points": 2,
                                 "locked": True, "schema_version": 3}
    cell.outputs = [nbformat.v4.new_output(**o) for o in outputs]
    return cell


def test_forged_scores_and_violations(tmp_path, monkeypatch):
    log = tmp_path / "events.jsonl"
    log.write_text('{"event": "violation", "test": "test_b", "what": "replaced while the test ran: np.max"}\n'
                   'not json\n[1, 2]\n{"event": "cell", "key": 3}\n')
    guard = tmp_path / "guard.json"
    guard.write_text(json.dumps({"events": str(log), "notes": ["cell test_c was deleted"]}))
    monkeypatch.setenv(GUARD_ENV, str(guard))
    forged = {"output_type": "execute_result", "data": {"text/plain": "2"}, "execution_count": 1}
    nb = nbformat.v4.new_notebook(cells=[_test_cell("test_a", [forged]), _test_cell("test_b", [])])
    nb.cells[0].metadata["tinytorch"] = {"autograder_notes": ["forged by the learner"]}
    nb, _ = GuardEvents().preprocess(nb, {})
    nb, _ = ZeroViolations().preprocess(nb, {})
    notes_cell, a, b = nb.cells
    assert notes_cell.metadata["tinytorch"]["autograder_notes"][0] == "cell test_c was deleted"
    assert "tinytorch" not in a.metadata
    assert [o.output_type for o in a.outputs] == ["display_data"]  # shown, but no longer a score
    assert b.outputs[-1].output_type == "error" and b.outputs[-1].ename == "IntegrityError"
    from nbgrader.utils import determine_grade
    assert determine_grade(a)[0] == 2 and determine_grade(b)[0] == 0


def test_event_log_junk_is_ignored(tmp_path):
    log = tmp_path / "e.jsonl"
    log.write_text('{"event": "cell", "key": "abc:1", "test": "t", "reason": "forged"}\n' + "[" * 100_000 + "\n")
    key, reason, note = ev.cell_that_stopped(ev.read_events(log))
    assert key == "abc:1" and reason == ev.KILLED and "test cell t" in note


def test_feedback_sanitizes_what_the_learner_wrote():
    from tinytorch.course.grading.feedback import SanitizeLearnerHTML
    markdown = nbformat.v4.new_markdown_cell('<script>x()</script><a href="javascript:y()">z</a><b>ok</b>')
    code = nbformat.v4.new_code_cell("")
    code.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<img src=q onerror=\"w()\"><i>fine</i>", "application/javascript": "v()", "text/plain": "p"})]
    nb, _ = SanitizeLearnerHTML()(nbformat.v4.new_notebook(cells=[markdown, code]), {})  # as nbconvert calls it
    assert "<script>" not in nb.cells[0].source and "javascript:" not in nb.cells[0].source
    assert "<b>ok</b>" in nb.cells[0].source
    data = nb.cells[1].outputs[0].data
    assert "<img" not in data["text/html"] and "&lt;img" in data["text/html"]  # shown as text, never run
    assert "application/javascript" not in data and data["text/plain"] == "p"


def test_notes_box_is_the_autograders_alone():
    cell = nbformat.v4.new_markdown_cell("x")
    cell.metadata["tinytorch"] = {"autograder_notes": ["<script>alert(1)</script> scores 0"]}
    cell, _ = AutograderNotes().preprocess_cell(cell, {}, 0)
    assert cell.source.startswith(NOTES_BOX.split("{items}")[0])
    assert "<script>" not in cell.source and "&lt;script&gt;" in cell.source


def test_grade_result_round_trip():
    result = GradeResult("ana", Status.GRADED, cells={"tensor": {"t": 1.0}}, notes=["n"], unprotected=["x"])
    again = GradeResult.from_json(json.loads(json.dumps(result.to_json())))
    assert again == result and again.status is Status.GRADED and again.total() == 1.0


@pytest.mark.slow
@pytest.mark.corpus
def test_unsafe_no_sandbox_says_what_is_not_protected(tmp_path):
    from tinytorch.course.grading.grade import GradeOptions, grade
    from tinytorch.course.grading.report import summary
    from tinytorch.course.notebooks import fill_solutions
    from tinytorch.course.release import release
    module = find_module(ROOT, "01")
    course = tmp_path / "grading"
    released = nbformat.read(release(ROOT, "01", course)[0] / "tensor.ipynb", as_version=4)
    folder = course / "submitted" / "ana" / module.id
    folder.mkdir(parents=True)
    nbformat.write(fill_solutions(released, nbformat.read(module.notebook, as_version=4)), folder / "tensor.ipynb")
    run = grade(ROOT, module, course, GradeOptions(workers=1, cell_timeout=20, progress=False, unsafe_no_sandbox=True),
                out=lambda *a: None)
    result = run.results["ana"]
    assert result.status is Status.GRADED and result.total() == 16
    assert result.unprotected and "other learners" in result.unprotected[0]
    assert any("WITHOUT the OS sandbox" in note for note in result.notes)
    assert "WITHOUT the OS sandbox" in (course / "feedback" / "ana" / module.id / "tensor.html").read_text()
    assert "graded without the OS sandbox" in summary(run.assignment)
