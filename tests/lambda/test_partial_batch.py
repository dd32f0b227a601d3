"""Partial batch responses (``payment_core.partial_batch``): exactly the records that raised, or
could not be read, are named, by message id for SQS and by sequence number for a DynamoDB stream."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from payment_core.partial_batch import (
    QUEUE_MESSAGES,
    STREAM_RECORDS,
    QueueMessage,
    StreamRecord,
    report_failures,
)

from testkit.events import sqs_event, sqs_event_of

THIRD_RECEIVE = {"ApproximateReceiveCount": "3"}


def stream_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [{"eventSource": "aws:dynamodb", "awsRegion": "us-east-1", **record} for record in records]}


def read_all(event: dict[str, Any], kind: Any) -> list[Any]:
    seen: list[Any] = []
    assert report_failures(event, kind, seen.append) == {"batchItemFailures": []}
    return seen


def test_sqs_messages_are_read_as_the_mapping_delivers_them() -> None:
    event = sqs_event(
        [
            {"MessageId": "m-1", "ReceiptHandle": "rh-1", "Body": "one"},
            {"MessageId": "m-2", "ReceiptHandle": "rh-2", "Body": "two", "Attributes": THIRD_RECEIVE},
        ]
    )
    assert read_all(event, QUEUE_MESSAGES) == [
        QueueMessage("m-1", "one", "rh-1", 1),
        QueueMessage("m-2", "two", "rh-2", 3),
    ]


def test_only_the_messages_that_raised_are_named() -> None:
    handled = []

    def handle(message: QueueMessage) -> None:
        handled.append(message.body)
        if message.body.startswith("bad"):
            raise ValueError(message.body)

    assert report_failures(sqs_event_of("ok", "bad-1", "ok", "bad-2"), QUEUE_MESSAGES, handle) == {
        "batchItemFailures": [{"itemIdentifier": "msg-1"}, {"itemIdentifier": "msg-3"}]
    }
    assert handled == ["ok", "bad-1", "ok", "bad-2"]  # a failure does not stop the batch
    assert report_failures(sqs_event_of("ok"), QUEUE_MESSAGES, handle) == {"batchItemFailures": []}


def test_a_whole_failed_batch_is_a_partial_response_not_an_exception() -> None:
    def fail(message: QueueMessage) -> None:
        raise RuntimeError("down")

    response = report_failures(sqs_event_of("a", "b"), QUEUE_MESSAGES, fail)
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0"}, {"itemIdentifier": "msg-1"}]}


def test_what_is_not_an_exception_is_not_caught() -> None:
    def interrupt(message: QueueMessage) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        report_failures(sqs_event_of("a"), QUEUE_MESSAGES, interrupt)


SEALED = b"\x00sealed\xff"


def test_stream_records_are_python_values_and_failures_their_sequence_numbers() -> None:
    event = stream_event(
        {
            "eventName": "INSERT",
            "dynamodb": {
                "SequenceNumber": "100",
                "Keys": {"payment_id": {"S": "pay_1"}},
                "NewImage": {
                    "payment_id": {"S": "pay_1"},
                    "amount_minor": {"N": "1050"},
                    "details": {"M": {"tags": {"L": [{"S": "a"}, {"BOOL": True}, {"NULL": True}]}}},
                    # binary values are base64 text in the event's JSON (a webhook endpoint's sealed secret)
                    "sealed": {"B": base64.b64encode(SEALED).decode()},
                    "versions": {"BS": [base64.b64encode(b"v1").decode()]},
                },
            },
        },
        {"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "200", "Keys": {"payment_id": {"S": "pay_2"}}}},
    )
    records = read_all(event, STREAM_RECORDS)
    assert records == [
        StreamRecord(
            "100",
            "INSERT",
            {"payment_id": "pay_1"},
            {
                "payment_id": "pay_1",
                "amount_minor": Decimal(1050),
                "details": {"tags": ["a", True, None]},
                "sealed": SEALED,
                "versions": {b"v1"},
            },
        ),
        StreamRecord("200", "REMOVE", {"payment_id": "pay_2"}, {}),
    ]

    def handle(record: StreamRecord) -> None:
        if not record.new_image:
            raise LookupError("no image")

    assert report_failures(event, STREAM_RECORDS, handle) == {"batchItemFailures": [{"itemIdentifier": "200"}]}


def test_a_record_that_cannot_be_read_fails_alone() -> None:
    """Its batch's other records are still handled, and the mapping retries only that one."""
    event = stream_event(
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": {"x": {"S": "ok"}}}},
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "2", "NewImage": {"x": {"Q": "no such type"}}}},
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "3", "NewImage": {"x": {"S": "ok too"}}}},
    )
    handled: list[str] = []
    response = report_failures(event, STREAM_RECORDS, lambda record: handled.append(record.sequence_number))
    assert response == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert handled == ["1", "3"]
