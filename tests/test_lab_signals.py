"""`tinytorch lab` becomes the Jupyter server: SIGTERM to the command stops the server and its kernels.

With a child process in between (as `subprocess.call` had it), SIGTERM killed only the parent and
left the server and every kernel running, still holding the port.
"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from lab_server import free_port


def _get(port, token, path, method="GET", body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{path}", method=method, data=body,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


@pytest.mark.slow
def test_sigterm_to_tinytorch_lab_stops_the_server_and_its_kernels(student_tree, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(student_tree, tree)
    port, token = free_port(), secrets.token_hex(16)
    # `tinytorch lab` takes its Jupyter settings from the tree's .jupyter (as scripts/lab.sh leaves it).
    (tree / ".jupyter").mkdir()
    (tree / ".jupyter" / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"ip": "127.0.0.1", "port_retries": 0, "allow_root": True},
         "IdentityProvider": {"token": token}}))
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "HOME": str(tmp_path)}
    log = open(tmp_path / "lab.log", "w")
    lab = subprocess.Popen([sys.executable, "-m", "tinytorch.course.cli", "--root", str(tree), "lab", "--no-browser",
                            "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    started = []
    try:
        deadline = time.monotonic() + 90
        while True:
            assert lab.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                _get(port, token, "api/status")
                break
            except OSError:
                assert time.monotonic() < deadline, \
                    "tinytorch lab did not serve within 90 s\n" + (tmp_path / "lab.log").read_text()
                time.sleep(0.5)
        kernel = _get(port, token, "api/kernels", method="POST", body=b"{}")
        server = psutil.Process(lab.pid)
        # The command became the server: the process we started is JupyterLab itself.
        assert "jupyter" in " ".join(server.cmdline()) and "tinytorch.course.cli" not in " ".join(server.cmdline())
        deadline = time.monotonic() + 60
        while not server.children(recursive=True):
            assert time.monotonic() < deadline, f"no kernel process for {kernel}"
            time.sleep(0.2)
        started += server.children(recursive=True)

        lab.send_signal(signal.SIGTERM)  # to the command only, not its process group
        lab.wait(timeout=30)
        gone, alive = psutil.wait_procs(started, timeout=30)
        assert not alive, f"still running after SIGTERM: {[p.cmdline() for p in alive]}"
        with pytest.raises(OSError):
            _get(port, token, "api/status")
    finally:
        for process in [p for p in started if p.is_running()]:
            process.kill()  # only when the test failed: leave nothing behind
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGKILL)
        log.close()
    assert "Shutting down" in Path(tmp_path / "lab.log").read_text()
