"""The course website, up to the render: Quarto is not installed here, so we check everything it
reads (tools/build_site.py output) and leave `quarto render` to scripts/site.sh where it exists.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import module_notebooks
from leak_scan import course_secrets, find_leaks

from tinytorch.course.layout import list_modules

REPO = Path(__file__).resolve().parents[1]
# nbdev's directives (`#| export`, `#| hide`, `#| default_exp core.x`) have no colon after the
# name; Quarto's cell options (`#| echo: false`, which nbdev adds to its show_doc cells) do.
QUARTO_OPTION = re.compile(r"^#\|\s*[\w-]+:\s")


def _merged_config(proc: Path) -> dict:
    "The Quarto configuration as Quarto sees it: _quarto.yml plus its metadata files."
    config = yaml.safe_load((proc / "_quarto.yml").read_text())
    for name in config.get("metadata-files", []):
        extra = yaml.safe_load((proc / name).read_text())
        config.setdefault("website", {}).update(extra.get("website", {}))
    return config


def test_quarto_yml_describes_a_website_with_math():
    config = yaml.safe_load((REPO / "_quarto.yml").read_text())
    assert config["project"]["type"] == "website"
    assert config["format"]["html"]["html-math-method"] in ("katex", "mathjax")
    assert {"nbdev.yml", "sidebar.yml"} <= set(config["metadata-files"])
    assert config["website"]["navbar"]["search"] is True


def test_readme_names_the_site_command():
    assert "bash scripts/site.sh" in (REPO / "README.md").read_text()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "build_site.py"), str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / "_proc"


@pytest.mark.slow
def test_site_lists_every_module_in_course_order(site):
    config = _merged_config(site)
    home, *sections = config["website"]["sidebar"]["contents"]
    assert home == "index.md"
    # Module by module; inside a module its main notebook (modules/NN_name/name.ipynb) first.
    expected = [[m.notebook, *sorted(set(m.dir.glob("*.ipynb")) - {m.notebook})] for m in list_modules(REPO)]
    expected = [[nb.relative_to(REPO / "modules").as_posix() for nb in module] for module in expected]
    assert [section["contents"] for section in sections] == expected
    for page in [home, *sum(expected, [])]:
        assert (site / page).is_file(), f"the sidebar links {page}, which is not in {site}"
    assert config["website"]["repo-url"].endswith("github.com/tinytorch/tinytorch")


@pytest.mark.slow
def test_home_page_is_the_readme(site):
    page = (site / "index.md").read_text()
    front, body = re.match(r"---\n(.*?)\n---\n(.*)", page, re.S).groups()
    readme = (REPO / "README.md").read_text()
    assert yaml.safe_load(front)["title"] == readme.splitlines()[0].lstrip("# ")
    assert "mybinder.org/v2/gh/" in body
    for heading in re.findall(r"^##+ .*$", readme, re.M):
        assert heading in body, f"the home page lost the README's section {heading!r}"
    assert "](CONTRIBUTING.md)" not in body, "links to repository files must point at the repository"


@pytest.mark.slow
def test_processed_notebooks_have_no_nbdev_directives_and_keep_their_text(site):
    for _, notebook in module_notebooks():
        processed = site / notebook.relative_to(REPO / "modules")
        nb = json.loads(processed.read_text())
        front = "".join(nb["cells"][0]["source"])
        assert nb["cells"][0]["cell_type"] == "raw" and "title:" in front, "nbdev gave the page no title"
        leftovers = [line for cell in nb["cells"] if cell["cell_type"] == "code"
                     for line in "".join(cell.get("source", "")).splitlines()
                     if line.startswith("#|") and not QUARTO_OPTION.match(line)]
        assert not leftovers, f"{processed}: nbdev directives left for Quarto: {leftovers}"
        # Every paragraph of the learner's notebook is on the page, the introduction included.
        source_text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                for paragraph in "".join(cell["source"]).split("\n\n"):
                    if not re.fullmatch(r"#\s+.*", paragraph.strip()):  # the title is in the front matter
                        assert paragraph.strip() in source_text, f"{processed} lost: {paragraph[:80]!r}"
        # Exported code is documented (nbdev's show_doc), not dropped.
        docs = [c for c in nb["cells"] if "show_doc(" in "".join(c.get("source", ""))]
        assert docs and all(c.get("outputs") for c in docs), f"{processed}: no API documentation was produced"


@pytest.mark.slow
def test_site_holds_no_solution_and_no_hidden_test(site):
    secrets = course_secrets()
    leaks = find_leaks(site, secrets)
    assert not leaks, "solution or hidden-test code on the course site:\n" + "\n".join(leaks[:30])
