#!/usr/bin/env bash
# Installs everything the project needs from its own files: pipenv + Pipfile.lock, and
# (with --node) the pinned cdktf CLI from package-lock.json. Safe to run repeatedly.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_ROOT"

PIPENV_VERSION=2024.4.1
if ! command -v pipenv >/dev/null 2>&1; then
  echo "bootstrap: installing pipenv $PIPENV_VERSION"
  python3 -m pip install --quiet "pipenv==$PIPENV_VERSION"
fi
if [ ! -x .venv/bin/python ] || [ Pipfile.lock -nt .venv/.synced ]; then
  echo "bootstrap: pipenv sync --dev (from Pipfile.lock)"
  pipenv sync --dev
  touch .venv/.synced
fi
# The Lambda package (lambda/pyproject.toml), editable and without re-resolving anything: its
# dependencies are already pinned by Pipfile.lock. compat mode writes a plain .pth naming
# lambda/, which mypy and every interpreter follow (the default finder hook is invisible to mypy).
if [ ! -f .venv/.payment_core ] || [ lambda/pyproject.toml -nt .venv/.payment_core ] || [ .venv/.synced -nt .venv/.payment_core ]; then
  echo "bootstrap: pip install --no-deps -e lambda (payment_core)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    --config-settings editable_mode=compat -e lambda
  touch .venv/.payment_core
fi
if [ "${1:-}" = "--node" ] && { [ ! -d node_modules/cdktf-cli ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  echo "bootstrap: npm ci (cdktf-cli)"
  npm ci --no-audit --no-fund --loglevel=error
fi
