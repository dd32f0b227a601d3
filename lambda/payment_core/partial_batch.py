"""Partial batch responses: the records of an SQS or DynamoDB stream batch that failed, and only those.

Every event source mapping of the stack sets ``ReportBatchItemFailures``. A function answers
``{"batchItemFailures": [{"itemIdentifier": ...}]}``: for SQS each failed message's id (the
others are deleted; a failed one comes back after its visibility timeout, and to the DLQ after
``maxReceiveCount``); for a DynamoDB stream each failed record's sequence number (the mapping
retries the batch from the lowest one named, so nothing after a failure is lost). An empty list
is a batch that fully succeeded. A record that cannot be read, or whose handler raises, is a
failure; nothing else is, and a whole failed batch is still a partial response (every record
named), never an exception that would retry the records that succeeded.
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html)

Why not Powertools' ``BatchProcessor``, which answers the same: its package imports asyncio
(for its async processor) and, through the data classes' package, every event class Powertools
has (Kafka, Kinesis, AppSync, ...): ~30 ms of each consumer's cold start, measured on python3.12
with the shipped bytecode (``make bench``, cold start; docs/lambda-runtime.md). What a handler
reads of a record is typed here instead (``QueueMessage``, ``StreamRecord``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from boto3.dynamodb.types import TypeDeserializer

Record = TypeVar("Record")
BatchResponse = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class QueueMessage:
    """One SQS message of an event source mapping's batch."""

    message_id: str
    body: str
    receipt_handle: str
    receive_count: int  # ApproximateReceiveCount: 1 on the first delivery

    @classmethod
    def read(cls, record: Mapping[str, Any]) -> QueueMessage:
        return cls(
            message_id=record["messageId"],
            body=record["body"],
            receipt_handle=record["receiptHandle"],
            receive_count=int(record["attributes"]["ApproximateReceiveCount"]),
        )


class _StreamImageDeserializer(TypeDeserializer):
    """boto3's, for the JSON of a stream event, where a binary value is base64 text (boto3's own
    expects the bytes its client has already decoded)."""

    def _deserialize_b(self, value: str) -> bytes:
        return base64.b64decode(value)

    def _deserialize_bs(self, value: list[str]) -> set[bytes]:
        return {base64.b64decode(each) for each in value}


_DESERIALIZER = _StreamImageDeserializer()


def _python(image: Mapping[str, Any] | None) -> dict[str, Any]:
    return {name: _DESERIALIZER.deserialize(value) for name, value in (image or {}).items()}


@dataclass(frozen=True)
class StreamRecord:
    """One DynamoDB stream record, its attribute values as Python values (numbers as ``Decimal``,
    binary as ``bytes``)."""

    sequence_number: str
    event_name: str  # INSERT, MODIFY or REMOVE
    keys: Mapping[str, Any]
    new_image: Mapping[str, Any]  # empty for a REMOVE, or a stream view without new images

    @classmethod
    def read(cls, record: Mapping[str, Any]) -> StreamRecord:
        return cls(
            sequence_number=record["dynamodb"]["SequenceNumber"],
            event_name=record["eventName"],
            keys=_python(record["dynamodb"].get("Keys")),
            new_image=_python(record["dynamodb"].get("NewImage")),
        )


@dataclass(frozen=True)
class RecordKind(Generic[Record]):
    """How a mapping's records are named in ``batchItemFailures`` and read for their handler."""

    item_identifier: Callable[[Mapping[str, Any]], str]
    read: Callable[[Mapping[str, Any]], Record]


QUEUE_MESSAGES: RecordKind[QueueMessage] = RecordKind(lambda record: record["messageId"], QueueMessage.read)
STREAM_RECORDS: RecordKind[StreamRecord] = RecordKind(
    lambda record: record["dynamodb"]["SequenceNumber"], StreamRecord.read
)


def report_failures(
    event: Mapping[str, Any], kind: RecordKind[Record], handle: Callable[[Record], object]
) -> BatchResponse:
    """Reads every record of ``event`` and hands it to ``handle``, in order; the answer names each
    record that could not be read or that ``handle`` raised for, and only those."""
    failed = []
    for record in event["Records"]:
        try:
            handle(kind.read(record))
        except Exception:  # a failed record is retried by the mapping: reported, not raised
            failed.append({"itemIdentifier": kind.item_identifier(record)})
    return {"batchItemFailures": failed}
