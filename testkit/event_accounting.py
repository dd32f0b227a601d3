"""Exactly one event per transition: the audit trails of a run against the events table (#20).

Each audit entry (one transition of one payment or refund) must have exactly one event in the
events table under its merchant: the id ``event_id_for`` names (kind, object, sequence, time), the
type ``derived_type`` names. Read from the table the deployed API reads (the API function's
``EVENTS_TABLE_NAME``), so what is counted is what ``GET /events`` answers. The event writer drains
the audit stream on its own pace, retrying under faults: the wait polls until nothing is missing,
bounded.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from payment_core import contract
from payment_core.events.models import DEFAULT_OBJECT, derived_type, event_id_for

from testkit.traffic import PlatformClient

AuditTrails = Mapping[str, Sequence[Mapping[str, Any]]]  # object id -> its audit entries
_POLL_SECONDS = 5.0
_DESERIALIZER = TypeDeserializer()


@dataclass
class EventTally:
    """The counts printed by the chaos test, and what does not hold (empty: one event each)."""

    objects: int = 0
    transitions: int = 0
    events: int = 0  # the events found for these objects, whatever their id
    duplicates: int = 0  # events beyond one per transition (an id no transition names, or one twice)
    missing: int = 0  # transitions without their event
    mistyped: int = 0  # events whose type is not the one their transition derives
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.objects} objects, {self.transitions} transitions, {self.events} events, "
            f"duplicates {self.duplicates}, missing {self.missing}, mistyped {self.mistyped}"
        )


def events_table(client: PlatformClient) -> str:
    """The events table the deployed API reads (``GET /events``)."""
    configuration = client.client("lambda").get_function_configuration(FunctionName=client.outputs["api_function_name"])
    return str(configuration["Environment"]["Variables"][contract.EVENTS_TABLE_NAME])


def merchant_events(client: PlatformClient, table: str, merchant_id: str) -> list[dict[str, Any]]:
    """Every event stored for ``merchant_id`` (one Query, paged), read consistently."""
    paginator = client.client("dynamodb").get_paginator("query")
    pages = paginator.paginate(
        TableName=table,
        KeyConditionExpression="merchant_id = :m",
        ExpressionAttributeValues={":m": {"S": merchant_id}},
        ConsistentRead=True,
    )
    return [
        {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}
        for page in pages
        for item in page["Items"]
    ]


def _object_id(event: Mapping[str, Any]) -> str:
    """Which payment or refund an event is about (its snapshot's own id)."""
    snapshot = event.get("data", {}).get("object", {})
    kind = snapshot.get("object", DEFAULT_OBJECT)
    return str(snapshot.get("refund_id" if kind == "refund" else "payment_id", ""))


def tally(trails: AuditTrails, events: Sequence[Mapping[str, Any]]) -> EventTally:
    """Each object's transitions against the events found about it."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for event in events:
        if _object_id(event) in trails:
            found.setdefault(_object_id(event), []).append(event)
    result = EventTally(objects=len(trails))
    for object_id, entries in trails.items():
        expected = {
            event_id_for(
                str(entry.get("object", DEFAULT_OBJECT)), object_id, int(entry["sequence"]), str(entry["at"])
            ): derived_type(str(entry.get("object", DEFAULT_OBJECT)), str(entry["to_status"]))
            for entry in entries
        }
        own = found.get(object_id, [])
        ids = Counter(str(event["event_id"]) for event in own)
        result.transitions += len(entries)
        result.events += len(own)
        missing = [event_id for event_id in expected if event_id not in ids]
        extra = len(own) - sum(1 for event_id in ids if event_id in expected)
        wrong = [
            event for event in own if event["event_id"] in expected and event["type"] != expected[event["event_id"]]
        ]
        result.missing += len(missing) + (len(entries) - len(expected))  # two entries, one id: one is missing
        result.duplicates += extra
        result.mistyped += len(wrong)
        if missing or extra or wrong:
            result.problems.append(
                f"{object_id}: {len(entries)} transitions, events {sorted(ids.elements())}, missing {missing}, "
                f"types {[(event['event_id'], event['type']) for event in wrong]}"
            )
    return result


def one_event_per_transition(client: PlatformClient, trails: AuditTrails, timeout: float) -> tuple[EventTally, float]:
    """(the tally once nothing is missing, or at ``timeout``; the seconds waited for the writer)."""
    table = events_table(client)
    merchants = sorted({str(entry["merchant_id"]) for entries in trails.values() for entry in entries})
    started = time.monotonic()
    while True:
        events = [event for merchant_id in merchants for event in merchant_events(client, table, merchant_id)]
        result = tally(trails, events)
        if result.missing == 0 or time.monotonic() - started > timeout:
            return result, time.monotonic() - started
        time.sleep(_POLL_SECONDS)
