"""event_writer: exactly one event object per audit record, however often the stream delivers it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from accepted import accept
from botocore.exceptions import ClientError
from payment_core import contract
from payment_core.events.models import EVENT_ID, EVENT_TYPES, Event, derived_type, event_id_for
from payment_core.payments.models import PaymentStatus
from payment_core.payments.repository import PaymentRepository, from_attributes

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/payment-audit-test/stream/x"


def settle(aws: Any, payment_id: str) -> None:
    repository = PaymentRepository(
        aws.dynamodb, aws.table(contract.PAYMENTS_TABLE_NAME), aws.table(contract.AUDIT_TABLE_NAME)
    )
    for target in (PaymentStatus.VALIDATED, PaymentStatus.AUTHORIZED, PaymentStatus.SETTLED):
        payment = repository.get(payment_id)
        assert payment is not None
        updates = {"processor_ref": "ref-1"} if target == PaymentStatus.SETTLED else None
        repository.transition(payment, target, "test", updates=updates)


def audit_inserts(aws: Any) -> list[dict[str, Any]]:
    records = aws.stream_records(contract.AUDIT_TABLE_NAME)
    return [{**r, "eventSourceARN": STREAM_ARN} for r in records if r["eventName"] == "INSERT"]


def write(aws: Any, context: Any, records: list[dict[str, Any]]) -> Any:
    return aws.handlers[contract.EVENT_WRITER].handler({"Records": records}, context)


def events(aws: Any) -> list[dict[str, Any]]:
    items = aws.dynamodb.scan(TableName=aws.table(contract.EVENTS_TABLE_NAME), ConsistentRead=True)["Items"]
    return sorted((from_attributes(item) for item in items), key=lambda item: str(item["event_id"]))


def test_one_event_per_transition_typed_and_with_the_payment_as_of_that_transition(aws, context):
    payment_id = accept(aws, context, merchant_id=None, key="k1")
    settle(aws, payment_id)

    assert write(aws, context, audit_inserts(aws)) == {"batchItemFailures": []}

    stored = [Event.from_item(item) for item in events(aws)]
    assert [e.type for e in stored] == ["payment.created", "payment.validated", "payment.authorized", "payment.settled"]
    assert [e.data["object"]["status"] for e in stored] == ["PENDING", "VALIDATED", "AUTHORIZED", "SETTLED"]
    assert [e.data["object"]["version"] for e in stored] == [1, 2, 3, 4]
    # The settlement's own field is in its event, not in the earlier ones (snapshot, not a re-read).
    assert [e.data["object"].get("processor_ref") for e in stored] == [None, None, None, "ref-1"]
    assert {e.merchant_id for e in stored} == {"merchant-1"}
    assert {e.api_version for e in stored} == {contract.EVENTS_API_VERSION}
    assert all(EVENT_ID.fullmatch(e.event_id) for e in stored)
    audit = sorted(aws.audit(payment_id), key=lambda entry: int(entry["sequence"]))
    assert [e.created for e in stored] == [entry["at"] for entry in audit]
    first = stored[0]
    created = datetime.fromisoformat(first.created.replace("Z", "+00:00"))
    assert first.expires_at == int((created + timedelta(days=30)).timestamp())
    assert first.to_public() == {
        "id": first.event_id,
        "object": "event",
        "type": "payment.created",
        "created": first.created,
        "merchant_id": "merchant-1",
        "api_version": contract.EVENTS_API_VERSION,
        "data": {"object": first.data["object"]},
    }
    assert first.data["object"]["payment_id"] == payment_id and first.data["object"]["object"] == "payment"
    assert first.data["object"]["amount"] == "10.00"


def test_redelivered_and_retried_records_write_each_event_once(aws, context):
    for key in ("k1", "k2"):
        settle(aws, accept(aws, context, merchant_id=None, key=key))
    records = audit_inserts(aws)
    assert len(records) == 8

    # The first half, then the whole stream again (a retried batch), then each record twice.
    assert write(aws, context, records[:4]) == {"batchItemFailures": []}
    first_ids = [item["event_id"] for item in events(aws)]
    assert write(aws, context, records) == {"batchItemFailures": []}
    assert write(aws, context, [r for r in records for _ in range(2)]) == {"batchItemFailures": []}

    stored = events(aws)
    print(f"audit records: {len(records)}, deliveries: {4 + 8 + 16}, events: {len(stored)}")
    assert len(stored) == 8
    assert set(first_ids) <= {item["event_id"] for item in stored}
    pairs = {(item["data"]["object"]["payment_id"], int(item["data"]["object"]["version"])) for item in stored}
    assert len(pairs) == 8


def test_a_failed_write_is_reported_so_the_mapping_retries_that_record_alone(aws, context):
    accept(aws, context, merchant_id=None, key="k1")
    [record] = audit_inserts(aws)
    runtime = aws.handlers[contract.EVENT_WRITER].runtime

    class Throttled:
        def put_item(self, **_: Any) -> None:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
            raise ClientError(error, "PutItem")  # type: ignore[arg-type]

    runtime.dynamodb.override(Throttled())
    failed = {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    assert write(aws, context, [record]) == failed
    assert events(aws) == []
    runtime.dynamodb.override(aws.dynamodb)
    assert write(aws, context, [record]) == {"batchItemFailures": []}
    assert len(events(aws)) == 1


def test_an_audit_record_written_before_events_existed_is_skipped_not_failed(aws, context):
    aws.dynamodb.put_item(
        TableName=aws.table(contract.AUDIT_TABLE_NAME),
        Item={
            "payment_id": {"S": "pay_old"},
            "sequence": {"N": "1"},
            "from_status": {"S": "NONE"},
            "to_status": {"S": "PENDING"},
            "at": {"S": "2026-01-01T00:00:00.000Z"},
            "actor": {"S": "api"},
        },
    )
    assert write(aws, context, audit_inserts(aws)) == {"batchItemFailures": []}
    assert events(aws) == []


def test_the_event_id_is_the_transitions_and_sorts_by_time() -> None:
    first = event_id_for("payment", "pay_1", 1, "2026-12-03T04:05:06.789Z")
    assert first == event_id_for("payment", "pay_1", 1, "2026-12-03T04:05:06.789Z")
    assert first.startswith("evt_20261203T040506789Z_") and EVENT_ID.fullmatch(first)
    assert first != event_id_for("payment", "pay_1", 2, "2026-12-03T04:05:06.789Z")
    assert first != event_id_for("refund", "pay_1", 1, "2026-12-03T04:05:06.789Z")
    assert first < event_id_for("payment", "pay_0", 1, "2026-12-03T04:05:06.790Z")
    assert len(first) <= 64  # an API path parameter and a DynamoDB key, within the contract's id limit


@pytest.mark.parametrize("status", [s.value for s in PaymentStatus])
def test_every_payment_status_has_its_event_type(status: str) -> None:
    assert ("payment", status) in EVENT_TYPES


def test_a_transition_without_its_line_still_gets_an_event_typed_from_it() -> None:
    assert derived_type("payment", "SETTLED") == "payment.settled"
    assert derived_type("dispute", "OPENED") == "dispute.opened"


def test_a_snapshot_keeps_integers_and_fractions_exact() -> None:
    from decimal import Decimal

    image = {
        "payment_id": "pay_1",
        "sequence": Decimal(2),
        "at": "2026-12-03T04:05:06.789Z",
        "to_status": "VALIDATED",
        "merchant_id": "m",
        "snapshot": {"version": Decimal(2), "rate": Decimal("0.5"), "tags": [Decimal(1)]},
    }
    event = Event.from_audit(image, timedelta(days=1))
    assert event.data == {"object": {"version": 2, "rate": "0.5", "tags": [1], "object": "payment"}}
    assert event.expires_at == int(datetime(2026, 12, 4, 4, 5, 6, 789000, tzinfo=UTC).timestamp())
