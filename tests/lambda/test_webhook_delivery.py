"""One delivery attempt for real, over HTTPS to a local receiver: signed (verifiable with the
merchants' verifier), recorded on the event, retried with jittered exponential backoff, refused
when the host resolves to a private address at delivery time, and past the horizon the endpoint
disabled with its ``endpoint.disabled`` event coming out of the one event writer."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from payment_core import contract
from payment_core.events.destinations import Destination, resolve_public
from payment_core.events.models import Event, event_id_for
from payment_core.events.store import EventStore
from payment_core.events.verifier import InvalidSignature, verify_signature
from payment_core.payments.repository import from_attributes
from payment_core.webhooks.delivery import (
    Delivery,
    DeliveryRecords,
    DeliveryTask,
    Outcome,
    Schedule,
    backoff_seconds,
)
from payment_core.webhooks.endpoints import Endpoints, EndpointStore, SecretBox
from payment_core.webhooks.sending import HttpsSender

from testkit.https_receiver import Receiver, https_receiver

SCHEDULE = Schedule(horizon_seconds=120, backoff_base_seconds=5, backoff_cap_seconds=40)
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with https_receiver(tmp_path) as running:
        # The default trust store, as the delivery uses it: the receiver's CA through SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", str(running.ca_file))
        yield running


def local(destination: Destination) -> list[str]:
    """The receiver's address: the override of the delivery's resolution for a server on loopback."""
    return ["127.0.0.1"]


def private_dns(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
    """A name that resolved publicly at registration and now answers a private address (rebinding)."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]


def box(aws: Any) -> SecretBox:
    return SecretBox(aws.kms, aws.platform_key_id)


def endpoints(aws: Any, clock: Clock) -> Endpoints:
    return Endpoints(EndpointStore(aws.dynamodb, aws.table(contract.EVENTS_TABLE_NAME)), box(aws), 3600, clock)


def delivery(aws: Any, clock: Clock, sender: HttpsSender) -> Delivery:
    records = DeliveryRecords(aws.dynamodb, aws.table(contract.EVENTS_TABLE_NAME), aws.table(contract.AUDIT_TABLE_NAME))
    return Delivery(records, box(aws), SCHEDULE, sender, clock, rand=lambda: 1.0)


def stored_event(aws: Any, merchant_id: str = "merchant-1") -> Event:
    created = "2027-01-15T08:00:00.000Z"
    event = Event(
        event_id=event_id_for("payment", "pay_1", 3, created),
        type="payment.settled",
        created=created,
        merchant_id=merchant_id,
        api_version=contract.EVENTS_API_VERSION,
        data={"object": {"object": "payment", "payment_id": "pay_1", "status": "SETTLED"}},
        expires_at=1_900_000_000,
    )
    assert EventStore(aws.dynamodb, aws.table(contract.EVENTS_TABLE_NAME)).put(event)
    return event


def attempts(aws: Any, event: Event) -> list[dict[str, Any]]:
    found = EventStore(aws.dynamodb, aws.table(contract.EVENTS_TABLE_NAME)).get(event.merchant_id, event.event_id)
    assert found is not None
    return list(found.delivery_attempts)


def test_a_delivery_is_the_event_signed_and_is_recorded(aws, receiver):
    clock = Clock()
    endpoint, secret = endpoints(aws, clock).create("merchant-1", receiver.url("/hooks?src=tap"), ("*",))
    event = stored_event(aws)
    task = DeliveryTask("merchant-1", event.event_id, endpoint.endpoint_id, NOW)
    result = delivery(aws, clock, HttpsSender(resolve=local)).attempt(task, 1)
    assert result.outcome is Outcome.DELIVERED
    [got] = receiver.received
    assert got.path == "/hooks?src=tap"
    assert json.loads(got.body) == event.to_public()
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Host"] == f"hooks.merchant.example:{receiver.port}"
    header = got.headers[contract.WEBHOOK_SIGNATURE_HEADER]
    assert verify_signature(got.body, header, secret, now=NOW + 1) == int(NOW)
    [attempt] = attempts(aws, event)
    assert attempt["at"] == "2027-01-15T08:00:00.000Z" and attempt["endpoint_id"] == endpoint.endpoint_id
    assert (attempt["status"], attempt["error"]) == (200, None) and attempt["latency_ms"] >= 0


