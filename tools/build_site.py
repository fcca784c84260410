"""Prepare the course website for Quarto: `python tools/build_site.py [OUT]` (default build/site).

The site shows the **student** version of the course: learners read it, and it is public, so
it holds no solution and no hidden test. Steps:

1. build the student tree into OUT (the course tool `tinytorch student`), and split each
   notebook's opening cell into its title and its introduction (nbdev turns the first
   Markdown cell with a `# heading` into the page title and drops the rest of that cell);
2. run nbdev's notebook processing there (what `nbdev_proc_nbs` / `nbdev_docs` run before
   Quarto): `#| export` cells become API documentation (`show_doc`), `#| hide` cells
   disappear, every nbdev directive is consumed; the processed notebooks land in OUT/_proc;
3. put the Quarto project next to them: `_quarto.yml` (this repository's), `nbdev.yml` (title
   and addresses, from settings.ini), `sidebar.yml` (the modules, in course order) and
   `index.md` (the README, the home page).

`quarto render OUT/_proc` then writes the site to OUT/_proc/_docs (scripts/site.sh does both).
We do not call `nbdev_proc_nbs` itself: without Quarto it tries to download and install it, and
it would publish the instructor's notebooks, solutions included.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tinytorch.course.layout import list_modules  # noqa: E402
from tinytorch.course.student import build_student_tree  # noqa: E402

# nbdev's processing, run inside the student tree: it reads settings.ini from the working folder.
_PROCESS = "from nbdev.serve import proc_nbs; proc_nbs(force=True)"


def _settings(tree: Path) -> dict:
    parser = ConfigParser()
    parser.read(tree / "settings.ini")
    return dict(parser["DEFAULT"])


def keep_introduction(notebook: Path) -> None:
    "Split the first Markdown cell into `# Title` and the rest, so nbdev keeps the rest as text."
    nb = json.loads(notebook.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        title = re.search(r"^#\s+\S.*$", source, re.M)
        rest = (source[:title.start()] + source[title.end():]).strip() if title else ""
        if rest:
            intro = {**cell, "id": f"{cell.get('id', i)}-intro", "source": rest}
            nb["cells"][i:i + 1] = [{**cell, "source": title.group(0)}, intro]
            notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        return


def without_export_output(proc: Path) -> None:
    "nbdev runs each module's closing export cell; its message ('nothing exported') is no part of the page."
    for notebook in proc.rglob("*.ipynb"):
        nb = json.loads(notebook.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and "export_from_notebook(" in "".join(cell.get("source", "")):
                cell["outputs"] = []
        notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def process_notebooks(tree: Path) -> Path:
    "Run nbdev's docs processors over the tree's notebooks; return the `_proc` folder."
    # Processing executes the exported cells (for their docs). The package it imports is the
    # learner's (PYTHONPATH), and the notebooks' export cell must not rewrite it.
    env = {**os.environ, "TINYTORCH_NO_EXPORT": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", _PROCESS], cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"nbdev's notebook processing failed in {tree}:\n{proc.stdout}{proc.stderr}")
    return tree / "_proc"


def site_metadata(settings: dict) -> dict:
    "Title and addresses of the site, from settings.ini (what nbdev writes to nbdev.yml)."
    return {"website": {"title": settings["title"], "description": settings["description"],
                        "site-url": settings["doc_host"] + settings["doc_baseurl"],
                        "repo-url": settings["git_url"], "repo-branch": settings["branch"]}}


def sidebar(tree: Path, proc: Path) -> dict:
    "The home page, then every module's notebook in course order."
    pages = []
    for module in list_modules(tree):
        page = module.notebook.relative_to(tree / "modules").as_posix()
        if not (proc / page).is_file():
            raise SystemExit(f"module {module.id} was not processed: {proc / page} is missing")
        pages.append(page)
    return {"website": {"sidebar": {"contents": ["index.md", {"section": "Modules", "contents": pages}]}}}


def home_page(readme: str, settings: dict) -> str:
    """The README as the site's home page: its title as front matter, links to repository files
    (which are not pages of the site) pointed at the repository."""
    lines = readme.splitlines()
    title = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("# ") else settings["title"]
    body = "\n".join(lines[1:] if lines and lines[0].startswith("# ") else lines)
    repo_files = f"{settings['git_url'].rstrip('/')}/blob/{settings['branch']}/"
    body = re.sub(r"\]\((?!https?://|#|mailto:)([^)\s]+)\)", lambda m: f"]({repo_files}{m.group(1)})", body)
    return f"---\ntitle: {yaml.safe_dump(title).strip().removesuffix('...').strip()}\n---\n{body}\n"


def build_site_sources(out: Path) -> Path:
    "Everything Quarto needs, in OUT/_proc. Returns that folder."
    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    tree = build_student_tree(REPO, out)
    for module in list_modules(tree):
        keep_introduction(module.notebook)
    proc = process_notebooks(tree)
    without_export_output(proc)
    settings = _settings(tree)
    shutil.copy2(REPO / "_quarto.yml", proc / "_quarto.yml")
    (proc / "nbdev.yml").write_text(yaml.safe_dump(site_metadata(settings), sort_keys=False))
    (proc / "sidebar.yml").write_text(yaml.safe_dump(sidebar(tree, proc), sort_keys=False))
    (proc / "index.md").write_text(home_page((tree / "README.md").read_text(), settings))
    return proc


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "site"
    print(build_site_sources(target))
