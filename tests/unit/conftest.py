"""One synth per environment per session: importing the AWS provider costs ~20 s a process."""

from __future__ import annotations

from functools import cache

import pytest

from lib.config import ENVIRONMENTS
from tests.unit.synth import SynthesizedStack

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
    stacks = synth_environments(Testing.app(), environments, emulator_provider=provider_overrides)
    return {name: SynthesizedStack(stack=stack, text=Testing.synth(stack)) for name, stack in stacks.items()}


@pytest.fixture(scope="session")
def stacks() -> dict[str, SynthesizedStack]:
    """dev, staging and prod (suffix = environment name), plus ``local``: dev aimed at the emulator."""
    return synthesize_all()


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def env_stack(request: pytest.FixtureRequest, stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks[request.param]


@pytest.fixture(scope="session")
def dev(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["dev"]


@pytest.fixture(scope="session")
def prod(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["prod"]


@pytest.fixture(scope="session")
def local(stacks: dict[str, SynthesizedStack]) -> SynthesizedStack:
    return stacks["local"]
