"""SQS event source mappings that behave like the AWS Lambda poller.

What moto 5.2.5 does natively (``moto/sqs/models.py`` ``Queue.add_message`` and
``moto/awslambda/models.py`` ``send_sqs_batch``/``_send_sqs_message``):

* it invokes the function *inside* the SendMessage request, synchronously, so the sender
  waits for the consumer;
* one invocation per message (never a batch), with fixed fake attributes
  (ApproximateReceiveCount always "1", a constant SentTimestamp, no messageAttributes);
* it ignores ``batchItemFailures`` (a successful invocation deletes every message) and on a
  function error makes the messages visible again but never re-delivers them until another
  message happens to be sent, so redelivery/DLQ behaviour depends on unrelated traffic;
* ``DeleteEventSourceMapping`` leaves the mapping attached to the queue (it keeps firing).

Replacement: mappings are detached from moto's queue hook and a background poller thread
in the server does what the Lambda service does: receive up to ``BatchSize`` visible
messages with the queue's visibility timeout, invoke the function once per batch with the
AWS event shape, then

* success → delete the batch, except the ``batchItemFailures`` when the mapping has
  ``FunctionResponseTypes=["ReportBatchItemFailures"]`` (an unknown/empty identifier fails
  the whole batch, as on AWS);
* function error → delete nothing; messages reappear after the visibility timeout, are
  received again (ApproximateReceiveCount grows) and moto's receive moves them to the DLQ
  once the count reaches the redrive policy's ``maxReceiveCount``;
* throttled (the function is at its reserved concurrency, see ``lambda_runtime``) → the same
  as a function error: the batch was received, so its receive count grew, and it comes back
  after the visibility timeout. That is why AWS asks for ``maxReceiveCount`` of at least 5 on
  a queue whose consumer can be throttled ("Configuring a queue to use with Lambda": "set the
  maxReceiveCount on the source queue's redrive policy to at least 5"); the poller backs off
  that mapping for ``THROTTLE_BACKOFF_SECONDS``.

Concurrency: a mapping runs up to ``ScalingConfig.MaximumConcurrency`` batches at once, or
without it up to ``DEFAULT_MAXIMUM_CONCURRENCY`` (AWS: "up to 1,250" concurrent invocations for
a standard queue). Each delivery that finds messages wakes the poller to start one more, so
the mapping scales up while the queue has messages, as the Lambda pollers do.
"""

from __future__ import annotations

import json
from typing import Any

from localcloud.patches.event_source_poller import EventSourcePoller, reported_failures

POLL_INTERVAL_SECONDS = 0.5
MAX_BATCH = 10
DEFAULT_MAXIMUM_CONCURRENCY = 1250
THROTTLE_BACKOFF_SECONDS = 1.0


def _is_sqs_arn(arn: str) -> bool:
    return arn.split(":")[2:3] == ["sqs"]


def _queue_for(esm: Any) -> tuple[Any, Any] | None:
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = esm.event_source_arn.split(":", 5)
    backend = sqs_backends[account][region]
    queue = backend.queues.get(name)
    return (backend, queue) if queue is not None else None


def _message_attributes(message: Any) -> dict[str, Any]:
    converted = {}
    for name, value in (message.message_attributes or {}).items():
        entry: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        if value.get("StringValue") is not None:
            entry["stringValue"] = value["StringValue"]
        if value.get("BinaryValue") is not None:
            entry["binaryValue"] = value["BinaryValue"]
        converted[name] = entry
    return converted


def build_event(messages: list[Any], queue_arn: str, region: str) -> dict[str, Any]:
    records = []
    for message in messages:
        attributes = {
            "ApproximateReceiveCount": str(message.approximate_receive_count),
            "SentTimestamp": str(message.sent_timestamp),
            "SenderId": message.sender_id,
            "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
        }
        if message.group_id:
            attributes["MessageGroupId"] = message.group_id
        if message.deduplication_id:
            attributes["MessageDeduplicationId"] = message.deduplication_id
        if getattr(message, "sequence_number", None):
            attributes["SequenceNumber"] = message.sequence_number
        records.append(
            {
                "messageId": message.id,
                "receiptHandle": message.receipt_handle,
                "body": message.body,
                "attributes": attributes,
                "messageAttributes": _message_attributes(message),
                "md5OfBody": message.body_md5,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def maximum_concurrency(esm: Any) -> int:
    scaling = getattr(esm, "scaling_config", None) or {}
    return int(scaling.get("MaximumConcurrency") or DEFAULT_MAXIMUM_CONCURRENCY)


def _deliver(lambda_backend: Any, esm: Any) -> None:
    from localcloud.patches.lambda_runtime import FunctionThrottled, invoke_and_record

    found = _queue_for(esm)
    if found is None:
        return
    sqs_backend, queue = found
    messages = sqs_backend.receive_message(
        queue.name,
        min(int(esm.batch_size or MAX_BATCH), MAX_BATCH),
        0,
        queue.visibility_timeout,
        message_attribute_names=["All"],
    )
    if not messages:
        return
    POLLER.wake()  # there may be more: let the poller start another batch meanwhile
    fn = lambda_backend.get_function(esm.function_arn)
    event = build_event(messages, queue.queue_arn, queue.region)
    try:
        result = invoke_and_record(fn, json.dumps(event))
    except FunctionThrottled:
        POLLER.back_off(esm, THROTTLE_BACKOFF_SECONDS)
        return  # the batch stays; visibility timeout → redelivery (receive count grew)
    if result.function_error:
        return  # whole batch stays; visibility timeout → redelivery → DLQ
    keep: set[str] = set()  # the batch item failures stay on the queue
    if "ReportBatchItemFailures" in (esm.function_response_types or []):
        keep = reported_failures(result.payload, {m.id for m in messages})
    for message in messages:
        if message.id not in keep:
            sqs_backend.delete_message(queue.name, message.receipt_handle)
    POLLER.wake()  # there may be more messages waiting


POLLER = EventSourcePoller(
    label="SQS",
    interval=POLL_INTERVAL_SECONDS,
    is_source=_is_sqs_arn,
    deliver=_deliver,
    concurrency=maximum_concurrency,
)


def _detach(esm: Any) -> None:
    found = _queue_for(esm)
    if found is not None:
        found[1].lambda_event_source_mappings.pop(esm.function_arn, None)
    POLLER.wake()


def apply() -> None:
    from moto.sqs.models import Queue

    POLLER.take_over(_detach, Queue, "add_message")
