#!/usr/bin/env bash
# Checkov on the synthesized cdk.tf.json of dev, staging and prod, and of the account stack. Fails
# on any failed check that security/checkov-skips.yaml does not accept with a reason
# (security/checkov_gate.py).
#
# `--scan DIR`: scan the stacks already synthesized into DIR (scripts/test.sh has the unit tests'
# session synth write them there); whatever is missing there is synthesized as usual.
#
# Checkov pins an older boto3 than the project's, so it lives in its own venv (.venv-checkov),
# created here at the pinned version. The three environments are synthesized in one process:
# loading the AWS provider bindings is the expensive part.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_ROOT"

CHECKOV_VERSION=3.3.30
CHECKOV_VENV=.venv-checkov
OUT=cdktf.out/checkov
ENVIRONMENTS=(dev staging prod)
REUSE=false
if [ "${1:-}" = "--scan" ]; then
  OUT=$2
  REUSE=true
fi

if [ "$("$CHECKOV_VENV/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
  echo "checkov: installing checkov $CHECKOV_VERSION into $CHECKOV_VENV"
  rm -rf "$CHECKOV_VENV"
  # uv (scripts/bootstrap.sh installed it): pip's resolve of checkov's ~100 dependencies was
  # most of this phase's time on a fresh clone.
  python3 -m uv venv --quiet "$CHECKOV_VENV"
  python3 -m uv pip install --quiet --python "$CHECKOV_VENV/bin/python" "checkov==$CHECKOV_VERSION"
fi

synthesized() {
  for stack in "${ENVIRONMENTS[@]/#/TapStack}" TapAccount; do
    [ -s "$OUT/stacks/$stack/cdk.tf.json" ] || return 1
  done
}
synthesize() {
  echo "checkov: synthesizing ${ENVIRONMENTS[*]}"
  rm -rf "$OUT"
  # The synth creates only the last directory level.
  mkdir -p "$OUT"
  .venv/bin/python - "$OUT" "${ENVIRONMENTS[@]}" <<'PY'
import sys

from cdktf import App

from lib.account_stack import AccountStack
from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_settings
from lib.tap_stack import synth_environments

outdir, environments = sys.argv[1], sys.argv[2:]
presets = preset_settings(alarm_subscribers=SYNTH_ONLY_SUBSCRIBERS)
app = App(outdir=outdir)
synth_environments(app, {environment: presets[environment] for environment in environments})
# The account stack (TapAccount) is the same for every environment: scanned once, as "account".
AccountStack(app, settings=presets[environments[0]])
app.synth()
PY
}
if $REUSE && synthesized; then
  echo "checkov: scanning the stacks the tests synthesized in $OUT"
else
  synthesize
fi

# One checkov process scans every stack: most of a checkov run is its start-up (loading its checks,
# ~7 CPU-s), the same for one stack as for four (four processes: ~38 CPU-s, one: ~11; the findings
# per stack are the same, each stack's directory being a module of its own). Its report is then
# split into one report per stack, as the gate reads them.
STACKS=("${ENVIRONMENTS[@]/#/TapStack}" TapAccount)
files=()
for stack in "${STACKS[@]}"; do
  files+=(-f "$stack/cdk.tf.json")
done
# --soft-fail: checkov's own verdict ignores the skip list; the gate below decides.
# --skip-download: offline, and nothing but the pinned version's own checks.
(cd "$OUT/stacks" && "$PROJECT_ROOT/$CHECKOV_VENV/bin/checkov" --soft-fail --skip-download \
  --framework terraform_json "${files[@]}" -o json) >"$OUT/checkov.json"
.venv/bin/python - "$OUT" "${STACKS[@]}" <<'PY'
import json
import sys
from pathlib import Path

out, stacks = Path(sys.argv[1]), sys.argv[2:]
report = json.loads((out / "checkov.json").read_text())
# One framework: one report (a list only when checkov ran several frameworks).
assert isinstance(report, dict), f"expected one terraform_json report, got {type(report).__name__}"
for stack in stacks:
    path = f"/{stack}/cdk.tf.json"
    results = {
        kind: [c for c in report["results"].get(kind, []) if c["file_path"] == path]
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
    }
    results["parsing_errors"] = [e for e in report["results"].get("parsing_errors", []) if str(e).endswith(path)]
    summary = {kind.split("_")[0]: len(results[kind]) for kind in ("passed_checks", "failed_checks", "skipped_checks")}
    summary["parsing_errors"] = len(results["parsing_errors"])
    own = {"check_type": report["check_type"], "results": results, "summary": summary}
    (out / "stacks" / stack / "checkov.json").write_text(json.dumps(own))
PY
reports=()
for environment in "${ENVIRONMENTS[@]}"; do
  reports+=("$environment=$OUT/stacks/TapStack$environment/checkov.json")
done
reports+=("account=$OUT/stacks/TapAccount/checkov.json")
.venv/bin/python security/checkov_gate.py security/checkov-skips.yaml "${reports[@]}"
