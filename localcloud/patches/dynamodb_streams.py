"""DynamoDB stream event source mappings that behave like the Lambda stream poller.

What moto 5.2.5 does natively (``moto/dynamodb/models/table.py`` ``StreamShard.add`` and
``moto/awslambda/models.py`` ``send_dynamodb_items``): it invokes every mapped function *inside*
the write request, synchronously (the writer waits for the consumer; under
``dynamodb_isolation``'s lock a consumer that calls DynamoDB would deadlock), it sends *every
record the shard ever held* on each write until an invocation returns something truthy, it
ignores function errors (no retry) and it ignores ``StartingPosition``, ``BatchSize``,
``MaximumRetryAttempts``, ``BisectBatchOnFunctionError`` and the on-failure destination.

Replacement, as the Lambda service reads a stream (Lambda developer guide, "Using Lambda with
DynamoDB", "Error handling"): mappings are detached from the table and a poller thread per
server reads each mapping's shard in order from its position (``TRIM_HORIZON``: the oldest
record; ``LATEST``: records written after the mapping was created), invokes the function with
up to ``BatchSize`` (default 100) records in the AWS event shape and then

* success → advances past the batch;
* function error or throttle → retries the *same* batch, blocking the shard (records keep
  their order), waiting ``RETRY_FIRST_DELAY_SECONDS`` doubling up to ``RETRY_MAX_DELAY_SECONDS``,
  until it succeeds or ``MaximumRetryAttempts`` (default -1: until the record expires, 24 h
  on AWS) is used up; then the batch's description goes to the on-failure destination (SQS)
  and the mapping moves on. ``ReportBatchItemFailures`` resumes from the first failed record.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime
from typing import Any

POLL_INTERVAL_SECONDS = 0.2
DEFAULT_BATCH_SIZE = 100
RETRY_FIRST_DELAY_SECONDS = 0.5
RETRY_MAX_DELAY_SECONDS = 30.0

_stop = threading.Event()
_wake = threading.Event()
_positions: dict[str, int] = {}  # mapping uuid -> index of the next record in the shard
_failures: dict[str, int] = {}  # mapping uuid -> consecutive failed attempts of its current batch
_retry_at: dict[str, float] = {}
_poller: threading.Thread | None = None


def _is_stream_arn(arn: str) -> bool:
    return arn.split(":")[2:3] == ["dynamodb"] and "/stream/" in arn


def _table_for(esm: Any) -> Any | None:
    from moto.dynamodb.models import dynamodb_backends

    _, _, _, region, account, resource = esm.event_source_arn.split(":", 5)
    table_name = resource.split("/")[1]
    return dynamodb_backends[account][region].tables.get(table_name)


def _stream_mappings() -> list[tuple[Any, Any]]:
    from moto.awslambda.models import lambda_backends

    found = []
    for account_backends in list(lambda_backends.values()):
        for lambda_backend in list(account_backends.values()):
            for esm in list(lambda_backend._event_source_mappings.values()):
                if esm.enabled and _is_stream_arn(esm.event_source_arn):
                    found.append((lambda_backend, esm))
    return found


def _record_json(record: Any, source_arn: str, region: str) -> dict[str, Any]:
    from moto.core.utils import unix_time

    document = record.to_json()
    dynamodb = dict(document["dynamodb"])
    if isinstance(dynamodb.get("ApproximateCreationDateTime"), datetime):
        dynamodb["ApproximateCreationDateTime"] = unix_time(dynamodb["ApproximateCreationDateTime"])
    return {
        "eventID": document["eventID"],
        "eventName": document["eventName"],
        "eventVersion": document["eventVersion"],
        "eventSource": document["eventSource"],
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": source_arn,
    }


def _matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style pattern, the subset Lambda filters use here: nested keys, lists of exact values."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        for option in pattern:
            if isinstance(option, dict):
                raise ValueError(f"filter operator {option} is not emulated")
        return value in pattern
    return bool(pattern == value)


def passes_filters(esm: Any, record: dict[str, Any]) -> bool:
    """FilterCriteria: a record is delivered if any filter matches (no filters: every record)."""
    filters = (getattr(esm, "filter_criteria", None) or {}).get("Filters") or []
    return not filters or any(_matches(json.loads(f["Pattern"]), record) for f in filters)


def _first_failed_index(payload: bytes, records: list[dict[str, Any]]) -> int | None:
    """With ReportBatchItemFailures: index of the first reported record (None: all succeeded)."""
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        return None
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return None
    sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in sequence_numbers:
            return 0  # malformed: the whole batch failed, as AWS treats it
        indexes.append(sequence_numbers.index(identifier))
    return min(indexes)


def _send_to_on_failure_destination(esm: Any, records: list[dict[str, Any]], reason: str) -> None:
    destination = ((getattr(esm, "destination_config", None) or {}).get("OnFailure") or {}).get("Destination", "")
    if destination.split(":")[2:3] != ["sqs"]:
        print(f"localcloud: stream batch of {esm.uuid} dropped after retries ({reason})", file=sys.stderr)
        return
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, queue_name = destination.split(":", 5)
    body = {
        "requestContext": {"condition": reason, "functionArn": esm.function_arn},
        "DDBStreamBatchInfo": {
            "streamArn": esm.event_source_arn,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "batchSize": len(records),
        },
    }
    sqs_backends[account][region].send_message(queue_name, json.dumps(body))


def _deliver(lambda_backend: Any, esm: Any) -> None:
    from localcloud.patches.dynamodb_isolation import DYNAMODB_LOCK
    from localcloud.patches.lambda_runtime import FunctionThrottled, invoke_and_record

    if _retry_at.get(esm.uuid, 0.0) > time.monotonic():
        return
    with DYNAMODB_LOCK:  # a consistent view: no transaction half applied
        table = _table_for(esm)
        if table is None or table.stream_shard is None:
            return
        items = list(table.stream_shard.items)
    position = _positions.setdefault(esm.uuid, 0 if esm.starting_position == "TRIM_HORIZON" else len(items))
    batch = items[position : position + int(esm.batch_size or DEFAULT_BATCH_SIZE)]
    if not batch:
        return
    region = esm.event_source_arn.split(":")[3]
    converted = [_record_json(item, esm.event_source_arn, region) for item in batch]
    # Filtered-out records are consumed without an invocation, as Lambda drops them.
    kept = [(index, record) for index, record in enumerate(converted) if passes_filters(esm, record)]
    if not kept:
        _positions[esm.uuid] = position + len(batch)
        _wake.set()
        return
    records = [record for _, record in kept]
    fn = lambda_backend.get_function(esm.function_arn)
    try:
        result = invoke_and_record(fn, json.dumps({"Records": records}))
        failed_at = 0 if result.function_error else None
        if failed_at is None and "ReportBatchItemFailures" in (esm.function_response_types or []):
            failed_at = _first_failed_index(result.payload, records)
    except FunctionThrottled:
        failed_at = 0
    if failed_at is None:
        _positions[esm.uuid] = position + len(batch)
        _failures.pop(esm.uuid, None)
        _wake.set()
        return
    _positions[esm.uuid] = position + kept[failed_at][0]
    attempts = _failures.get(esm.uuid, 0) + 1
    maximum = getattr(esm, "max_retry_attempts", None)
    if maximum is not None and int(maximum) >= 0 and attempts > int(maximum):
        _send_to_on_failure_destination(esm, records[failed_at:], "RetryAttemptsExhausted")
        _positions[esm.uuid] = position + len(batch)
        _failures.pop(esm.uuid, None)
        return
    _failures[esm.uuid] = attempts
    delay = min(RETRY_MAX_DELAY_SECONDS, RETRY_FIRST_DELAY_SECONDS * 2 ** (attempts - 1))
    _retry_at[esm.uuid] = time.monotonic() + delay


def _poll_forever() -> None:
    in_flight: dict[str, threading.Thread] = {}
    while not _stop.is_set():
        _wake.wait(POLL_INTERVAL_SECONDS)
        _wake.clear()
        try:
            mappings = _stream_mappings()
        except Exception as exc:
            print(f"localcloud: stream poller scan failed: {exc!r}", file=sys.stderr)
            continue
        for lambda_backend, esm in mappings:
            running = in_flight.get(esm.uuid)
            if running is not None and running.is_alive():
                continue  # one batch at a time per shard: records stay in order

            def deliver(backend: Any = lambda_backend, mapping: Any = esm) -> None:
                try:
                    _deliver(backend, mapping)
                except Exception as exc:
                    print(f"localcloud: stream poller error for {mapping.uuid}: {exc!r}", file=sys.stderr)

            thread = threading.Thread(target=deliver, daemon=True, name="ddb-stream-esm")
            in_flight[esm.uuid] = thread
            thread.start()


def apply() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models.table import StreamShard

    original_create = LambdaBackend.create_event_source_mapping
    original_add = StreamShard.add

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        esm = original_create(self, spec)
        if _is_stream_arn(esm.event_source_arn):
            table = _table_for(esm)
            if table is not None:
                table.lambda_event_source_mappings.pop(esm.function_arn, None)
                items = table.stream_shard.items if table.stream_shard is not None else []
                _positions[esm.uuid] = 0 if esm.starting_position == "TRIM_HORIZON" else len(items)
        return esm

    def add(self: Any, old: Any, new: Any) -> None:
        original_add(self, old, new)
        _wake.set()

    LambdaBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]
    StreamShard.add = add  # type: ignore[method-assign]


def start_poller() -> None:
    global _poller
    if _poller is None:
        _poller = threading.Thread(target=_poll_forever, daemon=True, name="ddb-stream-poller")
        _poller.start()


def stop_poller() -> None:
    _stop.set()
    _wake.set()
