#!/usr/bin/env bash
# The README's lab command: set everything up, build the student tree (once) and start
# JupyterLab on it, opened at module 01. Extra arguments go to `tinytorch lab` (--port, --no-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
if [ -d student ]; then
  echo "Using your existing student tree in ./student (your work is kept)."
  echo "To start over, move it away and run this command again."
else
  .venv/bin/tinytorch student student
fi
# The learner's JupyterLab, as on Binder: no instructor tools or news pop-up in the page. The
# settings go into the tree's own Jupyter config folder, which `tinytorch lab` uses.
JUPYTER_CONFIG_DIR="$PWD/student/.jupyter" bash binder/jupyter-learner-config --user >/dev/null
exec .venv/bin/tinytorch --root student lab "$@"
