"""deploy/: the Kubernetes files lint clean and agree with each other and with the one-machine hub.

Offline, so no Helm and no cluster: yamllint, JSON and Python syntax of every embedded file, and
the cross-references a typo would break (the volume claim, the ConfigMap keys, the exchange path,
the resource limits a class needs).
"""
import json
import subprocess
import sys

import pytest
import yaml
from helpers import ROOT

K8S = ROOT / "deploy" / "k8s"
EXCHANGE_ROOT = "/srv/nbgrader/exchange"


def _documents(name):
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((K8S / "values.yaml").read_text())


@pytest.fixture(scope="module")
def exchange():
    return {d["kind"]: d for d in _documents("exchange.yaml")}


def test_yamllint_is_clean():
    proc = subprocess.run([sys.executable, "-m", "yamllint", "-f", "parsable",
                           "-c", str(K8S / ".yamllint.yaml"), str(K8S)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_user_mounts_the_shared_exchange(values, exchange):
    claim = exchange["PersistentVolumeClaim"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "every user's pod writes into the exchange"
    storage = values["singleuser"]["storage"]
    volumes = {v["name"]: v for v in storage["extraVolumes"]}
    mounts = {m["name"]: m["mountPath"] for m in storage["extraVolumeMounts"]}
    assert volumes["nbgrader-exchange"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert mounts["nbgrader-exchange"] == EXCHANGE_ROOT
    for key in ("nbgrader-config", "nbgrader-config-instructor"):
        config = exchange["ConfigMap"]["data"][key]
        compile(config, key, "exec")
        assert f'c.Exchange.root = "{EXCHANGE_ROOT}"' in config, key


def test_role_settings_come_from_the_configmap(values, exchange):
    data = exchange["ConfigMap"]["data"]
    settings = next(v for v in values["singleuser"]["storage"]["extraVolumes"] if v["name"] == "tinytorch-settings")
    assert settings["configMap"]["name"] == exchange["ConfigMap"]["metadata"]["name"]
    for item in settings["configMap"]["items"]:
        assert item["key"] in data, f"{item['key']} is not in the ConfigMap"
        if item["path"].endswith(".json"):
            json.loads(data[item["key"]])
    learner = json.loads(data["learner-page-config"])
    assert learner["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
    assert learner["disabledExtensions"]["@jupyter/nbgrader:assignment-list"] is False, \
        "learners need the Assignments tab"
    hook = values["hub"]["extraConfig"]["tinytorch-roles"]
    compile(hook, "tinytorch-roles", "exec")
    assert "/etc/tinytorch/{role}" in hook
    mount = next(m for m in values["singleuser"]["storage"]["extraVolumeMounts"] if m["name"] == "tinytorch-settings")
    assert mount["mountPath"] == "/etc/tinytorch"


def test_learners_have_limits_and_the_instructor_more_cores(values):
    single = values["singleuser"]
    assert single["cpu"]["limit"] >= single["cpu"]["guarantee"] > 0
    assert single["memory"]["limit"] and single["memory"]["guarantee"]
    instructor = next(p for p in single["profileList"] if "Instructor" in p["display_name"])
    assert instructor["kubespawner_override"]["cpu_limit"] > single["cpu"]["limit"]
    assert single["image"]["name"] and single["defaultUrl"] == "/lab"
    assert values["hub"]["config"]["Authenticator"]["admin_users"], "the instructor must be an admin"


def test_one_machine_config_writes_the_role_settings(tmp_path):
    "deploy/jupyterhub_config.py loads with JupyterHub's own config loader and writes each role's settings."
    code = ("from traitlets.config import PyFileConfigLoader\n"
            f"c = PyFileConfigLoader('jupyterhub_config.py', path={str(ROOT / 'deploy')!r}).load_config()\n"
            "import json; print(json.dumps({'auth': c.JupyterHub.authenticator_class, "
            "'allowed': sorted(c.Authenticator.allowed_users), 'admins': sorted(c.Authenticator.admin_users)}))")
    env = {"TINYTORCH_HUB_STATE": str(tmp_path / "state"), "TINYTORCH_INSTRUCTORS": "prof",
           "TINYTORCH_LEARNERS": "ana ben", "TINYTORCH_EXCHANGE": "/srv/x", "PATH": "/usr/bin:/bin"}
    out = json.loads(subprocess.run([sys.executable, "-c", code], env=env,
                                    capture_output=True, text=True, check=True).stdout)
    assert out == {"auth": "pam", "allowed": ["ana", "ben", "prof"], "admins": ["prof"]}
    learner = tmp_path / "state" / "jupyter" / "learner"
    page = json.loads((learner / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader:formgrader"]
    assert "@jupyter/nbgrader:assignment-list" not in page["disabledExtensions"]
    assert "c.Exchange.root = '/srv/x'" in (learner / "nbgrader_config.py").read_text()
    assert "~/grading" in (tmp_path / "state" / "jupyter" / "instructor" / "nbgrader_config.py").read_text()
