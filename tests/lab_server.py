"""Start a JupyterLab server for a test and stop it again (used by the Binder and browser tests).

The server listens on a free localhost port and requires a random token, runs in its own
process group (so stopping it also stops its kernels) and writes its log to a file, which a
failing test shows.
"""
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

START_TIMEOUT = 90  # seconds; a cold JupyterLab on a busy 2-core machine takes ~10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    "A JupyterLab server started with `lab_cmd` (the command up to and including `jupyter lab`)."

    def __init__(self, lab_cmd, root, log_path, env=None, extra_args=()):
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.root = Path(root)
        self.log_path = Path(log_path)
        # The port is ours (a free one); every other option the caller gave (e.g. `tinytorch lab`'s) is kept.
        cmd = [arg for arg in lab_cmd if not arg.startswith(("--ServerApp.port=", "--port="))]
        ours = ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}", *extra_args]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            ours.append("--allow-root")  # this machine runs as root; Binder runs as a normal user
        self.cmd = cmd + [arg for arg in ours if arg.split("=")[0] not in {a.split("=")[0] for a in cmd}]
        self.env = env if env is not None else dict(os.environ)
        self.proc = None
        self.startup_seconds = None  # how long the server took to answer

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        "The URL of `path` (e.g. 'lab/tree/x.ipynb'), carrying the token so a browser is logged in."
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def get(self, path: str, method="GET"):
        "GET (or `method`) `path` with the token; returns (status, body text)."
        request = urllib.request.Request(f"{self.base_url}/{path.lstrip('/')}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def get_json(self, path: str):
        status, body = self.get(path)
        assert status == 200, f"GET {path} answered {status}: {body[:500]}\n{self.log()}"
        return json.loads(body)

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- JupyterLab log ({self.log_path}) ---\n{text[-6000:]}"

    def start(self) -> "LabServer":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        started = time.monotonic()
        deadline = started + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"JupyterLab exited with {self.proc.returncode} before serving\n{self.log()}")
            try:
                if self.get("api/status")[0] == 200:
                    self.startup_seconds = round(time.monotonic() - started, 1)
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.stop()
        raise AssertionError(f"JupyterLab did not answer within {START_TIMEOUT} s\n{self.log()}")

    def stop(self):
        "Stop the server and everything it started (kernels, terminals): its whole process group."
        if self.proc is None or self.proc.poll() is not None:
            return
        # Kernels run in sessions of their own: ask the server to shut them down first.
        try:
            for kernel in json.loads(self.get("api/kernels")[1]):
                self.get(f"api/kernels/{kernel['id']}", method="DELETE")
        except (OSError, ValueError, KeyError):
            pass  # the server is already going; the signal below still stops it
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
