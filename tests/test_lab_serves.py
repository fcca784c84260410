"`tinytorch lab` (what scripts/lab.sh ends with) serves the student tree and lands on module 01."
import json
import re
import socket
import subprocess
import time
import urllib.request

import pytest

from tinytorch.course.lab import lab_command


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.slow
def test_lab_lands_on_module_01_of_the_student_tree(student_tree, tmp_path):
    port = _free_port()
    cmd, env = lab_command(student_tree, port=port, open_browser=False,
                           extra_args=["--IdentityProvider.token=testtoken", "--ServerApp.ip=127.0.0.1"])
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(cmd, env=env, cwd=student_tree, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token=testtoken", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(f"{base}/?token=testtoken", timeout=10)
        assert redirect.value.code == 302
        assert redirect.value.headers["Location"].startswith("/lab/tree/modules/01_tensor/tensor.ipynb")
        with urllib.request.urlopen(f"{base}/api/contents/modules/01_tensor/tensor.ipynb?token=testtoken") as r:
            notebook = json.load(r)["content"]
        source = "".join(cell["source"] for cell in notebook["cells"])
        assert "raise NotImplementedError()" in source and "BEGIN SOLUTION" not in source
        assert not re.search(r"BEGIN HIDDEN TESTS", source)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
