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
import sys
import threading
import time
from typing import Any

POLL_INTERVAL_SECONDS = 0.5
MAX_BATCH = 10
DEFAULT_MAXIMUM_CONCURRENCY = 1250
THROTTLE_BACKOFF_SECONDS = 1.0

_wake = threading.Event()
_stop = threading.Event()
_in_flight: dict[str, int] = {}
_backoff_until: dict[str, float] = {}
_in_flight_lock = threading.Lock()
_poller: threading.Thread | None = None


def _is_sqs_arn(arn: str) -> bool:
    return arn.split(":")[2:3] == ["sqs"]


def _queue_for(esm: Any) -> tuple[Any, Any] | None:
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = esm.event_source_arn.split(":", 5)
    backend = sqs_backends[account][region]
    queue = backend.queues.get(name)
    return (backend, queue) if queue is not None else None


def _sqs_mappings() -> list[tuple[Any, Any]]:
    from moto.awslambda.models import lambda_backends

    mappings = []
    for account_backends in list(lambda_backends.values()):
        for lambda_backend in list(account_backends.values()):
            for esm in list(lambda_backend._event_source_mappings.values()):
                if esm.enabled and _is_sqs_arn(esm.event_source_arn):
                    mappings.append((lambda_backend, esm))
    return mappings


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


def failed_message_ids(payload: bytes, batch_ids: set[str]) -> set[str]:
    """Message ids to keep on the queue after a successful ReportBatchItemFailures call."""
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        return set()  # AWS: an unparsable response counts as complete success
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = set()
    for failure in response["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            return set(batch_ids)  # AWS treats a malformed failure list as a failed batch
        failures.add(identifier)
    return failures


def maximum_concurrency(esm: Any) -> int:
    scaling = getattr(esm, "scaling_config", None) or {}
    return int(scaling.get("MaximumConcurrency") or DEFAULT_MAXIMUM_CONCURRENCY)


def _deliver(lambda_backend: Any, esm: Any) -> None:
    from localcloud.patches.lambda_runtime import FunctionThrottled, invoke_and_record

    try:
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
        _wake.set()  # there may be more: let the poller start another batch meanwhile
        fn = lambda_backend.get_function(esm.function_arn)
        event = build_event(messages, queue.queue_arn, queue.region)
        try:
            result = invoke_and_record(fn, json.dumps(event))
        except FunctionThrottled:
            with _in_flight_lock:
                _backoff_until[esm.uuid] = time.monotonic() + THROTTLE_BACKOFF_SECONDS
            return  # the batch stays; visibility timeout → redelivery (receive count grew)
        if result.function_error:
            return  # whole batch stays; visibility timeout → redelivery → DLQ
        keep: set[str] = set()
        if "ReportBatchItemFailures" in (esm.function_response_types or []):
            keep = failed_message_ids(result.payload, {m.id for m in messages})
        for message in messages:
            if message.id not in keep:
                sqs_backend.delete_message(queue.name, message.receipt_handle)
        _wake.set()  # there may be more messages waiting
    except Exception as exc:
        print(f"localcloud: SQS poller error for {esm.uuid}: {exc!r}", file=sys.stderr)
    finally:
        with _in_flight_lock:
            _in_flight[esm.uuid] -= 1


def _poll_forever() -> None:
    while not _stop.is_set():
        _wake.wait(POLL_INTERVAL_SECONDS)
        _wake.clear()
        try:
            mappings = _sqs_mappings()
        except Exception as exc:
            print(f"localcloud: SQS poller scan failed: {exc!r}", file=sys.stderr)
            continue
        now = time.monotonic()
        for lambda_backend, esm in mappings:
            with _in_flight_lock:
                running = _in_flight.get(esm.uuid, 0)
                if running >= maximum_concurrency(esm) or _backoff_until.get(esm.uuid, 0.0) > now:
                    continue
                _in_flight[esm.uuid] = running + 1
            threading.Thread(target=_deliver, args=(lambda_backend, esm), daemon=True, name="sqs-esm").start()


def apply() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.sqs.models import Queue

    original_create = LambdaBackend.create_event_source_mapping
    original_add = Queue.add_message

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        esm = original_create(self, spec)
        if _is_sqs_arn(esm.event_source_arn):
            found = _queue_for(esm)
            if found is not None:
                found[1].lambda_event_source_mappings.pop(esm.function_arn, None)
            _wake.set()
        return esm

    def add_message(self: Any, message: Any) -> None:
        original_add(self, message)
        _wake.set()

    LambdaBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]
    Queue.add_message = add_message  # type: ignore[method-assign]


def start_poller() -> None:
    global _poller
    if _poller is None:
        _poller = threading.Thread(target=_poll_forever, daemon=True, name="sqs-poller")
        _poller.start()


def stop_poller() -> None:
    _stop.set()
    _wake.set()
