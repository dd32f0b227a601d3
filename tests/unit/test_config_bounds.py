"""Every knob declared ``within`` its bounds is refused just outside them, with the exact message
naming it (``lib.config.checks.Slice``): the bounds are checked before any check across knobs."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any

import pytest

from lib.config import ENVIRONMENTS, config_for
from lib.config.checks import Slice


def bounded_knobs() -> list[tuple[str, Slice, str, tuple[int, int]]]:
    """(where, slice, knob, bounds) for every bounded knob of every preset's slices, nested too."""
    found: list[tuple[str, Slice, str, tuple[int, int]]] = []

    def visit(where: str, value: Any) -> None:
        if isinstance(value, Slice):
            bounds = {knob.name: knob.metadata["bounds"] for knob in fields(value) if "bounds" in knob.metadata}
            found.extend((where, value, name, within) for name, within in bounds.items())
        if is_dataclass(value) and not isinstance(value, type):
            for knob in fields(value):
                visit(f"{where}.{knob.name}", getattr(value, knob.name))

    for environment in ENVIRONMENTS:
        visit(environment, config_for(environment))
    return found


KNOBS = bounded_knobs()


def test_the_presets_declare_bounded_knobs_in_every_kind_of_slice() -> None:
    kinds = {type(config_slice).__name__ for _, config_slice, _, _ in KNOBS}
    assert kinds == {
        "BackupConfig",
        "BatchWorkflowConfig",
        "EdgeConfig",
        "EventsConfig",
        "FunctionSettings",
        "ProcessorConfig",
        "QueueConfig",
        "SweeperConfig",
        "TenancyConfig",
        "WebhooksConfig",
    }


@pytest.mark.parametrize(
    ("config_slice", "knob", "bounds"),
    [(config_slice, knob, bounds) for where, config_slice, knob, bounds in KNOBS if where.startswith("prod")],
    ids=[f"{where}.{knob}" for where, _, knob, _ in KNOBS if where.startswith("prod")],
)
def test_a_bounded_knob_is_refused_outside_its_bounds_by_name(config_slice: Slice, knob: str, bounds: tuple[int, int]):
    low, high = bounds
    name = f"{config_slice.SECTION}{knob}"
    for outside in (low - 1, high + 1):
        with pytest.raises(ValueError) as refused:
            replace(config_slice, **{knob: outside})
        assert str(refused.value) == f"{name} must be between {low} and {high}, got {outside}"
