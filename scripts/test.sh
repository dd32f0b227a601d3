#!/usr/bin/env bash
# The project's whole test run (what CI runs): lint, types, checkov on every environment's
# synthesized stack, then every test suite with coverage enforced separately for the stack
# (lib/) and the Lambda package (lambda/payment_core). Extra arguments go to every pytest run.
#
# Where the time goes (2 cores): the e2e suite deploys to the emulator and spends much of its
# time waiting on it, so it starts first, in the background, and every other phase runs beside
# it; the CPU-bound suites run on both cores (pytest-xdist). The unit tests' session synth
# writes the stacks checkov scans (TEST_SYNTH_OUT), so the stacks are synthesized once per run,
# and checkov then runs in the background beside the emulator suite, which waits on its
# emulators for much of its time.
# Each phase's wall time and CPU seconds are printed in a table at the end, also when a phase fails.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_ROOT"

PY=.venv/bin/python
LOGS=build/test-logs
SYNTH_OUT=cdktf.out/checkov
WORKERS="${TEST_WORKERS:-2}"
# The unit phase's suites (what `make test-fast` runs), listed once in tests/fast-suites.txt: the
# Makefile and the stack scheduler's guard (tests/conftest.py) read the same file. Read before any
# phase starts: an empty list would make pytest run every suite.
mapfile -t FAST_SUITES <tests/fast-suites.txt
[ "${#FAST_SUITES[@]}" -gt 0 ] || { echo "tests/fast-suites.txt lists no suites" >&2; exit 1; }
# The per-process coverage flags, one place: the e2e and the other suites write separate data
# files (they run at the same time), combined before the gates.
COV=(--cov=lib --cov=lambda --cov-branch --cov-report=)
mkdir -p "$LOGS"
TIMES="$LOGS/phases.tsv"
: >"$TIMES"
RUN_STARTED=$(date +%s.%N)
E2E_PID=""
CHECKOV_PID=""

# cpu_mark FILE: this shell's `times` into FILE (in this shell: a $(...) subshell's counters start
# at 0); cpu_seconds FILE: the user+sys CPU seconds of its finished child processes then.
cpu_mark() { times >"$1"; }
cpu_seconds() {
  awk 'function s(v, p) { split(v, p, "m"); sub("s", "", p[2]); return p[1] * 60 + p[2] }
       NR == 2 { printf "%.1f", s($1) + s($2) }' "$1"
}

# phase NAME COMMAND...: runs COMMAND, records NAME's wall time, CPU seconds and outcome; a failure
# ends the run. CPU seconds (of every process the phase ran and waited for) judge a run on a loaded
# machine, where wall times say more about the other users than about the tests.
phase() {
  local name=$1 started status=ok mark="$LOGS/cpu.$BASHPID" cpu_before
  shift
  echo "== $name"
  started=$(date +%s.%N)
  cpu_mark "$mark"
  cpu_before=$(cpu_seconds "$mark")
  printf '%s\t%s\trunning\n' "$name" "$started" >>"$TIMES"
  "$@" || status=FAILED
  cpu_mark "$mark"
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$started" "$status" "$(date +%s.%N)" \
    "$(awk -v a="$cpu_before" -v b="$(cpu_seconds "$mark")" 'BEGIN { printf "%.1f", b - a }')" >>"$TIMES"
  rm -f "$mark"
  [ "$status" = ok ]
}

