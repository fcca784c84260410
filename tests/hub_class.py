"""A class on a real JupyterHub on loopback, for tests/test_hub.py: Unix users, the hub, its proxy.

Everything here is made by the test and removed again: the Unix accounts (an instructor and
learners, with random names so that nothing clashes with the machine's own), their homes, the
hub's state and exchange folders, and every process (the hub, its proxy, each user's server and
kernels). The hub runs as root, as a real one does, so that it can start each user's server as
that user; the machine must let root create users (CI runs as root).
"""
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from lab_server import free_port

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
PROXY = DEPLOY / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
START_TIMEOUT = 120


def install_proxy() -> Path:
    "configurable-http-proxy from npm, pinned by deploy/proxy/package-lock.json, into deploy/proxy/node_modules."
    if not PROXY.exists():
        assert shutil.which("npm"), "npm (Node 20) is needed for JupyterHub's configurable-http-proxy"
        subprocess.run(["npm", "ci", "--prefix", str(DEPLOY / "proxy"), "--no-audit", "--no-fund", "--loglevel=error"],
                       check=True, capture_output=True, text=True, timeout=300)
    return PROXY


def _world_usable(path: Path) -> bool:
    "Whether every user may run `path`: each folder above it traversable, the file itself executable by others."
    path = Path(os.path.realpath(path))
    return all(p.stat().st_mode & 0o001 for p in path.parents) and bool(path.stat().st_mode & 0o001)


def world_python() -> Path:
    """A Python of this version that every user may run. This one may live where only root can read (pyenv
    in /root): then its runtime (without its site-packages) is copied to /var/tmp once, with its library
    path made relative (patchelf), as a hub machine would have a system-wide Python."""
    if _world_usable(Path(sys.executable)):
        return Path(sys.executable)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    runtime = Path("/var/tmp") / f"tinytorch-hub-python-{sys.version.split()[0]}"
    python = runtime / "bin" / f"python{version}"
    if not (runtime / "ready").exists():
        shutil.rmtree(runtime, ignore_errors=True)
        shutil.copytree(sys.base_prefix, runtime, symlinks=True,
                        ignore=shutil.ignore_patterns("site-packages", "test", "__pycache__", "*.a"))
        patchelf = Path(sys.executable).parent / "patchelf"
        subprocess.run([str(patchelf), "--set-rpath", "$ORIGIN/../lib", str(python)], check=True)
        for path in [runtime, *runtime.rglob("*")]:
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | 0o005 if path.is_dir() or mode & 0o100 else mode | 0o004)
        (runtime / "ready").write_text("ok\n")
    assert _world_usable(python), python
    return python


def course_environment(published: Path) -> Path:
    """The Python environment of every user's server, as a hub machine has it: the published repository's
    binder/requirements.txt plus jupyterhub, and the published package. The venv is cached in /var/tmp by
    the hash of what it installs (a cold build takes minutes, mostly pip); the package is reinstalled."""
    python = world_python()
    pins = (published / "binder" / "requirements.txt").read_text() + "\njupyterhub==6.1.1\n"
    venv = Path("/var/tmp") / f"tinytorch-hub-env-{hashlib.sha256((str(python) + pins).encode()).hexdigest()[:12]}"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if not (venv / "ready").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
        (venv / "requirements.txt").write_text(pins)
        subprocess.run([*pip, "-r", str(venv / "requirements.txt")], check=True, capture_output=True, timeout=1200)
        (venv / "ready").write_text("ok\n")
    subprocess.run([*pip, "--no-deps", "--force-reinstall", str(published)],
                   check=True, capture_output=True, timeout=600)
    return venv


