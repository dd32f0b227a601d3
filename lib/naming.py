"""Resource names: ``<name>-<suffix>``, one function so every construct names things alike."""

from __future__ import annotations

import re

# Suffixes end up in S3 bucket names (lowercase, digits, hyphens) and are kept short
# enough that the longest name stays within every AWS limit (see tests/security/test_names.py).
SUFFIX_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$")
SUFFIX_RULE = "1-20 characters of a-z, 0-9 and '-', starting and ending with a letter or digit"


def validate_suffix(suffix: str) -> str:
    # fullmatch: with match, "$" would also accept a trailing newline.
    if not SUFFIX_PATTERN.fullmatch(suffix):
        raise ValueError(f"ENVIRONMENT_SUFFIX must be {SUFFIX_RULE}, got {suffix!r}")
    return suffix


class Namer:
    """Builds suffixed names; constructs receive one instead of the raw suffix."""

    def __init__(self, suffix: str) -> None:
        self.suffix: str = validate_suffix(suffix)

    def __call__(self, name: str) -> str:
        return f"{name}-{self.suffix}"