def test_during_a_rotations_overlap_both_secrets_sign_and_after_it_only_the_new(aws, receiver):
    clock = Clock()
    service = endpoints(aws, clock)
    endpoint, old = service.create("merchant-1", receiver.url(), ("payment.settled",))
    new = service.rotate("merchant-1", endpoint.endpoint_id).secret
    event = stored_event(aws)
    task = DeliveryTask("merchant-1", event.event_id, endpoint.endpoint_id, NOW)
    deliver = delivery(aws, clock, HttpsSender(resolve=local))
    assert deliver.attempt(task, 1).outcome is Outcome.DELIVERED
    during = receiver.received[-1]
    header = during.headers[contract.WEBHOOK_SIGNATURE_HEADER]
    assert header.count("v1=") == 2
    for secret in (old, new):
        verify_signature(during.body, header, secret, now=clock.now)
    clock.now = NOW + 3600  # the overlap (3600 s) is over
    assert deliver.attempt(task, 1).outcome is Outcome.DELIVERED
    after = receiver.received[-1]
    header = after.headers[contract.WEBHOOK_SIGNATURE_HEADER]
    assert header.count("v1=") == 1
    verify_signature(after.body, header, new, now=clock.now)
    with pytest.raises(InvalidSignature, match="no v1 matches this secret"):
        verify_signature(after.body, header, old, now=clock.now)


def test_a_host_resolving_to_a_private_address_at_delivery_is_refused_and_recorded(aws, receiver):
    clock = Clock()
    endpoint, _ = endpoints(aws, clock).create("merchant-1", receiver.url(), ("*",))
    event = stored_event(aws)
    rebinding = HttpsSender(resolve=lambda destination: resolve_public(destination, private_dns))
    result = delivery(aws, clock, rebinding).attempt(
        DeliveryTask("merchant-1", event.event_id, endpoint.endpoint_id, NOW), 1
    )
    assert (result.outcome, result.retry_after_seconds) == (Outcome.RETRY, 5)
    assert receiver.received == []  # nothing was sent anywhere
    [attempt] = attempts(aws, event)
    assert (attempt["status"], attempt["error"]) == (
        None,
        "url's host resolves to a private, loopback, link-local or metadata address",
    )


