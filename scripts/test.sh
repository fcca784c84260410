#!/usr/bin/env bash
# The README's test command: set everything up on a fresh machine, lint, then run the test suite.
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --fast     the fast lane for people changing the code: everything but the Binder
#                              build, the browser tests (the JupyterHub class among them) and the corpora
#                              (marker `corpus`, pyproject.toml: whole mistake, cheating, slip and option
#                              corpora)
# Other arguments go to pytest (e.g. scripts/test.sh --fast -k tensor).
set -euo pipefail
cd "$(dirname "$0")/.."
fast=""
args=()
for arg in "$@"; do
  if [ "$arg" = "--fast" ]; then fast=1; else args+=("$arg"); fi
done
bash scripts/setup.sh --dev
sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
missing=()
# Every grading kernel runs in a bubblewrap sandbox (tinytorch/course/grading/policy.py).
command -v bwrap >/dev/null || missing+=(bubblewrap)
# Browser tests (tests/test_browser.py) drive Debian's Chromium with Playwright, which never
# downloads a browser of its own here (no `playwright install`).
if [ -z "$fast" ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  missing+=(chromium chromium-driver)
fi
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PATH="$PWD/.venv/bin:$PATH"   # nbgrader runs `alembic` as a subprocess
# Lint the whole tree (configuration, and what is left out of it, in pyproject.toml).
.venv/bin/ruff check .
# Two pytest workers already fill both cores: BLAS threads on top of them only thrash
# (a tiny matmul in a notebook kernel can take 100x longer on a busy machine).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# worksteal: a worker that runs out of tests takes half of the other's queue, so neither sits idle while
# the other finishes a long notebook (the longest tests start first: tests/conftest.py, LONGEST_FIRST).
xdist=(-n 2 --dist worksteal)
if [ -n "$fast" ]; then
  .venv/bin/python -m pytest "${xdist[@]}" -m "not binder and not browser and not corpus" ${args[@]+"${args[@]}"}
else
  .venv/bin/python -m pytest "${xdist[@]}" ${args[@]+"${args[@]}"}
fi
