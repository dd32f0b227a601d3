# Every target sources scripts/env.sh (offline Terraform, in-repo venv).
SHELL := /bin/bash
ENVIRONMENT ?= dev
ENVIRONMENT_SUFFIX ?= $(ENVIRONMENT)
RUN := source scripts/env.sh &&

.PHONY: bootstrap test test-fast synth validate preflight deploy demo bench snapshots clean merchant rollback restore drift backfill-open-payments openapi scale-model webhook-redeliver

bootstrap:  ## install Python (and Node) dependencies from the lock files
	bash scripts/bootstrap.sh --node

test:  ## installs what is missing (scripts/bootstrap.sh), then lint + every test suite + coverage gates (what .ci/run runs)
	bash scripts/test.sh

# The suites that need no emulator, on both cores (pytest-xdist). The stack and handler
# tests, the security gates (not checkov itself) and the tools' tests; no coverage gate. One worker
# runs every stack test and alone imports the AWS provider (testkit/stack_scheduling.py).
# Listed once, in tests/fast-suites.txt: scripts/test.sh's unit phase and the scheduler's guard
# (tests/conftest.py) read the same file (tests/unit/test_suite_phases.py holds them together).
FAST_SUITES := $(shell cat tests/fast-suites.txt)

test-fast:  ## the inner loop (< 3 min): ruff, then unit + handler tests on both cores; nothing deployed, no emulator
	bash scripts/bootstrap.sh
	$(RUN) .venv/bin/python -m ruff check . && .venv/bin/python -m pytest -q -n $${TEST_WORKERS:-2} \
	  $(or $(FAST_SUITES),$(error tests/fast-suites.txt lists no suites: pytest would run every suite))

demo:  ## the main job: deploy to the local emulator, drive payments, print, destroy (KEEP=1 leaves it running; FAULTS='<json>' sets LOCALCLOUD_FAULTS)
	bash scripts/bootstrap.sh
	$(RUN) LOCALCLOUD_FAULTS='$(FAULTS)' .venv/bin/python -m demo --environment $(ENVIRONMENT) $(if $(KEEP),--keep,)

# Without OUTPUTS: the stack `make demo KEEP=1` left running (its outputs file, the emulator's endpoint, test credentials).
DEMO_STATE := .localcloud/demo
merchant:  ## onboard MERCHANT=<id> [TIER=<tier>] [EXPIRES_DAYS=]; ROTATE=1 [OVERLAP_HOURS=] a new secret key; REVOKE=<key id>|all; DISABLE=1; PIN_VERSION=<date>; a real stack: OUTPUTS=<cdktf outputs file> [STACK=] [REGION=] [ENDPOINT=]
	@test -n "$(OUTPUTS)" -o -f $(DEMO_STATE)/outputs.json || { echo 'no stack from `make demo KEEP=1` is running: give OUTPUTS=<cdktf outputs file>'; exit 1; }
	$(RUN) $(if $(OUTPUTS),,AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing) .venv/bin/python -m ops.merchant \
	  --merchant "$(MERCHANT)" --outputs "$(or $(OUTPUTS),$(DEMO_STATE)/outputs.json)" \
	  $(if $(OUTPUTS),$(if $(ENDPOINT),--endpoint "$(ENDPOINT)",),--endpoint "$$(cat $(DEMO_STATE)/endpoint 2>/dev/null)") \
	  $(if $(STACK),--stack "$(STACK)",) $(if $(REGION),--region "$(REGION)",) $(if $(TIER),--tier "$(TIER)",) $(if $(DISABLE),--disable,) \
	  $(if $(ROTATE),--rotate,) $(if $(REVOKE),--revoke "$(REVOKE)",) $(if $(PIN_VERSION),--pin-version "$(PIN_VERSION)",) \
	  $(if $(OVERLAP_HOURS),--overlap-hours "$(OVERLAP_HOURS)",) $(if $(EXPIRES_DAYS),--expires-days "$(EXPIRES_DAYS)",)