def test_an_untrusted_certificate_fails_the_attempt(aws, receiver, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    clock = Clock()
    endpoint, _ = endpoints(aws, clock).create("merchant-1", receiver.url(), ("*",))
    event = stored_event(aws)
    task = DeliveryTask("merchant-1", event.event_id, endpoint.endpoint_id, NOW)
    assert delivery(aws, clock, HttpsSender(resolve=local)).attempt(task, 1).outcome is Outcome.RETRY
    [attempt] = attempts(aws, event)
    assert attempt["status"] is None and attempt["error"].startswith("SSLCertVerificationError: ")
    assert receiver.received == []


def test_retries_back_off_then_past_the_horizon_the_endpoint_is_disabled_with_its_event(aws, receiver, context):
    clock = Clock()
    endpoint, _ = endpoints(aws, clock).create("merchant-1", receiver.url(), ("*",))
    event = stored_event(aws)
    receiver.statuses = [500, 503, 404, 500, 500]
    deliver = delivery(aws, clock, HttpsSender(resolve=local))
    task = DeliveryTask("merchant-1", event.event_id, endpoint.endpoint_id, NOW)
    waits = []
    for attempt_number in range(1, 5):
        result = deliver.attempt(task, attempt_number)
        assert result.outcome is Outcome.RETRY
        waits.append(result.retry_after_seconds)
        clock.now += result.retry_after_seconds
    assert waits == [5, 10, 20, 40]  # base 5 s doubling, capped at 40 s (jitter factor 1 here)
    assert clock.now - NOW == 75 < SCHEDULE.horizon_seconds
    clock.now = NOW + SCHEDULE.horizon_seconds
    assert deliver.attempt(task, 5).outcome is Outcome.DISABLED
    assert [a["status"] for a in attempts(aws, event)] == [500, 503, 404, 500, 500]
    assert [a["error"] for a in attempts(aws, event)] == ["HTTP 500", "HTTP 503", "HTTP 404", "HTTP 500", "HTTP 500"]
    assert endpoints(aws, clock).get("merchant-1", endpoint.endpoint_id).status == "disabled"
    # Nothing more goes to a disabled endpoint; a second delivery past the horizon disables nothing twice.
    assert deliver.attempt(task, 6).outcome is Outcome.DROPPED
    assert len(receiver.received) == 5
    # The endpoint.disabled event comes out of the event writer, from the audit table's stream.
    inserts = [r for r in aws.stream_records(contract.AUDIT_TABLE_NAME) if r["eventName"] == "INSERT"]
    writer = aws.handlers[contract.EVENT_WRITER]
    assert writer.handler({"Records": [{**r, "eventSourceARN": "arn"} for r in inserts]}, context) == {
        "batchItemFailures": []
    }
    items = aws.dynamodb.query(
        TableName=aws.table(contract.EVENTS_TABLE_NAME),
        KeyConditionExpression="merchant_id = :m AND begins_with(event_id, :e)",
        ExpressionAttributeValues={":m": {"S": "merchant-1"}, ":e": {"S": "evt_"}},
    )["Items"]
    disabled = [from_attributes(item) for item in items if item["type"]["S"] == "endpoint.disabled"]
    [only] = disabled
    assert only["data"]["object"] | {"created": "T"} == endpoint.to_public() | {
        "status": "disabled",
        "object": "webhook_endpoint",
        "created": "T",
    }


def test_the_backoff_is_exponential_capped_and_jittered_down_to_half():
    schedule = Schedule(horizon_seconds=3 * 24 * 3600, backoff_base_seconds=30, backoff_cap_seconds=21_600)
    longest = [backoff_seconds(n, schedule, lambda: 1.0) for n in range(1, 12)]
    shortest = [backoff_seconds(n, schedule, lambda: 0.0) for n in range(1, 12)]
    assert longest == [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600]
    assert shortest == [15, 30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 10800]
    assert backoff_seconds(1, Schedule(60, 1, 1), lambda: 0.0) == 1  # never zero


def test_a_deleted_endpoint_or_an_expired_event_is_dropped_without_a_request(aws, receiver):
    clock = Clock()
    service = endpoints(aws, clock)
    endpoint, _ = service.create("merchant-1", receiver.url(), ("*",))
    event = stored_event(aws)
    deliver = delivery(aws, clock, HttpsSender(resolve=local))
    missing_event = DeliveryTask("merchant-1", "evt_20270115T080000000Z_" + "0" * 20, endpoint.endpoint_id, NOW)
    assert deliver.attempt(missing_event, 1).outcome is Outcome.DROPPED
    service.delete("merchant-1", endpoint.endpoint_id)
    assert deliver.attempt(DeliveryTask("merchant-1", event.event_id, endpoint.endpoint_id, NOW), 1).outcome is (
        Outcome.DROPPED
    )
    # Another merchant's endpoint id under this merchant's event finds nothing either.
    theirs, _ = service.create("merchant-2", receiver.url(), ("*",))
    assert deliver.attempt(DeliveryTask("merchant-1", event.event_id, theirs.endpoint_id, NOW), 1).outcome is (
        Outcome.DROPPED
    )
    assert receiver.received == []
