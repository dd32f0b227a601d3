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

# One scan per stack, all at once: each is a separate checkov process (mostly its own start-up and
# graph building), so they share the cores.
scan() {
  # --soft-fail: checkov's own verdict ignores the skip list; the gate below decides.
  # --skip-download: offline, and nothing but the pinned version's own checks.
  "$CHECKOV_VENV/bin/checkov" --soft-fail --skip-download --framework terraform_json \
    -f "$1/cdk.tf.json" -o json >"$1/checkov.json"
}
reports=()
scans=()
for environment in "${ENVIRONMENTS[@]}"; do
  scan "$OUT/stacks/TapStack$environment" &
  scans+=($!)
  reports+=("$environment=$OUT/stacks/TapStack$environment/checkov.json")
done
scan "$OUT/stacks/TapAccount" &
scans+=($!)
reports+=("account=$OUT/stacks/TapAccount/checkov.json")
for pid in "${scans[@]}"; do
  wait "$pid"
done
.venv/bin/python security/checkov_gate.py security/checkov-skips.yaml "${reports[@]}"
