"""GuardPolicy: everything a grading kernel may see and do, in one object.

The policy is written by the worker for each kernel it starts (as JSON in the submission's
private folder) and read by the sandbox launcher (sandbox.py), which turns it into a bubblewrap
command line, and by the kernel (kernel.py), which turns it into its in-process guard. So the OS
sandbox and the second, in-process layer are configured from the same facts:

* read-only: the system (/usr), the Python interpreter and its environment, the kernel script, and
  the reference package for the notebook being graded (only the modules it depends on);
* read-write: one working folder, a /tmp and a /dev/shm of its own, each an empty tmpfs of at most
  `scratch_limit_bytes` (tmpfs pages are memory the address-space limit does not count, so an uncapped
  one would let a notebook fill the grader's RAM) and gone when the kernel ends. The kernel's ZMQ
  sockets are in that /tmp too (the worker reaches them through /proc, see sandbox.py); on the host
  the kernel can write one file only, its event log, of at most `file_size_limit_bytes`;
* nothing else: no other learner, no gradebook, no source notebook, no course tooling, no
  installed copy of tinytorch (masked inside the environment), no network, its own PIDs.
"""
import json
import os
import site
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .kernel import CONFIG_ENV

POLICY_ENV = "TINYTORCH_GRADER_POLICY"        # path of the policy JSON, set by the worker for the launcher
NOTEBOOK_ENV = "TINYTORCH_GRADED_NOTEBOOK"     # the notebook being run (picks its reference package)
# Where the sandbox shows the reference package and the kernel script (the host paths stay hidden).
REFERENCE_INSIDE = "/opt/tinytorch/reference"
KERNEL_INSIDE = "/opt/tinytorch/kernel.py"
IPC_INSIDE = "/tmp/kernel"                     # the kernel's ZMQ sockets, in its capped /tmp
SANDBOX_UID = 65534                            # nobody: owns the private folder, runs the kernel

# What the in-process layer alone cannot stop; said in the summary and every result of an unsafe run.
UNPROTECTED = [
    "the kernel runs with the grader's own user rights on the grader's file system: it can read and "
    "change other learners' submissions, the gradebook, the source notebooks and the Python environment",
    "the kernel can reach the network and signal or inspect other processes of the grading run",
]


def installed_copies(package: str = "tinytorch") -> list[str]:
    "Files and folders of the environment that would let a kernel import an installed `package`."
    found = []
    for folder in {*site.getsitepackages(), site.getusersitepackages()}:
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            lower = name.lower()
            if lower == package or (package in lower and lower.endswith((".pth", ".dist-info", ".egg-link", ".py"))):
                found.append(os.path.join(folder, name))
    return found


