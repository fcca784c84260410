#!/usr/bin/env bash
# The README's test command: set everything up on a fresh machine, then run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k tensor).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
# Browser tests (tests/test_browser.py) drive Debian's Chromium with Playwright, which never
# downloads a browser of its own here (no `playwright install`). Install it once when missing.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export PATH="$PWD/.venv/bin:$PATH"   # nbgrader runs `alembic` as a subprocess
# Two pytest workers already fill both cores: BLAS threads on top of them only thrash
# (a tiny matmul in a notebook kernel can take 100x longer on a busy machine).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
.venv/bin/python -m pytest -n 2 "$@"
