"""What config validation answers when one slice of a preset changes: the exact ValueError message."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from lib.config import config_for


def refusal(environment: str, section: str, **changes: Any) -> str:
    """The message of the ValueError that ``environment``'s preset raises once its ``section``
    slice takes ``changes``: checks spanning slices run when the whole config is built."""
    config = config_for(environment)
    with pytest.raises(ValueError) as refused:
        replace(config, **{section: replace(getattr(config, section), **changes)})
    return str(refused.value)
