# shellcheck shell=bash
# Sourced by every project command: offline Terraform, quiet jsii, the venv inside the repo.
PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PROJECT_ROOT
export PIPENV_VENV_IN_PROJECT=1 PIPENV_NOSPIN=1 PIPENV_YES=1 PIPENV_VERBOSITY=-1
export CHECKPOINT_DISABLE=1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
# The image ships the AWS provider as a filesystem mirror; elsewhere use the registry.
# Set outright: a machine may already export a TF_CLI_CONFIG_FILE that does not exist.
if [ -d /opt/tf-plugins ]; then
  export TF_CLI_CONFIG_FILE="$PROJECT_ROOT/terraform/cli.tfrc"
fi
# Terraform and the AWS provider are Go programs that spend about a third of their CPU collecting
# garbage while they load the 5.100 provider's schema, which every plan, apply, validate and destroy
# does. Measured here (2026-12-03): `terraform validate` of the e2e stack 9.5 -> 5.9 CPU seconds
# (peak memory 310 -> 445 MB), the e2e stack's apply 72 -> 49 CPU seconds. On 2 cores and 24 GiB,
# CPU is the scarce one. A GOGC already set (e.g. by a CI job) wins.
export GOGC="${GOGC:-400}"