@dataclass
class UnixUser:
    name: str
    password: str
    home: Path

    def run(self, cmd, env_bin: Path, cwd=None, extra_env=None, timeout=600, check=True) -> subprocess.CompletedProcess:
        "Run `cmd` as this user (as an instructor does in a terminal), with the environment `env_bin` first on PATH."
        env = {"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name, "LANG": "C.UTF-8",
               "PATH": os.pathsep.join([str(env_bin), "/usr/local/bin", "/usr/bin", "/bin"]),
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(extra_env or {})}
        runuser = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin")
        proc = subprocess.run([runuser, "-u", self.name, "--", *map(str, cmd)], cwd=cwd or self.home, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, (f"as {self.name}: {' '.join(map(str, cmd))} -> {proc.returncode}\n"
                                          f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc


def create_user(role: str) -> UnixUser:
    name = f"tt{secrets.token_hex(3)}{role}"[:32]
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", "tinytorch hub test", name],
                   check=True, capture_output=True)
    password = secrets.token_urlsafe(12)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)
    return UnixUser(name=name, password=password, home=Path(os.path.expanduser(f"~{name}")))


def remove_user(user: UnixUser) -> None:
    "Stop what still runs as the user (by pid), then delete the account and its home."
    uid = int(subprocess.run(["id", "-u", user.name], capture_output=True, text=True).stdout.strip() or -1)
    left = [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid]
    for process in left:
        process.kill()
    psutil.wait_procs(left, timeout=10)
    subprocess.run(["userdel", "--remove", user.name], capture_output=True)


@dataclass
class Hub:
    "JupyterHub with deploy/jupyterhub_config.py for one class, on 127.0.0.1."
    instructor: UnixUser
    learners: list
    base: Path                       # state and exchange live here (removed afterwards)
    env: Path                        # the users' Python environment (course_environment)
    course_id: str = "tinytorch"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen = None
    startup_seconds: float = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def exchange(self) -> Path:
        return self.base / "exchange"

    @property
    def log_path(self) -> Path:
        return self.base / "jupyterhub.log"

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- JupyterHub log ({self.log_path}) ---\n{text[-8000:]}"

    def start(self) -> "Hub":
        # nbgrader's exchange: one folder every user can write into (nbgrader's docs: chmod ugo+rw).
        self.exchange.mkdir(parents=True)
        self.exchange.chmod(0o777)
        env = {**os.environ,
               "TINYTORCH_INSTRUCTORS": self.instructor.name,
               "TINYTORCH_LEARNERS": " ".join(u.name for u in self.learners),
               "TINYTORCH_COURSE_ID": self.course_id, "TINYTORCH_EXCHANGE": str(self.exchange),
               "TINYTORCH_HUB_STATE": str(self.base / "state"), "TINYTORCH_HUB_PORT": str(self.port),
               "TINYTORCH_HUB_API_PORT": str(free_port()), "TINYTORCH_PROXY_API_PORT": str(free_port()),
               "TINYTORCH_ENV": str(self.env), "TINYTORCH_PROXY": str(install_proxy())}
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(self.env / "bin" / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")],
                                     cwd=self.base, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        started = time.monotonic()
        while time.monotonic() < started + START_TIMEOUT:
            assert self.proc.poll() is None, f"JupyterHub exited with {self.proc.returncode}\n{self.log()}"
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=10) as answer:
                    if answer.status == 200:
                        self.startup_seconds = round(time.monotonic() - started, 1)
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"JupyterHub did not answer within {START_TIMEOUT} s\n{self.log()}")

    def stop(self) -> None:
        "SIGTERM to the hub: it stops every user's server and its proxy; whatever is left is killed."
        if self.proc is None:
            return
        started = [self.proc.pid]
        try:
            started += [p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        left = []
        for pid in started[1:]:
            try:
                left.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        for process in left:
            process.kill()
        psutil.wait_procs(left, timeout=10)


def make_base() -> Path:
    "A folder every test user can traverse (pytest's own tmp folders are private to root)."
    base = Path(tempfile.mkdtemp(prefix="tinytorch-hub-"))
    base.chmod(0o755)
    return base


def read_json(path: Path):
    return json.loads(Path(path).read_text())
