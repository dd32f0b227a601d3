"""The events' slice of the config: how long a merchant's events are kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.config.checks import Slice, within

# At least a day (a merchant polling /events daily misses nothing); at most a year, past which
# an event is history the audit table already keeps.
EVENT_RETENTION_DAYS = (1, 365)


@dataclass(frozen=True)
class EventsConfig(Slice):
    SECTION = "events."
    # Days an event stays readable on GET /events (the events table's TTL deletes it after).
    retention_days: int = field(metadata=within(EVENT_RETENTION_DAYS))
