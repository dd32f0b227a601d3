"""Resource names: ``<name>-<suffix>``, one function so every construct names things alike."""

from __future__ import annotations

from lib.config import SUFFIX_PATTERN, SUFFIX_RULE


def validate_suffix(suffix: str) -> str:
    # fullmatch: with match, "$" would also accept a trailing newline.
    if not SUFFIX_PATTERN.fullmatch(suffix):
        raise ValueError(f"ENVIRONMENT_SUFFIX must be {SUFFIX_RULE}, got {suffix!r}")
    return suffix


class Namer:
    """Builds suffixed names; constructs receive one instead of the raw suffix."""

    def __init__(self, suffix: str) -> None:
        self.suffix = validate_suffix(suffix)

    def __call__(self, name: str) -> str:
        return f"{name}-{self.suffix}"
