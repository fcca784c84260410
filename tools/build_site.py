"""Prepare the course website for Quarto: `python tools/build_site.py [OUT]` (default build/site).

The site shows the **student** version of the course: learners read it, and it is public, so
it holds no solution and no hidden test. Steps:

1. build the student tree into OUT (the course tool `tinytorch student`), and split each
   notebook's opening cell into its title and its introduction (nbdev turns the first
   Markdown cell with a `# heading` into the page title and drops the rest of that cell);
2. run nbdev's notebook processing there (tools/site_notebooks.py: what `nbdev_proc_nbs` /
   `nbdev_docs` run before Quarto): `#| export` cells become API documentation (`show_doc`),
   `#| hide` cells disappear, every nbdev directive is consumed; results land in OUT/_proc;
3. put the Quarto project next to them: `_quarto.yml` (this repository's), `nbdev.yml` (title
   and addresses, from settings.ini), `sidebar.yml` (the modules, in course order) and
   `index.md` (the README, the home page).

`quarto render OUT/_proc` then writes the site to OUT/_proc/_docs (scripts/site.sh does both).
We do not call `nbdev_proc_nbs` or `nbdev_docs` themselves: without Quarto they try to download
and install it, they run every cell that contains an import (see tools/site_notebooks.py), and
in this repository they would publish the instructor's notebooks, solutions included.
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


def process_notebooks(tree: Path) -> Path:
    "Run nbdev's docs processing (tools/site_notebooks.py) inside the tree; return the `_proc` folder."
    # The processing runs the exported cells for their docs: with the tree on PYTHONPATH, any
    # `import tinytorch` in them is the learner's package, never the instructor's.
    env = {**os.environ, "TINYTORCH_NO_EXPORT": "1", "PYTHONPATH": str(tree)}
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "site_notebooks.py")], cwd=tree, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"nbdev's notebook processing failed in {tree}:\n{proc.stdout}{proc.stderr}")
    return Path(proc.stdout.strip().splitlines()[-1])


def site_metadata(settings: dict) -> dict:
    "Title and addresses of the site, from settings.ini (what nbdev writes to nbdev.yml)."
    return {"website": {"title": settings["title"], "description": settings["description"],
                        "site-url": settings["doc_host"] + settings["doc_baseurl"],
                        "repo-url": settings["git_url"], "repo-branch": settings["branch"]}}


def module_pages(module) -> list[str]:
    "A module's notebooks as site pages: its main notebook first, then the others by name."
    others = sorted(nb for nb in module.dir.glob("*.ipynb") if nb != module.notebook)
    return [nb.relative_to(module.dir.parent).as_posix() for nb in [module.notebook, *others]]


def sidebar(tree: Path, proc: Path) -> dict:
    "The home page, then one section per module, in course order."
    sections = []
    for module in list_modules(tree):
        pages = module_pages(module)
        for page in pages:
            if not (proc / page).is_file():
                raise SystemExit(f"module {module.id} was not processed: {proc / page} is missing")
        sections.append({"section": f"{module.number} {module.name}", "contents": pages})
    return {"website": {"sidebar": {"contents": ["index.md", *sections]}}}


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
        for notebook in module.dir.glob("*.ipynb"):
            keep_introduction(notebook)
    proc = process_notebooks(tree)
    settings = _settings(tree)
    shutil.copy2(REPO / "_quarto.yml", proc / "_quarto.yml")
    (proc / "nbdev.yml").write_text(yaml.safe_dump(site_metadata(settings), sort_keys=False))
    (proc / "sidebar.yml").write_text(yaml.safe_dump(sidebar(tree, proc), sort_keys=False))
    (proc / "index.md").write_text(home_page((tree / "README.md").read_text(), settings))
    return proc


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "site"
    print(build_site_sources(target))