rollback:  ## FUNCTION=<contract name>|all: point its live alias (and the state machines naming its version) at the previous version; a real stack: [REGION=] [ENDPOINT=]
	@test -n "$(FUNCTION)" || { echo 'give FUNCTION=<name>|all (payment_core.contract.FUNCTION_NAMES)'; exit 1; }
	$(RUN) $(if $(ENDPOINT),,$(if $(wildcard $(DEMO_STATE)/endpoint),AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing,)) .venv/bin/python -m ops.rollback \
	  --function "$(FUNCTION)" --suffix "$(ENVIRONMENT_SUFFIX)" \
	  $(if $(ENDPOINT),--endpoint "$(ENDPOINT)",$(if $(wildcard $(DEMO_STATE)/endpoint),--endpoint "$$(cat $(DEMO_STATE)/endpoint)",)) \
	  $(if $(REGION),--region "$(REGION)",)

restore:  ## TABLE=<logical> and TIME=<ISO 8601 with offset> or BACKUP=<DynamoDB backup ARN>: restore into <table>-restored-<stamp>, wait, compare item counts; [WAIT_MINUTES=] a real stack: [REGION=] [ENDPOINT=]
	@test -n "$(TABLE)" || { echo 'give TABLE=<logical name> (payment_core.contract.TABLE_STEMS)'; exit 1; }
	@test -n "$(TIME)$(BACKUP)" || { echo 'give TIME=<ISO 8601 with offset> or BACKUP=<DynamoDB backup ARN>'; exit 1; }
	$(RUN) $(if $(ENDPOINT),,$(if $(wildcard $(DEMO_STATE)/endpoint),AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing,)) .venv/bin/python -m ops.restore \
	  --table "$(TABLE)" --suffix "$(ENVIRONMENT_SUFFIX)" $(if $(TIME),--time "$(TIME)",) $(if $(BACKUP),--backup "$(BACKUP)",) \
	  $(if $(ENDPOINT),--endpoint "$(ENDPOINT)",$(if $(wildcard $(DEMO_STATE)/endpoint),--endpoint "$$(cat $(DEMO_STATE)/endpoint)",)) \
	  $(if $(REGION),--region "$(REGION)",) $(if $(WAIT_MINUTES),--wait-minutes "$(WAIT_MINUTES)",)

webhook-redeliver:  ## EVENT=<evt_...> [ENDPOINT=<we_...>] [MERCHANT=]: queue the event again for its merchant's endpoints (or that one); a real stack: ENVIRONMENT_SUFFIX= [REGION=] [AWS_ENDPOINT=]
	@test -n "$(EVENT)" || { echo 'give EVENT=<evt_...> (and ENDPOINT=<we_...> for one endpoint)'; exit 1; }
	$(RUN) $(if $(AWS_ENDPOINT),,$(if $(wildcard $(DEMO_STATE)/endpoint),AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing,)) .venv/bin/python -m ops.webhook_redeliver \
	  --event "$(EVENT)" --suffix "$(ENVIRONMENT_SUFFIX)" $(if $(ENDPOINT),--webhook-endpoint "$(ENDPOINT)",) $(if $(MERCHANT),--merchant "$(MERCHANT)",) \
	  $(if $(AWS_ENDPOINT),--endpoint "$(AWS_ENDPOINT)",$(if $(wildcard $(DEMO_STATE)/endpoint),--endpoint "$$(cat $(DEMO_STATE)/endpoint)",)) \
	  $(if $(REGION),--region "$(REGION)",)

