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
