"""The sweeper's slice of the config: how often it looks for payments left non-final.

How long a payment may stay non-final before it is re-driven is not a knob: the stack derives it
from the workflow's execution timeout (lib/components/sweeper.py), so the sweeper never re-drives
a payment whose execution may still be running on time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.config.checks import Slice, within

# EventBridge Scheduler's rate() takes whole minutes; past a day, a lost payment waits too long.
SWEEP_INTERVAL_MINUTES = (1, 1_440)


@dataclass(frozen=True)
class SweeperConfig(Slice):
    SECTION = "sweeper."
    interval_minutes: int = field(metadata=within(SWEEP_INTERVAL_MINUTES))
