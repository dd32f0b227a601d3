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


# Fails every batch holding a record whose key starts with "poison" (logging "failed:<keys>"
# into TARGET first); logs the keys of the others.
POISONED_CONSUMER = """
import os, boto3

def log(entry):
    boto3.client("dynamodb").update_item(
        TableName=os.environ["TARGET"], Key={"pk": {"S": "log"}},
        UpdateExpression="SET events = list_append(if_not_exists(events, :empty), :one)",
        ExpressionAttributeValues={":empty": {"L": []}, ":one": {"L": [{"S": entry}]}},
    )

def handler(event, context):
    keys = [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
    if any(key.startswith("poison") for key in keys):
        log("failed:" + ",".join(keys))
        raise RuntimeError("cannot start " + ",".join(keys))
    for key in keys:
        log(key)
    return {}
"""


def _given_up(aws: Callable[[str], Any], source: str, table: str, poison: str) -> list[str]:
    """Wait for the two attempts MaximumRetryAttempts=1 allows on the poisoned batch, then for a
    later record to get through (the shard is blocked until the batch is given up): the log."""
    failed = f"failed:{poison}"
    wait_for(lambda: _log(aws, table).count(failed) == 2, timeout=30)
    aws("dynamodb").put_item(TableName=source, Item={"pk": {"S": "after"}})
    return list(wait_for(lambda: "after" in _log(aws, table) and _log(aws, table), timeout=30))


def _give_up_setup(aws: Callable[[str], Any], unique: str, table: str, grants: list[str]) -> tuple[str, str, str]:
    """A stream, a bucket, and the poisoned consumer mapped with the bucket as its on-failure
    destination, running as a role granted ``grants`` on the bucket; (stream table, bucket, mapping uuid)."""
    from tests.localcloud.conftest import LAMBDA_TRUST, create_python_function, make_zip

    source, bucket = f"giveup-{unique}", f"give-ups-{unique}"
    stream_arn = _stream_table(aws, source)
    aws("s3").create_bucket(Bucket=bucket)
    iam = aws("iam")
    role = iam.create_role(RoleName=f"starter-{unique}", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]
    resources = {"s3:PutObject": f"arn:aws:s3:::{bucket}/aws/lambda/*", "s3:ListBucket": f"arn:aws:s3:::{bucket}"}
    statements = [{"Effect": "Allow", "Action": action, "Resource": resources[action]} for action in grants]
    statements.append({"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": "*"})
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="starter",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    function_arn = create_python_function(
        aws("lambda"),
        f"starter-{unique}",
        role["Arn"],
        make_zip({"handler.py": POISONED_CONSUMER}),
        environment={"TARGET": table},
    )
    mapping = aws("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function_arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}},
    )
    return source, bucket, str(mapping["UUID"])


def test_a_batch_given_up_lands_in_the_s3_destination_whole(aws: Callable[[str], Any], table: str, unique: str) -> None:
    source, bucket, mapping_uuid = _give_up_setup(aws, unique, table, ["s3:PutObject", "s3:ListBucket"])
    aws("dynamodb").put_item(TableName=source, Item={"pk": {"S": "poison-pay-1"}, "amount": {"S": "12.50"}})

    log = _given_up(aws, source, table, "poison-pay-1")

    assert log == ["failed:poison-pay-1", "failed:poison-pay-1", "after"]
    (listed,) = aws("s3").list_objects_v2(Bucket=bucket)["Contents"]
    record = json.loads(aws("s3").get_object(Bucket=bucket, Key=listed["Key"])["Body"].read())

    # Named as Lambda names it: aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>
    parts = listed["Key"].split("/")
    assert parts[:3] == ["aws", "lambda", mapping_uuid] and parts[3].startswith("shardId-") and len(parts) == 8
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    # The whole record, not only the sequence range: the payment's key and item are recoverable
    # after the stream has trimmed it.
    (given_up,) = record["payload"]["Records"]
    assert given_up["eventName"] == "INSERT"
    assert given_up["dynamodb"]["Keys"] == {"pk": {"S": "poison-pay-1"}}
    assert given_up["dynamodb"]["NewImage"]["amount"] == {"S": "12.50"}
    assert given_up["dynamodb"]["SequenceNumber"] == record["DDBStreamBatchInfo"]["startSequenceNumber"]


def test_a_give_up_the_role_may_not_write_is_lost_as_on_aws(aws: Callable[[str], Any], table: str, unique: str) -> None:
    # Lambda writes the record as the function's role: without s3:PutObject the delivery fails
    # (DestinationDeliveryFailures) and the batch is gone all the same.
    source, bucket, _ = _give_up_setup(aws, unique, table, ["s3:ListBucket"])
    aws("dynamodb").put_item(TableName=source, Item={"pk": {"S": "poison-pay-2"}})

    assert _given_up(aws, source, table, "poison-pay-2")[-1] == "after"
    assert aws("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# Logs the nested binary of each record's new image as it arrived (a string: base64, as on AWS).
BINARY_CONSUMER = """
import os, boto3

def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        nested = image["secrets"]["L"][0]["M"]["ciphertext"]["B"]
        boto3.client("dynamodb").update_item(
            TableName=os.environ["TARGET"], Key={"pk": {"S": "log"}},
            UpdateExpression="SET events = list_append(if_not_exists(events, :empty), :one)",
            ExpressionAttributeValues={":empty": {"L": []}, ":one": {"L": [{"S": image["top"]["B"] + "|" + nested}]}},
        )
    return {}
"""


def test_binaries_reach_the_consumer_base64_encoded_nested_ones_too(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, unique: str
) -> None:
    # AWS sends every B attribute of a stream record base64-encoded, at any depth (DynamoDB
    # Streams API reference, AttributeValue B); moto's record encodes only top-level ones, and a
    # nested one (a webhook endpoint's sealed secrets) broke the invoke's JSON (README, streams).
    stream_arn = _stream_table(aws, f"binary-{unique}")
    arn = create_function({"handler.py": BINARY_CONSUMER}, environment={"TARGET": table})
    aws("lambda").create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=arn, StartingPosition="LATEST")
    item = {
        "pk": {"S": "sealed"},
        "top": {"B": b"\x00top"},
        "secrets": {"L": [{"M": {"ciphertext": {"B": b"\x01\xffsealed"}}}]},
    }
    aws("dynamodb").put_item(TableName=f"binary-{unique}", Item=item)
    assert wait_for(lambda: _log(aws, table), timeout=30) == ["AHRvcA==|Af9zZWFsZWQ="]
