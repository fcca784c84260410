#!/usr/bin/env bash
# The course website: prepare it (student notebooks processed by nbdev, see tools/build_site.py)
# into build/site/_proc, then render it with Quarto into _docs/ when Quarto is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
proc=$(.venv/bin/python tools/build_site.py build/site | tail -n 1)
if ! command -v quarto >/dev/null; then
  echo "Site sources are ready in $proc. Quarto is not installed here: install it (quarto.org) and run"
  echo "this command again, or render them with: quarto render $proc"
  exit 0
fi
quarto render "$proc"
rm -rf _docs && mv "$proc/_docs" _docs
echo "Site written to _docs/ (open _docs/index.html)."
