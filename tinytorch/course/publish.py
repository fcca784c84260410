"""`tinytorch publish DEST`: the student tree as a git repository of its own, for learners and Binder.

The instructor repository holds the solutions, the hidden tests and the stored expected values,
so it stays private. What learners clone and what Binder builds is a second repository made
from it by this command: the student tree (released notebooks, the package exported from
them, the checking library and its learner data, `binder/`, the site config), a README for
learners whose Binder badge points at that repository, and nothing else.

Its history is its own: one commit per publish that changed something, each on top of the
last, never rewritten (a learner's `git pull` always fast-forwards) and never carrying a commit
of the instructor's. Where it is pushed to is a setting: `student_repo` / `student_branch` in
settings.ini, or `--repo-url` / `--branch`.
"""
import fnmatch
import re
import shutil
import subprocess
import tempfile
from configparser import ConfigParser
from dataclasses import dataclass
from pathlib import Path
from string import Template

from .layout import INSTRUCTOR_ONLY, STUDENT_MARKER, CourseError, list_modules
from .learner_readme import TEMPLATE as LEARNER_README
from .student import build_student_tree

# Files only the instructor may hold (docs/checks.md): in a module folder, the stores of expected
# values, the mistake catalogue and the quiz slips (layout.INSTRUCTOR_ONLY); anywhere, anything of a
# grading course folder. A published tree holding one is refused.
GRADING_ONLY = ("*.db", "submitted", "autograded", "feedback", "submitted_history", "feedback_history")
GITHUB_URL = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<repo>[A-Za-z0-9._-]+?)(\.git)?/?$")
BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
LEARNER_GITIGNORE = "__pycache__/\n*.egg-info/\n.ipynb_checkpoints/\n*.zip\n"


@dataclass(frozen=True)
class Destination:
    "Where the published repository lives on the web: what the Binder badge and settings.ini name."
    url: str      # https://github.com/OWNER/REPO
    branch: str

    @property
    def owner_repo(self) -> str:
        m = GITHUB_URL.match(self.url)
        return f"{m['owner']}/{m['repo']}"

    def binder_badge(self, first_notebook: str) -> str:
        target = f"https://mybinder.org/v2/gh/{self.owner_repo}/{self.branch}?urlpath=lab/tree/{first_notebook}"
        return f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({target})"


@dataclass(frozen=True)
class PublishResult:
    dest: Path
    commit: str         # HEAD of the published repository after this publish
    changed: bool       # False: the tree was already published as it is, no commit was made
    commits: int        # commits in the published history
    tree_bytes: int     # the files a learner gets (without .git)
    git_bytes: int      # the repository's .git folder


def destination(root, url=None, branch=None) -> Destination:
    "The published repository's address: the flags if given, else settings.ini's student_repo / student_branch."
    settings = _settings(root)
    url = url or settings.get("student_repo")
    branch = branch or settings.get("student_branch", "main")
    if not url:
        raise CourseError("where will learners find the published repository? Set student_repo in settings.ini "
                          "or pass --repo-url https://github.com/OWNER/REPO")
    if not GITHUB_URL.match(url):
        raise CourseError(f"the published repository must be a GitHub address like https://github.com/OWNER/REPO "
                          f"(Binder builds it from there), not {url!r}")
    if not BRANCH.match(branch) or ".." in branch:
        raise CourseError(f"not a usable git branch name: {branch!r}")
    return Destination(url=url.removesuffix("/").removesuffix(".git"), branch=branch)


