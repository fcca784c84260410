"""`tinytorch lab`: start JupyterLab on a student tree, opened at its first module.

The command *becomes* JupyterLab (`os.execvpe`): no parent process is left in between, so
whatever stops `tinytorch lab` (Ctrl+C, SIGTERM from a terminal, a process manager or a
container runtime) reaches the Jupyter server itself, which then shuts its kernels down.
"""
import os
import sys
from pathlib import Path

from .layout import CourseError, is_student_tree, list_modules


def lab_command(root, port=8888, open_browser=True, extra_args=()) -> tuple[list[str], dict]:
    "The command and environment that serve the tree at `root`, landing on module 01."
    root = Path(root).resolve()
    if not is_student_tree(root):
        raise CourseError(f"{root} is not a student tree (it would show the solutions); "
                          "build one with `tinytorch student DEST` and start the lab there")
    modules = list_modules(root)
    if not modules:
        raise CourseError(f"{root} has no modules")
    first = modules[0].notebook.relative_to(root).as_posix()
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
           f"--LabApp.default_url=/lab/tree/{first}", f"--ServerApp.port={port}"]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # Jupyter refuses root without it (containers, Binder-like machines)
    cmd.extend(extra_args)
    # Kernels and terminals inherit this: `import tinytorch` finds the learner's package first.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    if (root / ".jupyter").is_dir():  # the learner's JupyterLab settings (scripts/lab.sh writes them)
        env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter")
    return cmd, env


def start_lab(root, **kwargs):
    "Replace this process with JupyterLab serving `root` (never returns)."
    cmd, env = lab_command(root, **kwargs)
    os.chdir(Path(root).resolve())
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(cmd[0], cmd, env)
