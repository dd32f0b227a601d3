# Every target sources scripts/env.sh (offline Terraform, in-repo venv).
SHELL := /bin/bash
ENVIRONMENT ?= dev
ENVIRONMENT_SUFFIX ?= $(ENVIRONMENT)
RUN := source scripts/env.sh &&

.PHONY: bootstrap test synth validate demo bench snapshots clean

bootstrap:  ## install Python (and Node) dependencies from the lock files
	bash scripts/bootstrap.sh --node

test:  ## lint + every test suite + coverage gates (what .ci/run runs)
	bash scripts/test.sh

synth:  ## cdktf.out/stacks/TapStack$(ENVIRONMENT_SUFFIX)/cdk.tf.json
	bash scripts/bootstrap.sh
	$(RUN) ENVIRONMENT=$(ENVIRONMENT) ENVIRONMENT_SUFFIX=$(ENVIRONMENT_SUFFIX) .venv/bin/python tap.py

validate: synth  ## terraform init + validate the synthesized stack
	$(RUN) cd cdktf.out/stacks/TapStack$(ENVIRONMENT_SUFFIX) && terraform init -backend=false -input=false >/dev/null && terraform validate

snapshots:  ## accept the current synth as the committed snapshots
	$(RUN) UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/unit/test_snapshots.py

clean:
	rm -rf cdktf.out build .localcloud .coverage