def publish(root, dest, url=None, branch=None, message=None) -> PublishResult:
    "Build the student tree of the instructor tree `root` and commit it into the repository at `dest`."
    root, dest = Path(root).resolve(), Path(dest).resolve()
    where = destination(root, url, branch)
    if dest == root or root in dest.parents or dest in root.parents:
        raise CourseError(f"publish into a folder outside the instructor repository, not {dest}")
    new = _check_destination(dest)
    with tempfile.TemporaryDirectory(prefix="tinytorch-publish-") as work:
        tree = build_student_tree(root, Path(work) / "tree")
        _make_learner_facing(tree, root, where)
        refused = instructor_files(tree)
        if refused:
            raise CourseError("refusing to publish files only the instructor may hold: " + ", ".join(refused))
        if new:
            dest.mkdir(parents=True, exist_ok=True)
            _git(dest, "init", "--quiet", f"--initial-branch={where.branch}")
        _replace_worktree(dest, tree)
    _git(dest, "add", "--all")
    changed = _git(dest, "status", "--porcelain").strip() != ""
    if changed:
        name, email = _author(root)
        _git(dest, "-c", f"user.name={name}", "-c", f"user.email={email}", "commit", "--quiet",
             "-m", message or f"Publish the course ({', '.join(m.id for m in list_modules(dest))})")
    return PublishResult(dest=dest, commit=_git(dest, "rev-parse", "HEAD").strip(), changed=changed,
                         commits=int(_git(dest, "rev-list", "--count", "HEAD")),
                         tree_bytes=_bytes(dest, skip=".git"), git_bytes=_bytes(dest / ".git"))


def instructor_files(tree) -> list[str]:
    "Paths under `tree` that only the instructor may hold (the stores and catalogues of modules/, grading folders)."
    tree = Path(tree)

    def secret(path: Path) -> bool:
        parts = path.relative_to(tree).parts
        in_module = parts[:1] == ("modules",)
        return ".git" not in parts and (any(fnmatch.fnmatch(path.name, pat) for pat in GRADING_ONLY) or
                                        (in_module and any(fnmatch.fnmatch(path.name, pat) for pat in INSTRUCTOR_ONLY)))
    return sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if secret(p))


def _check_destination(dest: Path) -> bool:
    "True when `dest` is new (missing or empty); otherwise it must be a clean earlier publish."
    if not dest.exists() or (dest.is_dir() and not any(dest.iterdir())):
        return True
    if not (dest / ".git").is_dir() or not (dest / STUDENT_MARKER).is_file():
        raise CourseError(f"{dest} is neither empty nor a repository made by `tinytorch publish`; "
                          "choose a new folder or the clone of the published repository")
    if _git(dest, "rev-parse", "--show-toplevel").strip() != str(dest):
        raise CourseError(f"{dest} is inside another git repository, not the root of a published one")
    pending = _git(dest, "status", "--porcelain").strip()
    if pending:
        raise CourseError(f"{dest} has changes that were never committed (they would be lost); commit or "
                          f"remove them first:\n{pending}")
    return False


def _make_learner_facing(tree: Path, root: Path, where: Destination) -> None:
    "The learner's README (with the badge), settings.ini naming the published repository, a .gitignore."
    first = list_modules(tree)[0].notebook.relative_to(tree).as_posix()
    modules = "\n".join(f"| `{m.notebook.relative_to(tree).as_posix()}` | {m.id} |" for m in list_modules(tree))
    readme = Template(LEARNER_README).substitute(
        badge=where.binder_badge(first), url=where.url, repo=where.owner_repo.split("/")[1], modules=modules)
    (tree / "README.md").write_text(readme)
    settings = (tree / "settings.ini").read_text()
    settings = re.sub(r"^git_url\s*=.*$", f"git_url = {where.url}", settings, flags=re.M)
    settings = re.sub(r"^branch\s*=.*$", f"branch = {where.branch}", settings, flags=re.M)
    # The instructor's own pointers to this repository mean nothing to a learner.
    settings = re.sub(r"^student_(repo|branch)\s*=.*\n", "", settings, flags=re.M)
    (tree / "settings.ini").write_text(settings)
    (tree / ".gitignore").write_text(LEARNER_GITIGNORE)


def _replace_worktree(dest: Path, tree: Path) -> None:
    "Make dest's files exactly `tree`'s, keeping dest/.git (and so its whole history)."
    for entry in dest.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in tree.iterdir():
        shutil.move(str(entry), dest / entry.name)


def _settings(root) -> dict:
    parser = ConfigParser()
    parser.read(Path(root) / "settings.ini")
    return dict(parser["DEFAULT"])


def _author(root) -> tuple[str, str]:
    settings = _settings(root)
    return settings.get("author", "tinytorch"), settings.get("author_email", "tinytorch@example.org")


def _git(repo: Path, *args) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CourseError(f"git {' '.join(args)} failed in {repo}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def _bytes(folder: Path, skip=None) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*")
               if p.is_file() and not p.is_symlink() and (skip is None or skip not in p.relative_to(folder).parts))
