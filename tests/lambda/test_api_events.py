"""GET /events and GET /events/{event_id}: the caller's events only, filtered, signed pages."""

from __future__ import annotations

from typing import Any

import pytest
from payment_core import contract
from payment_core.api import page_tokens
from payment_core.events.models import Event, event_id_for
from payment_core.events.store import EventStore

from testkit.api import VALID_BODY, call, post
from testkit.events import api_event


def get(aws: Any, context: Any, path: str, merchant_id: str = "merchant-1", **query: str) -> tuple[int, Any]:
    return call(aws, context, api_event("GET", path, query=query or None, merchant_id=merchant_id))


def get_event(aws: Any, context: Any, event_id: str, merchant_id: str = "merchant-1") -> tuple[int, Any]:
    event = api_event(
        "GET",
        f"/events/{event_id}",
        resource="/events/{event_id}",
        path_parameters={"event_id": event_id},
        merchant_id=merchant_id,
    )
    return call(aws, context, event)


def event(merchant_id: str, minute: int, kind: str, sequence: int = 1) -> Event:
    created = f"2026-01-01T10:{minute:02d}:00.000Z"
    return Event(
        event_id=event_id_for("payment", f"pay_{merchant_id}_{minute}", sequence, created),
        type=kind,
        created=created,
        merchant_id=merchant_id,
        api_version=contract.EVENTS_API_VERSION,
        data={"object": {"payment_id": f"pay_{merchant_id}_{minute}", "object": "payment"}},
        expires_at=1_900_000_000,
    )


@pytest.fixture
def stored(aws: Any) -> list[Event]:
    """Six events of merchant-1 (minutes 0-5, settled on odd minutes), two of merchant-2."""
    store = EventStore(aws.dynamodb, aws.table(contract.EVENTS_TABLE_NAME))
    mine = [event("merchant-1", m, "payment.settled" if m % 2 else "payment.created") for m in range(6)]
    for each in [*mine, event("merchant-2", 0, "payment.created"), event("merchant-2", 1, "payment.settled")]:
        assert store.put(each)
    return mine


def test_lists_only_the_callers_events_oldest_first(aws, context, stored):
    status, body = get(aws, context, "/events")
    assert status == 200
    assert [item["id"] for item in body["items"]] == [e.event_id for e in stored]
    assert body["items"][0] == stored[0].to_public()
    assert body["next_token"] is None
    status, other = get(aws, context, "/events", merchant_id="merchant-2")
    assert [item["merchant_id"] for item in other["items"]] == ["merchant-2", "merchant-2"]


def test_filters_by_type_and_inclusive_time_bounds(aws, context, stored):
    status, body = get(aws, context, "/events", type="payment.settled")
    assert status == 200
    assert [item["id"] for item in body["items"]] == [stored[1].event_id, stored[3].event_id, stored[5].event_id]
    window = {"from": "2026-01-01T11:01:00+01:00", "to": "2026-01-01T10:03:00.000Z"}
    status, body = get(aws, context, "/events", **window)
    assert [item["id"] for item in body["items"]] == [e.event_id for e in stored[1:4]]


def test_pages_with_a_token_bound_to_the_type_filter(aws, context, stored):
    status, first = get(aws, context, "/events", limit="2")
    assert status == 200 and len(first["items"]) == 2
    status, second = get(aws, context, "/events", limit="2", next_token=first["next_token"])
    assert [item["id"] for item in second["items"]] == [e.event_id for e in stored[2:4]]
    # The same token with another filter, or for another merchant, is refused, not obeyed.
    status, body = get(aws, context, "/events", limit="2", type="payment.settled", next_token=first["next_token"])
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "invalid_request", "next_token")
    status, body = get(aws, context, "/events", merchant_id="merchant-2", limit="2", next_token=first["next_token"])
    assert (status, body["error"]["field"]) == (400, "next_token")


def test_one_event_with_its_delivery_attempts(aws, context, stored):
    status, body = get_event(aws, context, stored[0].event_id)
    assert status == 200
    assert body == stored[0].to_public() | {"delivery_attempts": []}


def test_another_merchants_event_is_answered_exactly_like_a_missing_one(aws, context, stored):
    theirs = event("merchant-2", 0, "payment.created").event_id
    missing = event("merchant-9", 0, "payment.created").event_id
    status_theirs, body_theirs = get_event(aws, context, theirs)
    status_missing, body_missing = get_event(aws, context, missing)
    assert status_theirs == status_missing == 404
    assert body_theirs["error"]["code"] == body_missing["error"]["code"] == "not_found"
    message_theirs, message_missing = body_theirs["error"]["message"], body_missing["error"]["message"]
    assert message_theirs.replace(theirs, "ID") == message_missing.replace(missing, "ID")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"type": "Payment.Settled"}, "type"),
        ({"type": "payment"}, "type"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"limit": "0"}, "limit"),
        ({"payment_id": "pay_1"}, "payment_id"),
        ({"next_token": "v1.e30.AAAA"}, "next_token"),
    ],
)
def test_a_malformed_query_is_400_naming_the_field(aws, context, query, field):
    status, body = get(aws, context, "/events", **query)
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "invalid_request", field)


def test_a_malformed_event_id_is_400(aws, context):
    status, body = get_event(aws, context, "pay_123")
    assert (status, body["error"]["field"]) == (400, "event_id")


def test_a_payments_transitions_reach_its_merchant_through_the_stream(aws, context):
    status, accepted = post(aws, context, VALID_BODY, key="events-1")
    assert status == 202
    records = [r for r in aws.stream_records(contract.AUDIT_TABLE_NAME) if r["eventName"] == "INSERT"]
    writer = aws.handlers[contract.EVENT_WRITER]
    assert writer.handler({"Records": [{**r, "eventSourceARN": "arn"} for r in records]}, context) == {
        "batchItemFailures": []
    }
    status, body = get(aws, context, "/events", type="payment.created")
    assert status == 200
    [item] = body["items"]
    assert item["data"]["object"]["payment_id"] == accepted["payment_id"]
    assert get(aws, context, "/events", merchant_id="merchant-2")[1]["items"] == []


def test_payment_and_event_lists_share_one_page_token_key_ring(aws: Any, context: Any, monkeypatch: Any) -> None:
    """The KeyRing (and its KMS signers) is built once per execution environment, not per kind of list."""
    rings: list[page_tokens.KeyRing] = []

    class RecordedKeyRing(page_tokens.KeyRing):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            rings.append(self)

    # Where the api handler looks it up, on the first list request (it imports page_tokens then).
    monkeypatch.setattr(page_tokens, "KeyRing", RecordedKeyRing)

    assert get(aws, context, "/payments", merchant_id="merchant-1")[0] == 200
    assert get(aws, context, "/events")[0] == 200
    assert get(aws, context, "/events")[0] == 200

    assert len(rings) == 1