print_table() {
  local rc=$?
  set +e
  if [ -n "$E2E_PID" ] && kill -0 "$E2E_PID" 2>/dev/null; then
    # SIGINT, not SIGTERM: pytest then runs its fixture finalizers (destroy, emulator stop).
    echo "stopping the e2e suite (pid $E2E_PID)"
    kill -INT -- "-$E2E_PID" 2>/dev/null
    wait "$E2E_PID" 2>/dev/null
  fi
  if [ -n "$CHECKOV_PID" ] && kill -0 "$CHECKOV_PID" 2>/dev/null; then
    kill -TERM -- "-$CHECKOV_PID" 2>/dev/null
    wait "$CHECKOV_PID" 2>/dev/null
  fi
  "$PY" - "$TIMES" "$RUN_STARTED" "$(date +%s.%N)" <<'PY' || cat "$TIMES"
import sys

times, run_started, now = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
phases: dict[str, list[str]] = {}
for line in open(times):
    name, started, status, *ended = line.rstrip("\n").split("\t")
    phases[name] = [started, status, *ended]
# A background job's CPU also lands in the foreground phase during which the shell reaped it
# (bash counts a child's CPU when it collects the child): taken out of that phase again.
BACKGROUND = ("pytest e2e", "checkov")
background = {
    name: (float(phases[name][2]), float(phases[name][3]))
    for name in BACKGROUND
    if name in phases and len(phases[name]) == 4
}
print("\n== phase times (wall and CPU user+sys; e2e overlaps the phases after install, checkov the emulator suite)")
print(f"{'phase':<22}{'start':>8}{'seconds':>10}{'cpu':>10}  result")
total_cpu = 0.0
for name, (started, status, *ended) in phases.items():
    finished = float(ended[0]) if ended else now
    cpu = float(ended[1]) if ended else 0.0
    if name not in BACKGROUND:
        for other_end, other_cpu in background.values():
            if float(started) <= other_end <= finished:
                cpu = max(0.0, cpu - other_cpu)
    total_cpu += cpu
    status = status if ended else "interrupted"
    start = float(started) - run_started
    print(f"{name:<22}{start:>7.0f}s{finished - float(started):>9.1f}s{cpu:>9.1f}s  {status}")
print(f"{'total':<22}{'':>8}{now - run_started:>9.1f}s{total_cpu:>9.1f}s")
PY
  exit "$rc"
}
trap print_table EXIT

# A fresh clone has no .venv: install it from Pipfile.lock first, as `make demo` does
# (a no-op when .venv is already in sync with the lock file).
phase install bash scripts/bootstrap.sh

# The long pole, started first. Its output goes to a log, printed when it ends.
run_e2e() {
  COVERAGE_FILE=.coverage.e2e phase "pytest e2e" \
    "$PY" -m pytest -q -p no:cacheprovider -m e2e "${COV[@]}" --durations=15 "$@" tests/e2e
}
# Job control on for this one job: it gets a process group of its own, which the trap can interrupt.
set -m
run_e2e "$@" >"$LOGS/e2e.log" 2>&1 &
E2E_PID=$!
set +m

lint() {
  $PY -m ruff check .
  $PY -m ruff format --check .
  # The CI pipeline users run cannot run here; it must at least be a valid workflow.
  .venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
}
phase lint lint

# One run: the stack, the checkov gate, the Lambda package (installed editable, so lib/ and the
# harness see its real types), the shared test harness, the benchmarks and the emulator (its
# patches lean on moto's internals, where a moto upgrade breaks them first). Incremental:
# .mypy_cache stays between runs in a clone.
phase types $PY -m mypy --strict lambda/payment_core lib security testkit bench localcloud ops demo

# The stack and handler suites (CPU-bound: both cores), what `make test-fast` runs: one worker runs the stack
# tests (testkit/stack_scheduling.py). The session synth writes every environment's cdk.tf.json (and the
# account stack's) into $SYNTH_OUT for checkov.
rm -rf "$SYNTH_OUT"
COVERAGE_FILE=.coverage.suites TEST_SYNTH_OUT="$SYNTH_OUT" phase "pytest unit+handlers" \
  "$PY" -m pytest -q -p no:cacheprovider -n "$WORKERS" "${COV[@]}" --durations=10 "$@" \
  "${FAST_SUITES[@]}"
# Checkov reads only the synthesized stacks: in the background, its own process group (as the
# e2e job), beside the emulator suite; its output is printed when it ends.
set -m
phase checkov bash scripts/checkov.sh --scan "$SYNTH_OUT" >"$LOGS/checkov.log" 2>&1 &
CHECKOV_PID=$!
set +m
# The emulator suite: each worker runs its own emulator.
COVERAGE_FILE=.coverage.localcloud phase "pytest localcloud" \
  "$PY" -m pytest -q -p no:cacheprovider -n "$WORKERS" "${COV[@]}" --durations=15 "$@" tests/localcloud

checkov_status=0
wait "$CHECKOV_PID" || checkov_status=$?
CHECKOV_PID=""
echo "== checkov output ($LOGS/checkov.log)"
cat "$LOGS/checkov.log"
[ "$checkov_status" = 0 ]

e2e_status=0
wait "$E2E_PID" || e2e_status=$?
E2E_PID=""
echo "== e2e output ($LOGS/e2e.log)"
cat "$LOGS/e2e.log"
[ "$e2e_status" = 0 ]

coverage() {
  $PY -m coverage combine .coverage.e2e .coverage.suites .coverage.localcloud
  $PY -m coverage report --include='lib/*' --fail-under=95
  $PY -m coverage report --include='lambda/*' --fail-under=95
}
phase coverage coverage
