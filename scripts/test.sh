#!/usr/bin/env bash
# The README's test command: set everything up on a fresh machine, then run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k tensor).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export PATH="$PWD/.venv/bin:$PATH"   # nbgrader runs `alembic` as a subprocess
.venv/bin/python -m pytest -n 2 "$@"
