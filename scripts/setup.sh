#!/usr/bin/env bash
# Create .venv with what the course needs and install the package (editable) into it.
#   scripts/setup.sh          the learner's environment (binder/requirements.txt)
#   scripts/setup.sh --dev    plus the test tools and PyTorch (requirements-dev.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
requirements=binder/requirements.txt
[ "${1:-}" = "--dev" ] && requirements=requirements-dev.txt

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
