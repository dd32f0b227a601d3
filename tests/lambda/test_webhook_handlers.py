"""The two webhook functions as their mappings drive them: the fan-out queues one message per
(event, endpoint of the event's merchant that wants it); the delivery makes one attempt per
message, and a failed one comes back later (its visibility set to the backoff, reported failed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from payment_core import contract
from payment_core.events.models import Event, event_id_for
from payment_core.events.store import EventStore
from payment_core.events.verifier import verify_signature
from payment_core.webhooks.endpoints import Endpoints, EndpointStore, SecretBox
from payment_core.webhooks.sending import HttpsSender

from testkit.events import sqs_event
from testkit.https_receiver import Receiver, https_receiver


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with https_receiver(tmp_path) as running:
        monkeypatch.setenv("SSL_CERT_FILE", str(running.ca_file))
        yield running


def register(aws: Any, merchant_id: str, url: str, events: tuple[str, ...]) -> tuple[str, str]:
    service = Endpoints(
        EndpointStore(aws.dynamodb, aws.table(contract.EVENTS_TABLE_NAME)),
        SecretBox(aws.kms, aws.platform_key_id),
        3600,
    )
    endpoint, secret = service.create(merchant_id, url, events)
    return endpoint.endpoint_id, secret


def new_event(aws: Any, merchant_id: str, kind: str = "payment.settled") -> Event:
    created = "2027-01-15T08:00:00.000Z"
    event = Event(
        event_id=event_id_for("payment", f"pay_{merchant_id}", 3, created),
        type=kind,
        created=created,
        merchant_id=merchant_id,
        api_version=contract.EVENTS_API_VERSION,
        data={"object": {"object": "payment", "payment_id": f"pay_{merchant_id}"}},
        expires_at=1_900_000_000,
    )
    assert EventStore(aws.dynamodb, aws.table(contract.EVENTS_TABLE_NAME)).put(event)
    return event


def fan_out_stream(aws: Any, context: Any) -> Any:
    """What the fan-out mapping delivers: the events table's INSERTs (its filter), endpoints' included."""
    records = [{**r, "eventSourceARN": "arn"} for r in aws.stream_records(contract.EVENTS_TABLE_NAME)]
    records = [r for r in records if r["eventName"] == "INSERT"]
    return aws.handlers[contract.WEBHOOK_FANOUT].handler({"Records": records}, context)


def queued(aws: Any) -> list[dict[str, Any]]:
    return aws.sqs.receive_message(
        QueueUrl=aws.webhook_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", [])


def test_one_message_per_event_and_endpoint_of_its_merchant_that_wants_it(aws, context):
    everything, _ = register(aws, "merchant-1", "https://a.merchant.example/", ("*",))
    settled, _ = register(aws, "merchant-1", "https://b.merchant.example/", ("payment.settled", "payment.failed"))
    register(aws, "merchant-1", "https://c.merchant.example/", ("payment.failed",))
    register(aws, "merchant-2", "https://d.other.example/", ("*",))
    event = new_event(aws, "merchant-1")
    assert fan_out_stream(aws, context) == {"batchItemFailures": []}
    messages = queued(aws)
    # The merchant is each message's tenant (SQS fair queues).
    assert [m["Attributes"]["MessageGroupId"] for m in messages] == ["merchant-1", "merchant-1"]
    bodies = sorted((json.loads(m["Body"]) for m in messages), key=lambda body: body["endpoint_id"])
    assert [(b["merchant_id"], b["event_id"], b["endpoint_id"]) for b in bodies] == sorted(
        [("merchant-1", event.event_id, everything), ("merchant-1", event.event_id, settled)],
        key=lambda each: each[2],
    )


def test_an_endpoint_item_on_the_stream_queues_nothing(aws, context):
    register(aws, "merchant-1", "https://a.merchant.example/", ("*",))
    records = [{**r, "eventSourceARN": "arn"} for r in aws.stream_records(contract.EVENTS_TABLE_NAME)]
    assert len(records) == 1  # the endpoint's own INSERT, which the stack's filter passes
    assert aws.handlers[contract.WEBHOOK_FANOUT].handler({"Records": records}, context) == {"batchItemFailures": []}
    assert queued(aws) == []


def test_the_delivery_function_delivers_and_a_failure_comes_back_after_its_backoff(aws, context, receiver):
    aws.handlers[contract.WEBHOOK_DELIVERY].runtime.sender.override(HttpsSender(resolve=lambda _: ["127.0.0.1"]))
    endpoint_id, secret = register(aws, "merchant-1", receiver.url(), ("*",))
    event = new_event(aws, "merchant-1")
    fan_out_stream(aws, context)
    [message] = queued(aws)
    receiver.statuses = [502]
    delivery = aws.handlers[contract.WEBHOOK_DELIVERY]
    assert delivery.handler(sqs_event([message]), context) == {
        "batchItemFailures": [{"itemIdentifier": message["MessageId"]}]
    }
    assert queued(aws) == []  # invisible for its backoff (5-10 s here), not back at once
    assert delivery.handler(sqs_event([message]), context) == {"batchItemFailures": []}
    first, second = receiver.received
    assert first.body == second.body == json.dumps(event.to_public(), separators=(",", ":")).encode()
    verify_signature(second.body, second.headers[contract.WEBHOOK_SIGNATURE_HEADER], secret)
    stored = EventStore(aws.dynamodb, aws.table(contract.EVENTS_TABLE_NAME)).get("merchant-1", event.event_id)
    assert stored is not None
    assert [(a["endpoint_id"], a["status"], a["error"]) for a in stored.delivery_attempts] == [
        (endpoint_id, 502, "HTTP 502"),
        (endpoint_id, 200, None),
    ]
