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
# pip takes about 9 s even when everything is installed, on every test run. A stamp in .venv records what
# the last complete install read (the requirements, pyproject.toml, the interpreter); while none of it
# changes, there is nothing to do. Delete .venv/.setup-* to force a reinstall.
stamp=".venv/.setup-$(basename "$requirements" .txt)"
inputs=$(cat "$requirements" binder/requirements.txt pyproject.toml; .venv/bin/python -VV)
digest=$(printf '%s' "$inputs" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  exit 0
fi
rm -f "$stamp"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
echo "$digest" > "$stamp"
