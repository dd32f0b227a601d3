"""dev, staging and prod are one stack: the same resource addresses, except where a boolean knob
gates a resource or a config list makes one resource per item (tables: tests/security/parity.py)."""

from __future__ import annotations

import re

from lib.config import ENVIRONMENTS, config_for
from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_settings
from tests.security.parity import (
    GATED,
    LIST_KNOBS,
    config_values,
    environment_stacks,
    is_gated,
    list_knob_item,
    stack_blocks,
)
from tests.unit.synth import SynthesizedStack


def test_gated_resources_exist_exactly_where_their_knob_is_on(stacks: dict[str, SynthesizedStack]) -> None:
    for prefix, knob in GATED.items():
        present = [
            env
            for env in ENVIRONMENTS
            if any(is_gated(a) and a[2].startswith(prefix) for a in stack_blocks(stacks[env]))
        ]
        on = [env for env in ENVIRONMENTS if config_values(config_for(env), knob) == [True]]
        assert present == on, prefix


def test_every_environment_has_the_same_addresses(stacks: dict[str, SynthesizedStack]) -> None:
    addresses = {
        env: {a for a in stack_blocks(stack) if not is_gated(a) and not list_knob_item(a)}
        for env, stack in environment_stacks(stacks).items()
    }
    union = set().union(*addresses.values())
    missing = {env: sorted(map(".".join, union - found)) for env, found in addresses.items() if union - found}
    assert missing == {}
    # Addresses never carry the suffix (it lives in names), or every deploy would rename them.
    for env in ENVIRONMENTS:
        carrying = [a for a in addresses[env] if any(re.search(rf"(^|_){env}(_|$)", part) for part in a)]
        assert carrying == [], env
        assert not [a for a in addresses[env] if any("TOKEN" in part for part in a)]


def test_list_knobs_make_one_resource_per_item(stacks: dict[str, SynthesizedStack]) -> None:
    for (resource_type, prefix), field_path in LIST_KNOBS.items():
        for env in ENVIRONMENTS:
            items = [name for name in stacks[env].resources(resource_type) if name.startswith(prefix)]
            # The stacks' configs as deployed: the presets with the deploy's ALARM_SUBSCRIBERS.
            (configured,) = config_values(preset_settings(SYNTH_ONLY_SUBSCRIBERS)[env].config, field_path)
            assert len(items) == len(configured), f"{env}: {field_path}"


def test_domain_outputs_exist_exactly_where_the_domain_does(stacks: dict[str, SynthesizedStack]) -> None:
    for env in ENVIRONMENTS:
        outputs = stacks[env].document["output"]
        domain = config_for(env).edge.custom_domain_required
        assert ("api_domain_target" in outputs, "api_domain_zone_id" in outputs) == (domain, domain), env
        assert str(outputs["api_endpoint_url"]["value"]).startswith("https://api.") == domain, env
