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
if [ "${1:-}" = "--node" ] && { [ ! -d node_modules/cdktf-cli ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  echo "bootstrap: npm ci (cdktf-cli)"
  npm ci --no-audit --no-fund --loglevel=error
fi
