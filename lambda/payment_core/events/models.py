"""The event object: what a merchant reads on ``GET /events`` (and, later, receives on its endpoints).

Each event is derived from one audit record (one transition of one object), so it is built the
same way however often the stream delivers that record: its id is a function of the record
(``event_id_for``), and the store writes it only if absent. The audit record carries what the
event needs (the merchant, the object's kind and a snapshot of it just after the transition),
written in the transition's own transaction, so the event shows the object as it was then, not
as it is when the stream is read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from payment_core import contract
from payment_core.items import decode_item

# The object an audit record is about, when the record does not say (every audit record before
# captures, voids and refunds existed is a payment's).
DEFAULT_OBJECT: Final = "payment"

# (object, status it moved to) -> the event type. A new transition type is one line here; one
# not listed still produces its event, typed ``<object>.<status in lower case>`` (derived_type),
# so nothing is dropped while its line is missing.
EVENT_TYPES: Final[dict[tuple[str, str], str]] = {
    ("payment", "PENDING"): "payment.created",
    ("payment", "VALIDATED"): "payment.validated",
    ("payment", "AUTHORIZED"): "payment.authorized",
    ("payment", "SETTLED"): "payment.settled",
    ("payment", "FAILED"): "payment.failed",
    ("payment", "VOIDED"): "payment.voided",
    ("payment", "EXPIRED"): "payment.expired",
    ("payment", "CAPTURED"): "payment.captured",
    ("refund", "PENDING"): "refund.created",
    ("refund", "SUCCEEDED"): "refund.succeeded",
    ("refund", "FAILED"): "refund.failed",
    # Written by webhook delivery when an endpoint fails past the horizon (payment_core.webhooks).
    ("webhook_endpoint", "DISABLED"): "endpoint.disabled",
}
# What a webhook endpoint may subscribe to (``enabled_events``), besides everything (``*``).
KNOWN_EVENT_TYPES: Final[tuple[str, ...]] = tuple(sorted(set(EVENT_TYPES.values())))

EVENT_ID = re.compile(contract.EVENT_ID_PATTERN)
_ID_DIGEST_HEX = 20


class NotAnEventSource(ValueError):
    """An audit record without what an event needs (written before events existed)."""


def derived_type(object_kind: str, status: str) -> str:
    return EVENT_TYPES.get((object_kind, status), f"{object_kind}.{status.lower()}")


def compact_time(timestamp: str) -> str:
    """``2026-12-03T04:05:06.789Z`` -> ``20261203T040506789Z`` (still sorts as text)."""
    return timestamp.replace("-", "").replace(":", "").replace(".", "")


def event_id_for(object_kind: str, object_id: str, sequence: int, created: str) -> str:
    """The one id of the event of transition ``sequence`` of ``object_id``: its time first (the
    table's range key sorts by it), then a digest of which transition it is."""
    digest = hashlib.sha256(f"{object_kind}:{object_id}:{sequence}".encode()).hexdigest()[:_ID_DIGEST_HEX]
    return f"evt_{compact_time(created)}_{digest}"


def is_event_id(value: object) -> bool:
    return isinstance(value, str) and EVENT_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Event:
    """One event a merchant can read and receive by webhook."""

    event_id: str
    type: str
    created: str
    merchant_id: str
    api_version: str
    data: dict[str, Any]
    expires_at: int
    delivery_attempts: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_audit(cls, image: Mapping[str, Any], retention: timedelta) -> Event:
        """The event of one audit record (its stream image, deserialized)."""
        merchant_id, snapshot = image.get("merchant_id"), image.get("snapshot")
        if not isinstance(merchant_id, str) or not isinstance(snapshot, dict):
            raise NotAnEventSource(f"audit record {image.get('payment_id')}#{image.get('sequence')} has no snapshot")
        object_kind = str(image.get("object", DEFAULT_OBJECT))
        object_id, sequence, created = str(image["payment_id"]), int(image["sequence"]), str(image["at"])
        expires = datetime.fromisoformat(created.replace("Z", "+00:00")) + retention
        return cls(
            event_id=event_id_for(object_kind, object_id, sequence, created),
            type=derived_type(object_kind, str(image["to_status"])),
            created=created,
            merchant_id=merchant_id,
            api_version=contract.EVENTS_API_VERSION,
            data={"object": {**_plain(snapshot), "object": object_kind}},
            expires_at=int(expires.timestamp()),
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "event_id": self.event_id,
            "type": self.type,
            "created": self.created,
            "api_version": self.api_version,
            "data": self.data,
            contract.EVENT_EXPIRES_AT: self.expires_at,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Event:
        return decode_item(
            cls,
            item,
            {"data": _plain, "expires_at": int, "delivery_attempts": _plain_each},
            attributes={"expires_at": contract.EVENT_EXPIRES_AT},
        )

    def to_public(self) -> dict[str, Any]:
        """The event as merchants see it (and as webhooks will carry it)."""
        return {
            "id": self.event_id,
            "object": "event",
            "type": self.type,
            "created": self.created,
            "merchant_id": self.merchant_id,
            "api_version": self.api_version,
            "data": self.data,
        }


def _plain_each(values: Any) -> tuple[Any, ...]:
    return tuple(_plain(each) for each in values)


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints (every number an event carries is a count or a version;
    amounts are strings; a fraction would stay exact as a string), recursively: JSON-ready."""
    if isinstance(value, dict):
        return {key: _plain(each) for key, each in value.items()}
    if isinstance(value, list):
        return [_plain(each) for each in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value
