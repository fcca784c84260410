"""Build what Binder builds, as close as this machine allows (no Docker, no repo2docker).

Binder builds the *published student repository*, never this one. So the build first publishes
this working tree (`tinytorch publish`, into a new repository) and from then on uses nothing but
a git clone of that repository: repo2docker makes an environment for the Python version in its
binder/runtime.txt, installs its binder/requirements.txt, then runs its binder/postBuild in the
checkout. We do the same with a fresh virtual environment, and record how long each step took
and how big the result is.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch.course.publish import PublishResult, publish

REPO = Path(__file__).resolve().parents[1]


@dataclass
class BinderBuild:
    checkout: Path      # the repository after postBuild: the learner's tree
    venv: Path          # the environment built from binder/ alone
    home: Path          # $HOME of the build and of the servers started on it
    published: PublishResult  # the repository the checkout was cloned from
    seconds: dict = field(default_factory=dict)

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def env(self) -> dict:
        "The environment of the build: only the new venv's tools, none of the developer's."
        env = {k: v for k, v in os.environ.items()
               if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("JUPYTER")}
        ours = (str(REPO), str(Path(sys.prefix) / "bin"))  # the developer's venv and checkout
        system_path = [p for p in env.get("PATH", "").split(os.pathsep) if p and not p.startswith(ours)]
        env["PATH"] = os.pathsep.join([str(self.venv / "bin"), *system_path])
        env["HOME"] = str(self.home)  # no user-level Jupyter or pip config of this machine leaks in
        env["PIP_CACHE_DIR"] = pip_cache_dir()  # reuse the machine's downloads: the install stays fast
        return env

    def run(self, cmd, cwd, step=None, timeout=900) -> subprocess.CompletedProcess:
        "Run `cmd` in the build's environment; fail with its output; time it as `step`."
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=timeout)
        if step:
            self.seconds[step] = round(time.monotonic() - start, 1)
        assert proc.returncode == 0, \
            f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        return proc


def pip_cache_dir() -> str:
    out = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True)
    return out.stdout.strip() or str(Path.home() / ".cache" / "pip")


def runtime_python() -> str:
    "An interpreter of the version binder/runtime.txt asks for (e.g. 'python-3.11')."
    runtime = (REPO / "binder" / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"binder/runtime.txt should read like 'python-3.11', not {runtime!r}"
    version = match.group(1)
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    assert found, f"binder/runtime.txt asks for Python {version}; install it to build what Binder builds"
    return found


def publish_and_clone(work: Path) -> tuple[PublishResult, Path]:
    "Publish this working tree into work/published, and clone that repository (alone) into work/repo."
    published = publish(REPO, work / "published")
    subprocess.run(["git", "clone", "--quiet", str(published.dest), str(work / "repo")], check=True)
    return published, work / "repo"


def build(work: Path) -> BinderBuild:
    "Venv from the published binder/, requirements installed, postBuild run in its clone: what Binder does."
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    published, checkout = publish_and_clone(work)
    result = BinderBuild(checkout=checkout, venv=work / "venv", home=work / "home", published=published)
    result.seconds["tinytorch publish"] = round(time.monotonic() - started, 1)
    result.home.mkdir()
    result.run([runtime_python(), "-m", "venv", str(result.venv)], cwd=work, step="venv")
    result.run([str(result.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "-r", "binder/requirements.txt"], cwd=checkout, step="pip install -r binder/requirements.txt")
    result.run(["bash", "binder/postBuild"], cwd=checkout, step="binder/postBuild")
    return result


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def record(result: BinderBuild, artifacts: Path, **extra) -> dict:
    "Write the build's timings and sizes to test-artifacts/binder-build.json and return them."
    figures = {"seconds": result.seconds, "total_seconds": round(sum(result.seconds.values()), 1),
               "venv_mib": round(folder_bytes(result.venv) / 2**20, 1),
               "student_tree_mib": round(folder_bytes(result.checkout) / 2**20, 2),
               "published_files_mib": round(result.published.tree_bytes / 2**20, 2),
               "published_git_mib": round(result.published.git_bytes / 2**20, 2),
               "python": subprocess.run([str(result.python), "--version"],
                                        capture_output=True, text=True).stdout.strip(),
               **extra}
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "binder-build.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("Binder-equivalent build:", json.dumps(figures))
    return figures
