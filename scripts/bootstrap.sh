#!/usr/bin/env bash
# Installs everything the project needs from its own files: Pipfile.lock (exported by pipenv,
# installed by uv) and (with --node) the pinned cdktf CLI from package-lock.json. Safe to run
# repeatedly.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_ROOT"

PIPENV_VERSION=2024.4.1
UV_VERSION=0.9.5
if ! command -v pipenv >/dev/null 2>&1; then
  echo "bootstrap: installing pipenv $PIPENV_VERSION"
  python3 -m pip install --quiet "pipenv==$PIPENV_VERSION"
fi
# pipenv owns the lock; uv installs it. `pipenv sync` took 74 s of a fresh clone's `make test`
# (one pip resolve and install per package set); uv installs the same pins, each checked against
# the lock's sha256 (--require-hashes refuses any requirement without one), in ~5-15 s.
# Run as a module: pip puts no pyenv shim for its binary on PATH until a rehash.
UV=(python3 -m uv)
if [ "$("${UV[@]}" --version 2>/dev/null)" != "uv $UV_VERSION" ]; then
  echo "bootstrap: installing uv $UV_VERSION"
  python3 -m pip install --quiet "uv==$UV_VERSION"
fi
if [ ! -x .venv/bin/python ] || [ Pipfile.lock -nt .venv/.synced ]; then
  echo "bootstrap: uv pip sync --compile-bytecode --require-hashes (Pipfile.lock's pins, dev included)"
  mkdir -p build
  pipenv requirements --dev --hash >build/requirements.lock.txt
  # The interpreter pipenv would pick (Pipfile: python_version 3.11); --seed keeps pip in the venv
  # (lib/layer.py and the runtime SDK build run `python -m pip`).
  [ -x .venv/bin/python ] || "${UV[@]}" venv --quiet --seed --python "$(python3.11 -c 'import sys; print(sys.executable)')" .venv
  # --compile-bytecode: without it nothing in .venv has bytecode, and where PYTHONDONTWRITEBYTECODE
  # is set (this machine's environment sets it) every process compiles what it imports, every
  # time: a synth spent 42 of its 69 CPU seconds compiling the AWS provider bindings (213 MB of
  # source), and every emulator and test worker recompiled moto and botocore. Compiling once at
  # install costs ~60 CPU seconds (both cores).
  "${UV[@]}" pip sync --quiet --compile-bytecode --require-hashes --python .venv/bin/python build/requirements.lock.txt
  touch .venv/.synced
fi
# The Lambda package (lambda/pyproject.toml), editable and without re-resolving anything: its
# dependencies are already pinned by Pipfile.lock. compat mode writes a plain .pth naming
# lambda/, which mypy and every interpreter follow (the default finder hook is invisible to mypy).
if [ ! -f .venv/.payment_core ] || [ lambda/pyproject.toml -nt .venv/.payment_core ] || [ .venv/.synced -nt .venv/.payment_core ]; then
  echo "bootstrap: uv pip install --no-deps -e lambda (payment_core)"
  "${UV[@]}" pip install --quiet --python .venv/bin/python --no-deps --config-settings editable_mode=compat -e lambda
  touch .venv/.payment_core
fi
if [ "${1:-}" = "--node" ] && { [ ! -d node_modules/cdktf-cli ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  echo "bootstrap: npm ci (cdktf-cli)"
  npm ci --no-audit --no-fund --loglevel=error
fi
