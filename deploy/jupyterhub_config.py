"""JupyterHub for one tinytorch class on one machine: `jupyterhub -f deploy/jupyterhub_config.py`.

Who is who: every user is a local Unix account; the hub (run as root, so that it can start each
user's server as that user) lets in only the class list below. Instructors get nbgrader's
formgrader; learners get the learner's JupyterLab of Binder (no instructor tools, no news pop-up,
nbgrader's Validate) plus the Assignments tab, which fetches, submits and fetches feedback
through nbgrader's exchange, a folder every user can write into (nbgrader's documented setup:
`mkdir -p /srv/nbgrader/exchange && chmod ugo+rw /srv/nbgrader/exchange`).

Everything is set from the environment, so the same file serves the test (tests/test_hub.py)
and a real class:

| variable | meaning | default |
| --- | --- | --- |
| TINYTORCH_INSTRUCTORS | instructors' user names (spaces between) | instructor |
| TINYTORCH_LEARNERS | learners' user names | (none) |
| TINYTORCH_COURSE_ID | nbgrader course id | tinytorch |
| TINYTORCH_EXCHANGE | nbgrader's exchange (c.Exchange.root) | /srv/nbgrader/exchange |
| TINYTORCH_HUB_STATE | the hub's own files (database, cookie secret, Jupyter settings per role) | /srv/tinytorch-hub |
| TINYTORCH_HUB_IP / TINYTORCH_HUB_PORT | where the hub listens | 127.0.0.1 / 8000 |
| TINYTORCH_HUB_API_PORT / TINYTORCH_PROXY_API_PORT | the hub's and the proxy's APIs (127.0.0.1) | 8081 / 8001 |
| TINYTORCH_HUB_AUTH | `pam` (the machine's passwords) or `dummy` (one shared password, tests only) | pam |
| TINYTORCH_HUB_PASSWORD | the shared password of `dummy` | (required with dummy) |
| TINYTORCH_ENV | the users' servers' Python (the published repository installed, + jupyterhub) | this hub's |
| TINYTORCH_PROXY | configurable-http-proxy (`npm ci --prefix deploy/proxy`) | deploy/proxy/node_modules/.bin/... |

For a real class put the hub behind TLS and use your institution's login: PAM (the default here)
for machine accounts, or an OAuthenticator / LTI authenticator with `c.LocalAuthenticator.create_system_users`
(see deploy/README.md). `dummy` lets anyone who knows one password in and is for tests only.
"""
import json
import os
import pwd
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
INSTRUCTORS = set(os.environ.get("TINYTORCH_INSTRUCTORS", "instructor").split())
LEARNERS = set(os.environ.get("TINYTORCH_LEARNERS", "").split())
COURSE_ID = os.environ.get("TINYTORCH_COURSE_ID", "tinytorch")
EXCHANGE = Path(os.environ.get("TINYTORCH_EXCHANGE", "/srv/nbgrader/exchange"))
STATE = Path(os.environ.get("TINYTORCH_HUB_STATE", "/srv/tinytorch-hub"))
USER_ENV_BIN = Path(os.environ.get("TINYTORCH_ENV", sys.prefix)) / "bin"
PROXY = os.environ.get("TINYTORCH_PROXY", str(HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"))

# JupyterLab plugins: what Binder hides from a learner (binder/jupyter-learner-config), except the
# assignment and course lists, which are the point of a hub with an exchange.
LEARNER_HIDDEN = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                  "@jupyterlab/apputils-extension:announcements"]
INSTRUCTOR_HIDDEN = ["@jupyterlab/apputils-extension:announcements"]

# --- the hub ---------------------------------------------------------------------------------
STATE.mkdir(parents=True, exist_ok=True)
c.JupyterHub.ip = os.environ.get("TINYTORCH_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("TINYTORCH_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("TINYTORCH_HUB_API_PORT", "8081"))  # the hub's own API, behind the proxy
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('TINYTORCH_PROXY_API_PORT', '8001')}"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [PROXY]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server

# --- who may log in ----------------------------------------------------------------------------
if os.environ.get("TINYTORCH_HUB_AUTH", "pam") == "dummy":
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ["TINYTORCH_HUB_PASSWORD"]
else:
    c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = INSTRUCTORS | LEARNERS
c.Authenticator.admin_users = INSTRUCTORS

# --- each user's server: the course environment, settings by role -------------------------------
c.JupyterHub.spawner_class = "localprocess"  # each user's server runs as that Unix user, in their home
c.Spawner.cmd = [str(USER_ENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120  # a cold JupyterLab on a busy machine
c.Spawner.http_timeout = 120
# Exported as MEM_LIMIT (shown, not enforced, by local processes).
c.Spawner.mem_limit = os.environ.get("TINYTORCH_MEM_LIMIT", "2G")


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def write_role_settings(role: str, hidden_plugins, server_extensions_off, nbgrader_lines) -> Path:
    """One Jupyter configuration folder per role (JUPYTER_CONFIG_DIR of its users' servers): the page's
    plugins switched off and locked, server extensions switched off, nbgrader's exchange settings."""
    folder = STATE / "jupyter" / role
    _write_json(folder / "labconfig" / "page_config.json",
                {"disabledExtensions": {p: True for p in hidden_plugins},
                 "lockedExtensions": {p: True for p in hidden_plugins}})
    _write_json(folder / "jupyter_server_config.json",
                {"ServerApp": {"jpserver_extensions": {e: False for e in server_extensions_off}}})
    (folder / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + "\n".join(nbgrader_lines) + "\n")
    # jupyter_core would otherwise try to write this marker into the (read-only) folder once ~/.ipython exists.
    (folder / "migrated").write_text("tinytorch: nothing to migrate\n")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # read by every user's server
    return folder


exchange_lines = [f"c.CourseDirectory.course_id = {COURSE_ID!r}", f"c.Exchange.root = {str(EXCHANGE)!r}"]
ROLE_SETTINGS = {
    "learner": write_role_settings("learner", LEARNER_HIDDEN, ["nbgrader.server_extensions.formgrader"],
                                   exchange_lines),
    "instructor": write_role_settings("instructor", INSTRUCTOR_HIDDEN, [], exchange_lines + [
        # The instructor's grading folder (what `tinytorch release/collect/grade --course-dir ~/grading` use),
        # shown by the formgrader.
        "import os",
        "c.CourseDirectory.root = os.path.expanduser('~/grading')",
    ]),
}


def role_environment(spawner):
    "Give each server its role's Jupyter settings and the course environment's tools first on PATH."
    role = "instructor" if spawner.user.name in INSTRUCTORS else "learner"
    home = Path(pwd.getpwnam(spawner.user.name).pw_dir)
    spawner.environment.update({
        "JUPYTER_CONFIG_DIR": str(ROLE_SETTINGS[role]),
        # The role's folder is shared and read-only: JupyterLab keeps each user's layout and settings at home.
        "JUPYTERLAB_WORKSPACES_DIR": str(home / ".jupyter" / "lab" / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / ".jupyter" / "lab" / "user-settings"),
        "PATH": os.pathsep.join([str(USER_ENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
        "TINYTORCH_ROLE": role,
        # Two cores are shared by a whole class: BLAS threads per kernel only thrash.
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })


c.Spawner.pre_spawn_hook = role_environment