backfill-open-payments:  ## index the non-final payments stored before open-payments-index (idempotent): OUTPUTS=<cdktf outputs file> [STACK=] [REGION=] [ENDPOINT=] [PAGE_SIZE=]; without OUTPUTS the `make demo KEEP=1` stack
	@test -n "$(OUTPUTS)" -o -f $(DEMO_STATE)/outputs.json || { echo 'no stack from `make demo KEEP=1` is running: give OUTPUTS=<cdktf outputs file>'; exit 1; }
	$(RUN) $(if $(OUTPUTS),,AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing) .venv/bin/python -m ops.backfill_open_payments \
	  --outputs "$(or $(OUTPUTS),$(DEMO_STATE)/outputs.json)" \
	  $(if $(OUTPUTS),$(if $(ENDPOINT),--endpoint "$(ENDPOINT)",),--endpoint "$$(cat $(DEMO_STATE)/endpoint 2>/dev/null)") \
	  $(if $(STACK),--stack "$(STACK)",) $(if $(REGION),--region "$(REGION)",) $(if $(PAGE_SIZE),--page-size "$(PAGE_SIZE)",)

synth:  ## cdktf.out/stacks/TapStack$(ENVIRONMENT_SUFFIX)/cdk.tf.json
	bash scripts/bootstrap.sh
	$(RUN) ENVIRONMENT=$(ENVIRONMENT) ENVIRONMENT_SUFFIX=$(ENVIRONMENT_SUFFIX) .venv/bin/python tap.py

preflight: synth  ## will the account take TapStack$(ENVIRONMENT_SUFFIX)? region, Lambda concurrency, API Gateway logging role, state bucket
	$(RUN) ENVIRONMENT=$(ENVIRONMENT) ENVIRONMENT_SUFFIX=$(ENVIRONMENT_SUFFIX) .venv/bin/python -m lib.preflight

deploy: preflight  ## the one deploy command: preflight, then the account stack (TapAccount) and TapStack$(ENVIRONMENT_SUFFIX)
	bash scripts/bootstrap.sh --node
	$(RUN) ENVIRONMENT=$(ENVIRONMENT) ENVIRONMENT_SUFFIX=$(ENVIRONMENT_SUFFIX) npx cdktf deploy TapAccount TapStack$(ENVIRONMENT_SUFFIX) \
	  --auto-approve --outputs-file outputs.json --outputs-file-include-sensitive-outputs=false

validate: synth  ## terraform init + validate the synthesized stack
	$(RUN) cd cdktf.out/stacks/TapStack$(ENVIRONMENT_SUFFIX) && terraform init -backend=false -input=false >/dev/null && terraform validate

drift: synth  ## does TapStack$(ENVIRONMENT_SUFFIX) match its code? plan -detailed-exitcode against its real state (TERRAFORM_STATE_BUCKET); drifted resources by name; exit 2 on drift
	$(RUN) (cd cdktf.out/stacks/TapStack$(ENVIRONMENT_SUFFIX) && terraform init -input=false -no-color >/dev/null) && \
	  .venv/bin/python -m ops.drift --stack-dir cdktf.out/stacks/TapStack$(ENVIRONMENT_SUFFIX)

bench:  ## benchmarks, each against a baseline measured in the same run; exits 1 on a missed target (not part of test)
	bash scripts/bootstrap.sh
	$(RUN) .venv/bin/python -m bench $(if $(ONLY),--only $(ONLY),) $(if $(MARKDOWN),--markdown $(MARKDOWN),)

openapi:  ## write docs/openapi.json and README's routes table from payment_core.api_contract (a test fails when stale)
	$(RUN) .venv/bin/python -m lib.openapi

snapshots:  ## accept the current synth as the committed snapshots
	$(RUN) UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/unit/test_snapshots.py

clean:
	rm -rf cdktf.out build .localcloud .coverage

# The pacing scale model (bench/scale_model.py): Step Functions' quotas and the reservations divided
# by SCALE, a file of ROWS rows; deploys to a fresh emulator. Not part of test: it runs for as long
# as the file takes through the start slots (progress printed every 20 s).
SCALE ?= 50
scale-model:  ## the pacing scale model: a file far larger than the workflow takes at once settles, none timed out [SCALE=50] [ROWS=2000]
	bash scripts/bootstrap.sh
	$(RUN) .venv/bin/python -m bench.scale_model --scale $(SCALE) $(if $(ROWS),--rows $(ROWS),)