@dataclass
class GuardPolicy:
    private: str                           # the submission's private folder (writable; kernel's home)
    references: dict                       # {notebook: host folder holding that notebook's `tinytorch`}
    kernel_script: str                     # host path of kernel.py
    sandbox: bool = True                   # False only with --unsafe-no-sandbox
    memory_limit_bytes: int = 4096 * 2**20
    cpu_limit_seconds: int = 2400
    file_size_limit_bytes: int = 256 * 2**20
    scratch_limit_bytes: int = 256 * 2**20  # each of the sandbox's tmpfs: /tmp, /dev/shm, the working folder
    cell_timeout: int = 60
    interrupt_grace: int = 10
    output_limit_chars: int = 100_000
    # Host folders the in-process layer refuses; without the OS sandbox they are all that stands
    # between a notebook and the course: `deny` unless also allowed, `hard_deny` always.
    deny: list = field(default_factory=list)
    hard_deny: list = field(default_factory=list)
    skip: list = field(default_factory=list)  # [[sha, n, reason]]: cells that stopped the kernel on an earlier attempt
    attempt: int = 0
    matplotlib_cache: str = ""             # a font cache made once (else each kernel runs fc-list, refused)
    environment: list = field(default_factory=lambda: sorted({sys.prefix, sys.base_prefix, sys.exec_prefix}))
    masked: list = field(default_factory=installed_copies)

    # -- files -------------------------------------------------------------------------------
    @property
    def work(self) -> str:
        "The kernel's working folder."
        return os.path.join(self.private, "work")

    @property
    def events(self) -> str:
        return os.path.join(self.private, f"events.{self.attempt}.jsonl")

    @property
    def connection_file(self) -> str:
        return os.path.join(self.private, "connection.json")

    @property
    def matplotlib_dir(self) -> str:
        "The font cache made once for every kernel (read-only inside the sandbox)."
        return os.path.join(self.private, "matplotlib")

    @property
    def matplotlib_config(self) -> str:
        "MPLCONFIGDIR: matplotlib wants it writable, so inside the sandbox it is in the private /tmp."
        return "/tmp/matplotlib" if self.sandbox else self.matplotlib_dir

    @property
    def kernel_config_file(self) -> str:
        return os.path.join(self.private, "kernel-config.json")

    @property
    def ipc_prefix(self) -> str:
        """The worker's path of the kernel's ZMQ ipc sockets (`<prefix>-<port>`). With the sandbox, its folder
        is a link into the sandbox's own /tmp, where the kernel binds them (`ipc_prefix_inside`)."""
        return os.path.join(self.private, "ipc", "kernel")

    @property
    def ipc_prefix_inside(self) -> str:
        "The kernel's path of the same sockets."
        return IPC_INSIDE if self.sandbox else self.ipc_prefix

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path) -> "GuardPolicy":
        return cls(**json.loads(Path(path).read_text()))

    # -- the kernel's view -------------------------------------------------------------------------
    def reference_inside(self, notebook: str) -> str | None:
        host = self.references.get(notebook)
        if not host:
            return None
        return REFERENCE_INSIDE if self.sandbox else host

    def kernel_config(self, notebook: str) -> dict:
        "What kernel.py reads: its limits, its event log, the reference path it imports from."
        reference = self.reference_inside(notebook)
        script = KERNEL_INSIDE if self.sandbox else self.kernel_script
        return {
            "events": self.events, "skip": self.skip, "reference": reference,
            "allow": [p for p in (reference, script, self.private) if p],
            "deny": [] if self.sandbox else self.deny,
            "hard_deny": [] if self.sandbox else self.hard_deny,
            "memory_limit_bytes": self.memory_limit_bytes, "cpu_limit_seconds": self.cpu_limit_seconds,
            "file_size_limit_bytes": self.file_size_limit_bytes, "cell_timeout": self.cell_timeout,
            "interrupt_grace": self.interrupt_grace, "output_limit_chars": self.output_limit_chars,
        }

    def kernel_env(self) -> dict:
        "The kernel's whole environment: nothing of the grader's is passed on."
        path = os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"])
        home = "/tmp" if self.sandbox else self.work
        return {"PATH": path, "HOME": home, "TMPDIR": home,
                "LANG": "C.UTF-8", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
                "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "TINYTORCH_CHECKS": "grade", "TINYTORCH_NO_EXPORT": "1", "NBGRADER_EXECUTION": "autograde",
                "MPLCONFIGDIR": self.matplotlib_config, CONFIG_ENV: self.kernel_config_file}

    def bwrap_argv(self, notebook: str, kernel_argv: list[str], info_fd: int | None = None) -> list[str]:
        """The bubblewrap command that runs `kernel_argv` inside this policy's sandbox (writing, with `info_fd`,
        the sandbox's first process id to that file descriptor)."""
        argv = ["bwrap", "--die-with-parent", "--new-session",
                *(["--info-fd", str(info_fd)] if info_fd is not None else []),
                "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        as_root = os.getuid() == 0
        if not as_root:
            argv.insert(1, "--unshare-user")  # unprivileged bwrap needs a user namespace
        argv += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "lib", "lib64", "sbin"):
            host = f"/{name}"
            if os.path.islink(host):
                argv += ["--symlink", os.readlink(host), host]
            elif os.path.isdir(host):
                argv += ["--ro-bind", host, host]
        for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/ssl/certs"):
            argv += ["--ro-bind-try", path, path]
        # The scratch file systems first: what is bound below them (an environment or a private folder
        # that lives under /tmp on the host) must stay visible on top of the empty /tmp.
        scratch = ["--size", str(self.scratch_limit_bytes), "--perms", "1777", "--tmpfs"]
        argv += ["--proc", "/proc", "--dev", "/dev", *scratch, "/dev/shm", *scratch, "/tmp"]
        made = set()
        for prefix in [p for p in self.environment if not p.startswith("/usr/")] + [self.private, KERNEL_INSIDE,
                                                                                   REFERENCE_INSIDE]:
            # bubblewrap makes missing parent folders readable by root only: make them traversable
            for parent in reversed(Path(prefix).parents[:-1] if len(Path(prefix).parents) > 1 else []):
                if str(parent) not in made and str(parent) != "/":
                    made.add(str(parent))
                    argv += ["--perms", "0755", "--dir", str(parent)]
        for prefix in self.environment:
            if not prefix.startswith("/usr/"):
                argv += ["--ro-bind", prefix, prefix]
        for path in self.masked:  # an installed tinytorch (editable finder, .pth, copy): invisible
            argv += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
        # matplotlib's font cache, copied once into the private folder: read in place, written nowhere
        argv += ["--perms", "0777", "--dir", self.matplotlib_config]
        for font_cache in sorted(Path(self.matplotlib_dir).glob("fontlist*.json")):
            argv += ["--ro-bind", str(font_cache), os.path.join(self.matplotlib_config, font_cache.name)]
        reference = self.references.get(notebook)
        if reference:
            argv += ["--ro-bind", reference, REFERENCE_INSIDE]
        # The private folder is read-only inside (connection file, kernel configuration) but for the
        # event log; the working folder is one more capped tmpfs.
        argv += ["--ro-bind", self.kernel_script, KERNEL_INSIDE, "--ro-bind", self.private, self.private,
                 "--bind", self.events, self.events, *scratch, self.work, "--chdir", self.work, "--clearenv"]
        for key, value in self.kernel_env().items():
            argv += ["--setenv", key, value]
        if as_root:  # the kernel itself runs as nobody, with no capabilities, and can't regain any
            argv += ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        return argv + kernel_argv
