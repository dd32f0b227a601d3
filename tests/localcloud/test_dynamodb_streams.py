"""DynamoDB stream → Lambda: polled in order, retried on error, filtered, never inside the write."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.localcloud.conftest import wait_for

# Records what it saw into TARGET (a DynamoDB call from inside the stream consumer); fails the
# first time it sees a record whose key starts with "flaky" (module state: warm environment).
CONSUMER = """
import json, os, time, boto3
SEEN_FLAKY = set()

def handler(event, context):
    dynamodb = boto3.client("dynamodb")
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        if key.startswith("flaky") and key not in SEEN_FLAKY:
            SEEN_FLAKY.add(key)
            raise RuntimeError(f"transient failure on {key}")
        dynamodb.update_item(
            TableName=os.environ["TARGET"], Key={"pk": {"S": "log"}},
            UpdateExpression="SET events = list_append(if_not_exists(events, :empty), :one)",
            ExpressionAttributeValues={":empty": {"L": []}, ":one": {"L": [{"S": record["eventName"] + ":" + key}]}},
        )
    time.sleep(float(os.environ.get("SLOW", "0")))
    return {}
"""


def _stream_table(aws: Callable[[str], Any], name: str) -> str:
    response = aws("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return str(response["TableDescription"]["LatestStreamArn"])


def _log(aws: Callable[[str], Any], table: str) -> list[str]:
    found = aws("dynamodb").get_item(TableName=table, Key={"pk": {"S": "log"}}, ConsistentRead=True)
    return [entry["S"] for entry in found.get("Item", {}).get("events", {}).get("L", [])]


def test_records_arrive_in_order_and_a_failed_batch_is_retried_not_skipped(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, unique: str
) -> None:
    stream_arn = _stream_table(aws, f"source-{unique}")
    arn = create_function({"handler.py": CONSUMER}, environment={"TARGET": table, "SLOW": "1"})
    for key in ("a", "flaky-b", "c", "d"):
        aws("dynamodb").put_item(TableName=f"source-{unique}", Item={"pk": {"S": key}})
    aws("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=arn, StartingPosition="TRIM_HORIZON", BatchSize=2
    )
    wait_for(lambda: _log(aws, table), timeout=30)  # the consumer is busy now (1 s a batch)
    started = time.monotonic()
    aws("dynamodb").put_item(TableName=f"source-{unique}", Item={"pk": {"S": "e"}})
    write_seconds = time.monotonic() - started

    log = wait_for(lambda: len(_log(aws, table)) >= 6 and _log(aws, table), timeout=30)

    assert write_seconds < 0.5  # the writer never waits for the consumer
    # Batch [a, flaky-b] failed once after writing "a", then was retried from its start.
    assert log == ["INSERT:a", "INSERT:a", "INSERT:flaky-b", "INSERT:c", "INSERT:d", "INSERT:e"]


def test_filter_criteria_deliver_only_matching_records(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, unique: str
) -> None:
    stream_arn = _stream_table(aws, f"filtered-{unique}")
    arn = create_function({"handler.py": CONSUMER}, environment={"TARGET": table})
    aws("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=arn,
        StartingPosition="LATEST",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]},
    )
    source = f"filtered-{unique}"
    aws("dynamodb").put_item(TableName=source, Item={"pk": {"S": "x"}})
    aws("dynamodb").put_item(TableName=source, Item={"pk": {"S": "x"}, "v": {"S": "changed"}})
    aws("dynamodb").put_item(TableName=source, Item={"pk": {"S": "y"}})

    log = wait_for(lambda: len(_log(aws, table)) >= 2 and _log(aws, table), timeout=30)
    time.sleep(1)  # nothing else may follow

    assert _log(aws, table) == log == ["INSERT:x", "INSERT:y"]
