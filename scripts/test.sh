#!/usr/bin/env bash
# The project's whole test run (what CI runs): lint, types, checkov on every environment's
# synthesized stack, then every test suite with coverage enforced separately for the stack
# (lib/) and the Lambda package (lambda/payment_core).
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
# One run: the stack, the checkov gate, the Lambda package (installed editable, so lib/ and the
# harness see its real types), the shared test harness, the benchmarks and the emulator (its
# patches lean on moto's internals, where a moto upgrade breaks them first).
$PY -m mypy --strict lambda/payment_core lib security testkit bench localcloud

echo "== checkov"
bash scripts/checkov.sh

echo "== tests"
$PY -m pytest -q -p no:cacheprovider --cov=lib --cov=lambda --cov-branch --cov-report= "$@"

echo "== coverage"
$PY -m coverage report --include='lib/*' --fail-under=95
$PY -m coverage report --include='lambda/*' --fail-under=95
