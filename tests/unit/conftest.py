"""One synth per environment per session: importing the AWS provider costs ~20 s a process.
With pytest-xdist every test using these fixtures runs on one worker (testkit/stack_scheduling.py),
so one process synthesizes.

With ``TEST_SYNTH_OUT=<dir>`` (scripts/test.sh sets it) the session synth also writes each
environment's stack, and the account stack, where ``app.synth()`` would (``<dir>/stacks/<stack
name>/cdk.tf.json``): checkov then scans what the tests checked instead of synthesizing again.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lib.config import ENVIRONMENTS
from tests.unit.synth import SynthesizedStack

if TYPE_CHECKING:
    from cdktf import App

LOCAL_ENDPOINT = "http://127.0.0.1:4566"


@cache
def synthesize_all() -> dict[str, SynthesizedStack]:
    """Cached per process, not per fixture: a conftest in another directory that imports these
    fixtures gets its own fixture definitions, and would otherwise synthesize everything again."""
    from cdktf import Testing

    from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_settings, read_settings
    from lib.tap_stack import synth_environments
    from localcloud.provider import provider_overrides

    environments = preset_settings(alarm_subscribers=SYNTH_ONLY_SUBSCRIBERS)
    environments["local"] = read_settings(
        {
            "ENVIRONMENT": "dev",
            "ENVIRONMENT_SUFFIX": "local",
            "LOCAL_CLOUD_ENDPOINT": LOCAL_ENDPOINT,
            "ALARM_SUBSCRIBERS": SYNTH_ONLY_SUBSCRIBERS,
        }
    )
    app = Testing.app()
    stacks = synth_environments(app, environments, emulator_provider=provider_overrides)
    # With the stacks' validations run, as `cdktf synth` runs them: the Terraform validate test
    # checks this text instead of synthesizing each stack again.
    synthesized = {
        name: SynthesizedStack(stack=stack, text=Testing.synth(stack, run_validations=True))
        for name, stack in stacks.items()
    }
    out = os.environ.get("TEST_SYNTH_OUT")
    if out:
        _write_for_checkov(Path(out), app, synthesized)
    return synthesized


def _write_for_checkov(out: Path, app: App, synthesized: dict[str, SynthesizedStack]) -> None:
    """The preset environments and the account stack (TapAccount, the same for every environment:
    scanned once), as scripts/checkov.sh reads them."""
    from cdktf import Testing

    from lib.account_stack import AccountStack
    from lib.config import ENVIRONMENTS
    from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_settings

    account = AccountStack(app, settings=preset_settings(SYNTH_ONLY_SUBSCRIBERS)[ENVIRONMENTS[0]])
    texts = {stack.stack.node.id: stack.text for name, stack in synthesized.items() if name in ENVIRONMENTS}
    texts[account.node.id] = Testing.synth(account)
    for stack_name, text in texts.items():
        target = out / "stacks" / stack_name / "cdk.tf.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        # Atomic: with pytest-xdist and an explicit --dist, every worker may synthesize and write them.
        partial = target.with_name(f"cdk.tf.json.{os.getpid()}")
        partial.write_text(text)
        partial.replace(target)


@pytest.fixture(scope="session")
def stacks() -> dict[str, SynthesizedStack]:
    """dev, staging and prod (suffix = environment name), plus ``local``: dev aimed at the emulator."""
    return synthesize_all()


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def env_stack(request: pytest.FixtureRequest, stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks[request.param]


@pytest.fixture
def stack(stacks: dict[str, SynthesizedStack], environment: str) -> SynthesizedStack:
    """The stack of the ``environment`` a test is parametrized with (the environments it is about)."""
    return stacks[environment]


@pytest.fixture(scope="session")
def dev(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["dev"]


@pytest.fixture(scope="session")
def prod(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["prod"]


@pytest.fixture(scope="session")
def local(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["local"]
