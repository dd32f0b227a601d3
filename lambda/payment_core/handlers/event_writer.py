"""The event writer: one event object per audit record on the audit table's stream.

The event source mapping delivers only ``INSERT`` records (its filter; the audit table is
append-only, so every transition is exactly one INSERT) with the new image. Each becomes its
event (payment_core.events.models), written only if its id is not there yet: a record the
stream delivers again, or a batch the mapping retries after a partial failure, writes nothing
twice. A write that fails is reported in ``batchItemFailures`` and retried in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from payment_core import contract
from payment_core.events.models import Event, NotAnEventSource
from payment_core.events.store import EventStore
from payment_core.partial_batch import STREAM_RECORDS, StreamRecord
from payment_core.runtime import FunctionRuntime
from payment_core.settings import DAY, EventsEnvironment, duration


@dataclass(frozen=True)
class EventWriterEnvironment(EventsEnvironment):
    """The events table, and how long an event is kept."""

    retention: timedelta = field(metadata=duration(contract.EVENT_RETENTION_DAYS, DAY))


runtime = FunctionRuntime(contract.EVENT_WRITER, EventWriterEnvironment)
event_store = runtime.cached(lambda: EventStore(runtime.dynamodb(), runtime.environment().events_table))


@runtime.tracer.capture_method(capture_response=False)
def record_handler(record: StreamRecord) -> str:
    image = dict(record.new_image)
    try:
        event = Event.from_audit(image, runtime.environment().retention)
    except NotAnEventSource as reason:
        # An entry written before events existed: nothing to tell a merchant it has not been told.
        runtime.logger.warning("audit record without an event", extra={"reason": str(reason)})
        runtime.count("EventSkipped")
        return ""
    written = event_store().put(event)
    runtime.count("EventWritten" if written else "EventAlreadyWritten")
    return event.event_id


handler = runtime.partial_batch_handler(STREAM_RECORDS, record_handler)
