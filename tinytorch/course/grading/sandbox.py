"""Start a grading kernel inside its OS sandbox (bubblewrap), or say why that is not possible.

The grading kernelspec runs `python -m tinytorch.course.grading.sandbox -f CONNECTION_FILE`
(this launcher, outside the sandbox). The launcher reads the GuardPolicy the worker wrote for
this submission, puts the connection file and the kernel's configuration into the private
folder, and runs `bwrap ... kernel.py` until it ends. The kernel talks to nbgrader over ZMQ ipc
sockets (the sandbox has no network, not even the grader's loopback) that it binds in its own
capped /tmp; the worker reaches them through `private/ipc`, a link the launcher makes to that /tmp
as the sandbox sees it (`/proc/PID/root/tmp`), so no folder of the host is writable for the kernel.
nbgrader interrupts the kernel with a message, not a signal.
"""
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .policy import IPC_INSIDE, KERNEL_INSIDE, NOTEBOOK_ENV, POLICY_ENV, SANDBOX_UID, GuardPolicy


def make_private_folder(prefix: str = "tt-", matplotlib_cache: str = "") -> Path:
    """A new private folder for one submission, owned by the sandbox's user. It lives in the
    system's temporary folder: short paths (a ZMQ ipc socket path has at most 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    (folder / "work").mkdir()
    mpl = folder / "matplotlib"
    if matplotlib_cache and Path(matplotlib_cache).is_dir():
        shutil.copytree(matplotlib_cache, mpl)
    else:
        mpl.mkdir()
    if os.getuid() == 0:
        for path in (folder, *folder.rglob("*")):
            os.chown(path, SANDBOX_UID, SANDBOX_UID)
    return folder


def make_matplotlib_cache(folder: Path) -> str:
    "Matplotlib's font cache, built once (outside any sandbox) for every kernel to start from."
    if not any(folder.glob("fontlist*.json")):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], capture_output=True,
                       env={**os.environ, "MPLCONFIGDIR": str(folder)}, timeout=300)
    return str(folder)


def _give(path: Path) -> None:
    "Let the sandboxed kernel read a file the launcher wrote (it runs as nobody when we are root)."
    if os.getuid() == 0:
        os.chown(path, SANDBOX_UID, SANDBOX_UID)


def make_event_log(policy: GuardPolicy) -> None:
    "The event log exists before the sandbox starts: bubblewrap binds that one file writable."
    events = Path(policy.events)
    events.touch()
    _give(events)


@functools.lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    "None when bubblewrap can run a Python kernel here, else what went wrong (for the error message)."
    if sys.platform != "linux":
        return f"bubblewrap needs Linux (this is {sys.platform})"
    if shutil.which("bwrap") is None:
        return "bubblewrap (`bwrap`) is not installed (Debian: apt-get install bubblewrap)"
    private = make_private_folder("tt-probe-")
    try:
        policy = GuardPolicy(private=str(private), references={}, kernel_script=__file__)
        make_event_log(policy)
        probe = [sys.executable, "-c", "import numpy, ipykernel, os; open('probe', 'w').write('x'); print('ok')"]
        try:
            proc = subprocess.run(policy.bwrap_argv("", probe), capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"bubblewrap could not start: {e}"
        if proc.returncode != 0 or proc.stdout.strip() != "ok":
            return f"bubblewrap could not run a Python kernel (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
        return None
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _read_json(fd: int) -> dict:
    "The JSON object bubblewrap writes to its --info-fd (it may come in pieces), {} if it wrote none."
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
        try:
            return json.loads(data)
        except json.JSONDecodeError:
            continue
    return {}


def run_in_sandbox(policy: GuardPolicy, notebook: str, kernel_argv: list[str]) -> int:
    """Run the kernel in its sandbox until it ends; its exit status. Once bubblewrap says which process
    is the sandbox's first, `private/ipc` becomes a link to the sandbox's /tmp as that process sees it."""
    link = Path(policy.ipc_prefix).parent
    read_end, write_end = os.pipe()
    sandbox = subprocess.Popen(policy.bwrap_argv(notebook, kernel_argv, info_fd=write_end), pass_fds=[write_end])
    os.close(write_end)
    try:
        child = _read_json(read_end).get("child-pid")
        if child:   # else bubblewrap failed before starting anything, and said why on stderr
            link.symlink_to(f"/proc/{child}/root{os.path.dirname(IPC_INSIDE)}")
        return sandbox.wait()
    finally:
        os.close(read_end)
        if sandbox.poll() is None:
            sandbox.kill()
        link.unlink(missing_ok=True)


def main(argv) -> None:
    if len(argv) != 2 or argv[0] != "-f":
        sys.exit("usage: python -m tinytorch.course.grading.sandbox -f CONNECTION_FILE")
    policy = GuardPolicy.load(os.environ[POLICY_ENV])
    notebook = os.environ.get(NOTEBOOK_ENV, "")
    connection = Path(policy.connection_file)
    # The kernel's copy names the sockets as the kernel sees them (the worker's copy says `ipc_prefix`).
    connection.write_text(json.dumps({**json.loads(Path(argv[1]).read_text()), "ip": policy.ipc_prefix_inside}))
    _give(connection)
    config = Path(policy.kernel_config_file)
    config.write_text(json.dumps(policy.kernel_config(notebook)))
    _give(config)
    if policy.sandbox:
        make_event_log(policy)
        sys.exit(run_in_sandbox(policy, notebook, [sys.executable, KERNEL_INSIDE, "-f", str(connection)]))
    # --unsafe-no-sandbox: the same kernel and in-process guard, with the grader's own rights.
    Path(policy.ipc_prefix).parent.mkdir(exist_ok=True)
    os.chdir(policy.work)
    os.execve(sys.executable, [sys.executable, policy.kernel_script, "-f", str(connection)],
              policy.kernel_env())


if __name__ == "__main__":
    main(sys.argv[1:])
