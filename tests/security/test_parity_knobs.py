"""Every property that differs between dev, staging and prod is a declared knob carrying its
config value, and every config difference reaches the stack (the knob table: tests/security/parity.py)."""

from __future__ import annotations

import pytest

from lib.config import ENVIRONMENTS, config_for
from tests.security.parity import (
    DOMAIN_OUTPUTS,
    DR_PATHS,
    GATED_FIELDS,
    KNOBS,
    LIST_KNOBS,
    NOT_IN_THE_STACK,
    VIA_START_PACING,
    config_values,
    differences,
    differing_config_fields,
    differing_values,
    rendered,
)
from tests.unit.synth import SynthesizedStack


def test_only_declared_knobs_differ(stacks: dict[str, SynthesizedStack]) -> None:
    undeclared = {
        key: where
        for key, where in differences(stacks).items()
        if key not in KNOBS
        and not (key[0] == "output" and key[1] in DOMAIN_OUTPUTS)
        and not DR_PATHS.fullmatch(".".join(key))
    }
    assert undeclared == {}, "differences not explained by a config knob:\n" + "\n".join(
        line for lines in undeclared.values() for line in lines
    )


def test_every_declared_knob_still_differs(stacks: dict[str, SynthesizedStack]) -> None:
    # A knob that no longer differs is a stale entry that would silently allow a difference.
    assert sorted(set(KNOBS) - set(differences(stacks))) == []


@pytest.mark.parametrize(("resource_type", "path"), sorted(KNOBS))
def test_each_knob_carries_its_config_value(stacks: dict[str, SynthesizedStack], resource_type: str, path: str) -> None:
    from lib.components.sweeper import oldest_open_alarm_seconds

    field_paths = KNOBS[(resource_type, path)].split("|")
    for env, synthesized in differing_values(stacks, resource_type, path).items():
        assert synthesized, f"{resource_type}.{path} does not differ"
        allowed = {rendered(v) for field in field_paths for v in config_values(config_for(env), field)}
        m = config_for(env).sweeper.interval_minutes  # rate(1 minute), rate(5 minutes); the alarm's derived threshold
        allowed |= (
            {f"rate({m} minute{'s' * (m > 1)})", str(oldest_open_alarm_seconds(m))}
            if "sweeper" in str(field_paths)
            else set()
        )
        # The value is the config's; the redrive policy is JSON built around it.
        strays = [
            v
            for v in synthesized
            if not any(a == str(v) or f"= {a}}}" in str(v) or f'"MaxConcurrency" = {a},' in str(v) for a in allowed)
        ]
        assert strays == [], f"{env}: {resource_type}.{path} = {strays} is not from {KNOBS[(resource_type, path)]}"


def test_knob_fields_are_config_fields_that_differ_between_presets() -> None:
    for field_paths in KNOBS.values():
        per_env = [
            tuple(rendered(v) for field in field_paths.split("|") for v in config_values(config_for(env), field))
            for env in ENVIRONMENTS
        ]
        assert len(set(per_env)) > 1, f"{field_paths} is the same in every preset"


def test_every_config_difference_reaches_the_stack() -> None:
    declared = {field for paths in KNOBS.values() for field in paths.split("|")} | set(LIST_KNOBS.values())
    unexplained = differing_config_fields() - declared - NOT_IN_THE_STACK - GATED_FIELDS - VIA_START_PACING
    unexplained = {
        path for path in unexplained if not path.startswith(tuple(f"{knob}[]" for knob in LIST_KNOBS.values()))
    }
    assert sorted(unexplained) == []
