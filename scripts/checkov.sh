#!/usr/bin/env bash
# Checkov on the synthesized cdk.tf.json of dev, staging and prod, and of the account stack. Fails
# on any failed check that security/checkov-skips.yaml does not accept with a reason
# (security/checkov_gate.py).
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

if [ "$("$CHECKOV_VENV/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
  echo "checkov: installing checkov $CHECKOV_VERSION into $CHECKOV_VENV"
  rm -rf "$CHECKOV_VENV"
  python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi

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

reports=()
for environment in "${ENVIRONMENTS[@]}"; do
  stack="$OUT/stacks/TapStack$environment"
  # --soft-fail: checkov's own verdict ignores the skip list; the gate below decides.
  # --skip-download: offline, and nothing but the pinned version's own checks.
  "$CHECKOV_VENV/bin/checkov" --soft-fail --skip-download --framework terraform_json \
    -f "$stack/cdk.tf.json" -o json >"$stack/checkov.json"
  reports+=("$environment=$stack/checkov.json")
done
account="$OUT/stacks/TapAccount"
"$CHECKOV_VENV/bin/checkov" --soft-fail --skip-download --framework terraform_json \
  -f "$account/cdk.tf.json" -o json >"$account/checkov.json"
reports+=("account=$account/checkov.json")
.venv/bin/python security/checkov_gate.py security/checkov-skips.yaml "${reports[@]}"
