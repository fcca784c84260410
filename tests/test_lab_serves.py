"""`tinytorch lab` (what scripts/lab.sh ends with) serves the student tree, lands on module 01, and
shows a learner's JupyterLab when lab.sh has written the learner settings into the tree."""
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from helpers import ROOT
from lab_server import LabServer

from tinytorch.course.lab import lab_command


@pytest.mark.slow
def test_lab_lands_on_module_01_of_the_student_tree(student_tree, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(student_tree, tree)
    # What scripts/lab.sh does after building the tree.
    subprocess.run(["bash", str(ROOT / "binder" / "jupyter-learner-config"), "--user"], check=True,
                   capture_output=True, env={**lab_command(tree)[1], "JUPYTER_CONFIG_DIR": str(tree / ".jupyter")})
    cmd, env = lab_command(tree, open_browser=False)
    assert env["JUPYTER_CONFIG_DIR"] == str(tree / ".jupyter")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    with LabServer(cmd, tree, tmp_path / "lab.log", env=env) as lab:
        landing = _redirect_of(lab.url(""))
        notebook = lab.get_json("api/contents/modules/01_tensor/tensor.ipynb")["content"]
        _, page = lab.get("lab")
    assert landing.startswith("/lab/tree/modules/01_tensor/tensor.ipynb"), landing
    source = "".join(cell["source"] for cell in notebook["cells"])
    assert "raise NotImplementedError(" in source and "BEGIN SOLUTION" not in source
    assert not re.search(r"BEGIN HIDDEN TESTS", source)
    page_config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>\s*(\{.*?\})\s*</script>', page, re.S).group(1))
    disabled = " ".join(page_config.get("disabledExtensions", []))
    assert "@jupyter/nbgrader:formgrader" in disabled and "announcements" in disabled, disabled
    assert "validate" not in disabled, "learners keep nbgrader's Validate button"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _redirect_of(url: str) -> str:
    "Where the server sends a browser that opens `url`."
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(_NoRedirect).open(url, timeout=30)
    assert answer.value.code == 302, answer.value.code
    return answer.value.headers["Location"]
