"""Partial batch responses: the records of an SQS or DynamoDB stream batch that failed, and only those.

Every event source mapping of the stack sets ``ReportBatchItemFailures``. A function answers
``{"batchItemFailures": [{"itemIdentifier": ...}]}``: for SQS each failed message's id (the
others are deleted; a failed one comes back after its visibility timeout, and to the DLQ after
``maxReceiveCount``); for a DynamoDB stream each failed record's sequence number (the mapping
retries the batch from the lowest one named, so nothing after a failure is lost). An empty list
is a batch that fully succeeded. A record whose handler raises is a failure; nothing else is, and
a whole failed batch is still a partial response (every record named), never an exception that
would retry the records that succeeded.
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html)

Why not Powertools' ``BatchProcessor``, which answers the same: its package imports asyncio
(for its async processor) and, through the data classes' package, every event class Powertools
has (Kafka, Kinesis, AppSync, ...): ~30 ms of each consumer's cold start, measured on python3.12
with the shipped bytecode (``make bench``, cold start; docs/lambda-runtime.md). What a handler
reads of a record is typed here instead (``QueueMessage``, ``StreamRecord``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from boto3.dynamodb.types import TypeDeserializer

_DESERIALIZER = TypeDeserializer()


class Reported(Protocol):
    @property
    def item_identifier(self) -> str: ...


Record = TypeVar("Record", bound=Reported)
BatchResponse = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class QueueMessage:
    """One SQS message of an event source mapping's batch."""

    message_id: str
    body: str
    receipt_handle: str
    receive_count: int  # ApproximateReceiveCount: 1 on the first delivery

    @property
    def item_identifier(self) -> str:
        return self.message_id


@dataclass(frozen=True)
class StreamRecord:
    """One DynamoDB stream record, its attribute values as Python values (numbers as ``Decimal``)."""

    sequence_number: str
    event_name: str  # INSERT, MODIFY or REMOVE
    keys: Mapping[str, Any]
    new_image: Mapping[str, Any]  # empty for a REMOVE, or a stream view without new images

    @property
    def item_identifier(self) -> str:
        return self.sequence_number


def _python(image: Mapping[str, Any] | None) -> dict[str, Any]:
    return {name: _DESERIALIZER.deserialize(value) for name, value in (image or {}).items()}


def queue_messages(event: Mapping[str, Any]) -> list[QueueMessage]:
    return [
        QueueMessage(
            message_id=record["messageId"],
            body=record["body"],
            receipt_handle=record["receiptHandle"],
            receive_count=int(record["attributes"]["ApproximateReceiveCount"]),
        )
        for record in event["Records"]
    ]


def stream_records(event: Mapping[str, Any]) -> list[StreamRecord]:
    return [
        StreamRecord(
            sequence_number=record["dynamodb"]["SequenceNumber"],
            event_name=record["eventName"],
            keys=_python(record["dynamodb"].get("Keys")),
            new_image=_python(record["dynamodb"].get("NewImage")),
        )
        for record in event["Records"]
    ]


def report_failures(records: Sequence[Record], handle: Callable[[Record], object]) -> BatchResponse:
    """Hands every record to ``handle`` in order; the answer names each one it raised for."""
    failed = []
    for record in records:
        try:
            handle(record)
        except Exception:  # a failed record is retried by the mapping: reported, not raised
            failed.append({"itemIdentifier": record.item_identifier})
    return {"batchItemFailures": failed}
