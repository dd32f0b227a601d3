"""Process-wide test setup that must happen before anything imports cdktf.

jsii starts its node process when cdktf is first imported and copies the environment
then, so Terraform's offline settings must already be in os.environ.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from testkit.moto_keys import defer_kms_key_pairs
from testkit.stack_scheduling import StackScheduling

_ROOT = Path(__file__).resolve().parent.parent
_MIRROR = Path("/opt/tf-plugins")

os.environ["CHECKPOINT_DISABLE"] = "1"
os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
# Overridden, not defaulted: a machine may export a TF_CLI_CONFIG_FILE that does not exist.
if _MIRROR.is_dir():
    os.environ["TF_CLI_CONFIG_FILE"] = str(_ROOT / "terraform" / "cli.tfrc")

# Hypothesis' default 200 ms deadline per example is a timing assertion, and timing does not
# belong in the test suites (it goes in `make bench`): on 2 loaded cores a property test of the
# card-number scanner took 448 ms for one example and failed with nothing wrong. What each example
# asserts is unchanged; only the deadline is off, for every property test.
hypothesis_settings.register_profile("no-deadline", deadline=None)
hypothesis_settings.load_profile("no-deadline")

# moto makes an RSA key pair for every KMS key it creates; the handler tests create two per test.
defer_kms_key_pairs()


# The suites `make test-fast` and the unit phase of `make test` run, from the one list both read:
# their collection imports no AWS provider, and on xdist one worker runs every test that needs it
# (testkit/stack_scheduling.py). tests/localcloud and tests/e2e import stack code at module level
# and run in phases of their own (tests/unit/test_suite_phases.py: every suite is in one phase).
FAST_SUITES_FILE = _ROOT / "tests" / "fast-suites.txt"
GUARDED_SUITES = tuple(_ROOT / suite for suite in FAST_SUITES_FILE.read_text().split())


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(StackScheduling(GUARDED_SUITES), "stack-scheduling")
