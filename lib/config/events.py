"""The events' slice of the config: how long a merchant's events are kept."""

from __future__ import annotations

from dataclasses import dataclass

from lib.config.checks import require_between

# At least a day (a merchant polling /events daily misses nothing); at most a year, past which
# an event is history the audit table already keeps.
EVENT_RETENTION_DAYS = (1, 365)


@dataclass(frozen=True)
class EventsConfig:
    # Days an event stays readable on GET /events (the events table's TTL deletes it after).
    retention_days: int

    def __post_init__(self) -> None:
        require_between("events.retention_days", self.retention_days, EVENT_RETENTION_DAYS)
