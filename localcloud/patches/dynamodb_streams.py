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
  on AWS) is used up; then the batch goes to the on-failure destination (``stream_on_failure``:
  its description to SQS, the whole record to S3) and the mapping moves on.
  ``ReportBatchItemFailures`` resumes from the first failed record.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from localcloud.patches.event_source_poller import EventSourcePoller, reported_failures
from localcloud.patches.stream_on_failure import send_to_on_failure_destination

POLL_INTERVAL_SECONDS = 0.2
DEFAULT_BATCH_SIZE = 100
RETRY_FIRST_DELAY_SECONDS = 0.5
RETRY_MAX_DELAY_SECONDS = 30.0

_positions: dict[str, int] = {}  # mapping uuid -> index of the next record in the shard
_failures: dict[str, int] = {}  # mapping uuid -> consecutive failed attempts of its current batch


def _is_stream_arn(arn: str) -> bool:
    return arn.split(":")[2:3] == ["dynamodb"] and "/stream/" in arn


def _table_for(esm: Any) -> Any | None:
    from moto.dynamodb.models import dynamodb_backends

    _, _, _, region, account, resource = esm.event_source_arn.split(":", 5)
    table_name = resource.split("/")[1]
    return dynamodb_backends[account][region].tables.get(table_name)


def _base64_binaries(value: Any) -> Any:
    """``value`` with every binary as AWS puts it in a stream record: a base64 string (``{"B": "..."}``,
    DynamoDB Streams API reference, AttributeValue ``B``: "Binary attributes are sent as
    base64-encoded"). moto's ``to_json`` encodes a top-level ``B`` only; one nested in a map or a
    list (an endpoint's sealed secrets) stays ``bytes``, which the invoke's JSON cannot carry."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _base64_binaries(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_base64_binaries(item) for item in value]
    return value


def record_as_delivered(record: Any, source_arn: str, region: str) -> dict[str, Any]:
    """moto's stream record as Lambda's event carries it (JSON: binaries base64, times epoch seconds);
    also what testkit hands the handlers in-process."""
    from moto.core.utils import unix_time

    document = record.to_json()
    dynamodb = _base64_binaries(dict(document["dynamodb"]))
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
    sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    failed = reported_failures(payload, sequence_numbers)
    return min(sequence_numbers.index(identifier) for identifier in failed) if failed else None


def _deliver(lambda_backend: Any, esm: Any) -> None:
    from localcloud.patches.dynamodb_isolation import DYNAMODB_LOCK
    from localcloud.patches.lambda_runtime import FunctionThrottled, invoke_and_record

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
    converted = [record_as_delivered(item, esm.event_source_arn, region) for item in batch]
    # Filtered-out records are consumed without an invocation, as Lambda drops them.
    kept = [(index, record) for index, record in enumerate(converted) if passes_filters(esm, record)]
    if not kept:
        _positions[esm.uuid] = position + len(batch)
        POLLER.wake()
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
        POLLER.wake()
        return
    _positions[esm.uuid] = position + kept[failed_at][0]
    attempts = _failures.get(esm.uuid, 0) + 1
    maximum = getattr(esm, "max_retry_attempts", None)
    if maximum is not None and int(maximum) >= 0 and attempts > int(maximum):
        send_to_on_failure_destination(
            esm, fn.role, records[failed_at:], "RetryAttemptsExhausted", table.stream_shard.id, attempts
        )
        _positions[esm.uuid] = position + len(batch)
        _failures.pop(esm.uuid, None)
        return
    _failures[esm.uuid] = attempts
    POLLER.back_off(esm, min(RETRY_MAX_DELAY_SECONDS, RETRY_FIRST_DELAY_SECONDS * 2 ** (attempts - 1)))


POLLER = EventSourcePoller(
    label="stream",
    interval=POLL_INTERVAL_SECONDS,
    is_source=_is_stream_arn,
    deliver=_deliver,
    concurrency=lambda esm: 1,  # one batch at a time per shard: records stay in order
)


def _detach(esm: Any) -> None:
    table = _table_for(esm)
    if table is not None:
        table.lambda_event_source_mappings.pop(esm.function_arn, None)
        items = table.stream_shard.items if table.stream_shard is not None else []
        _positions[esm.uuid] = 0 if esm.starting_position == "TRIM_HORIZON" else len(items)


def apply() -> None:
    from moto.dynamodb.models.table import StreamShard

    POLLER.take_over(_detach, StreamShard, "add")
