"""The checks every config slice validates with: each raises ``ValueError`` with the message given
(or built here), so a bad preset fails at synth time naming the field.

The bottom of ``lib/config``'s one-way chain: ``checks`` and ``limits`` <- the slices <-
``platform_config`` (``PlatformConfig``) <- ``presets``. Nothing here imports a slice.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def require_at_least(name: str, value: int, minimum: int) -> None:
    require(value >= minimum, f"{name} must be at least {minimum}, got {value}")


def require_between(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    require(low <= value <= high, f"{name} must be between {low} and {high}, got {value}")


def require_environment(environment: str, field_name: str) -> None:
    """The one check of an environment's name; ``field_name`` is what the message names."""
    require(
        environment in ENVIRONMENTS,
        f"{field_name} must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}",
    )


def within(bounds: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """A knob's field metadata, ``field(metadata=within(BOUNDS))``: it must lie within ``bounds``
    (inclusive, AWS's documented or our own). The bound stands beside the knob it limits, and
    ``Slice`` checks it when the slice is made."""
    return {"bounds": bounds}


@dataclass(frozen=True)
class Slice:
    """A config slice: on creation every knob declared ``within`` its bounds is checked, named ``SECTION`` + its name in
    the message; a slice with checks across knobs adds them in its ``__post_init__`` after
    ``super().__post_init__()``."""

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for knob in fields(self):
            bounds = knob.metadata.get("bounds")
            value = getattr(self, knob.name)
            if bounds is not None and value is not None:
                require_between(f"{self.SECTION}{knob.name}", value, bounds)
