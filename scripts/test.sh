#!/usr/bin/env bash
# The project's whole test run (what CI runs): lint, types, checkov on every environment's
# synthesized stack, then every test suite with coverage enforced separately for the stack
# (lib/) and the handlers (lambda/).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_ROOT"
# A fresh clone has no .venv: install it from Pipfile.lock first, as `make demo` does
# (a no-op when .venv is already in sync with the lock file).
bash scripts/bootstrap.sh
PY=.venv/bin/python

echo "== lint"
$PY -m ruff check .
$PY -m ruff format --check .
# The CI pipeline users run cannot run here; it must at least be a valid workflow.
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

echo "== types"
# The stack, the checkov gate, the package shipped in the layer, the shared test harness and the emulator.
$PY -m mypy --strict lib security
$PY -m mypy --strict lambda/shared/payment_core
MYPYPATH=lambda/shared $PY -m mypy --strict testkit bench
# The emulator: its patches lean on moto's internals, where a moto upgrade breaks them first.
MYPYPATH=lambda/shared $PY -m mypy --strict localcloud
# Every handler is a module named "handler": one run each, so the four do not clash.
for handler in lambda/*/handler.py; do
  MYPYPATH=lambda/shared $PY -m mypy --strict "$handler"
done

echo "== checkov"
bash scripts/checkov.sh

echo "== tests"
$PY -m pytest -q -p no:cacheprovider --cov=lib --cov=lambda --cov-branch --cov-report= "$@"

echo "== coverage"
$PY -m coverage report --include='lib/*' --fail-under=95
$PY -m coverage report --include='lambda/*' --fail-under=95
