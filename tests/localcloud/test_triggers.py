"""Triggers: S3 notifications and SQS event source mappings fire inside the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.localcloud.conftest import item, notify_of_uploads, wait_for

RECORD_S3_EVENT = """
import json, os, boto3

def handler(event, context):
    record = event["Records"][0]
    boto3.client("dynamodb").put_item(
        TableName=os.environ["TABLE_NAME"],
        Item={"pk": {"S": record["s3"]["object"]["key"]}, "event": {"S": json.dumps(event)}},
    )
"""

# Fails the message whose body says so; raises for a body "crash".
SQS_CONSUMER = """
import json, os, boto3

def handler(event, context):
    table = os.environ["TABLE_NAME"]
    failures = []
    for record in event["Records"]:
        if record["body"] == "crash":
            raise RuntimeError("consumer crashed")
        boto3.client("dynamodb").update_item(
            TableName=table,
            Key={"pk": {"S": record["body"]}},
            UpdateExpression="ADD deliveries :one SET batch_size = :size, receive_count = :count",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":size": {"N": str(len(event["Records"]))},
                ":count": {"N": record["attributes"]["ApproximateReceiveCount"]},
            },
        )
        if record["body"].startswith("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
"""


def test_s3_object_created_invokes_the_function_with_the_aws_record(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, unique: str
) -> None:
    arn = create_function({"handler.py": RECORD_S3_EVENT}, environment={"TABLE_NAME": table})
    bucket = f"batch-{unique}"
    s3 = aws("s3")
    s3.create_bucket(Bucket=bucket)
    notify_of_uploads(s3, bucket, arn)

    s3.put_object(Bucket=bucket, Key="reports/ignored.csv", Body=b"x")
    s3.put_object(Bucket=bucket, Key="incoming/day 1.csv", Body=b"a,b\n")

    stored = wait_for(lambda: item(aws, table, "incoming/day+1.csv"))
    record = json.loads(stored["event"]["S"])["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["size"] == 4
    assert record["s3"]["object"]["sequencer"]
    assert item(aws, table, "reports/ignored.csv") is None


@pytest.fixture
def queues(aws: Callable[[str], Any], unique: str) -> tuple[str, str]:
    sqs = aws("sqs")
    dlq_url = sqs.create_queue(QueueName=f"dlq-{unique}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    work_url = sqs.create_queue(
        QueueName=f"work-{unique}",
        Attributes={
            # Longer than a cold start on a busy machine: the poller runs batches concurrently (as
            # Lambda does), so a message whose invocation outlives the timeout is received again.
            "VisibilityTimeout": "5",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    return work_url, dlq_url


def queue_arn(aws: Callable[[str], Any], url: str) -> str:
    return str(aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


@pytest.fixture
def consumed_queues(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, queues: tuple[str, str]
) -> tuple[str, str]:
    """``queues`` with SQS_CONSUMER mapped to the work queue, batch item failures reported."""
    work_url, _ = queues
    arn = create_function({"handler.py": SQS_CONSUMER}, environment={"TABLE_NAME": table})
    aws("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn(aws, work_url),
        FunctionName=arn,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return queues


def dlq_bodies(aws: Callable[[str], Any], dlq_url: str) -> list[str]:
    messages = aws("sqs").receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_a_batch_is_delivered_once_and_deleted(
    aws: Callable[[str], Any], table: str, consumed_queues: tuple[str, str]
) -> None:
    work_url, dlq_url = consumed_queues

    aws("sqs").send_message_batch(
        QueueUrl=work_url, Entries=[{"Id": str(i), "MessageBody": f"ok-{i}"} for i in range(3)]
    )

    stored = [wait_for(lambda i=i: item(aws, table, f"ok-{i}")) for i in range(3)]
    assert all(s["receive_count"] == {"N": "1"} for s in stored)
    assert sum(int(s["batch_size"]["N"]) for s in stored) >= 3
    wait_for(lambda: queue_is_empty(aws, work_url))
    assert all(item(aws, table, f"ok-{i}")["deliveries"] == {"N": "1"} for i in range(3))
    assert dlq_bodies(aws, dlq_url) == []


def queue_is_empty(aws: Callable[[str], Any], url: str) -> bool:
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def test_batch_item_failures_are_redelivered_then_dead_lettered(
    aws: Callable[[str], Any], table: str, consumed_queues: tuple[str, str]
) -> None:
    work_url, dlq_url = consumed_queues

    aws("sqs").send_message_batch(
        QueueUrl=work_url,
        Entries=[{"Id": "good", "MessageBody": "ok-kept"}, {"Id": "bad", "MessageBody": "fail-me"}],
    )

    assert wait_for(lambda: dlq_bodies(aws, dlq_url), timeout=40) == ["fail-me"]
    assert item(aws, table, "fail-me")["deliveries"] == {"N": "2"}  # maxReceiveCount
    assert item(aws, table, "fail-me")["receive_count"] == {"N": "2"}
    assert item(aws, table, "ok-kept")["deliveries"] == {"N": "1"}


def test_a_crashing_function_leaves_the_whole_batch_for_redelivery(
    aws: Callable[[str], Any], table: str, consumed_queues: tuple[str, str]
) -> None:
    work_url, dlq_url = consumed_queues

    aws("sqs").send_message(QueueUrl=work_url, MessageBody="crash")

    assert wait_for(lambda: dlq_bodies(aws, dlq_url), timeout=40) == ["crash"]
    assert queue_is_empty(aws, work_url)


def test_a_deleted_mapping_stops_delivering(
    aws: Callable[[str], Any], table: str, consumed_queues: tuple[str, str]
) -> None:
    work_url, _ = consumed_queues
    lambda_client = aws("lambda")
    mappings = lambda_client.list_event_source_mappings(EventSourceArn=queue_arn(aws, work_url))
    for mapping in mappings["EventSourceMappings"]:
        lambda_client.delete_event_source_mapping(UUID=mapping["UUID"])

    aws("sqs").send_message(QueueUrl=work_url, MessageBody="ok-unconsumed")

    received = aws("sqs").receive_message(QueueUrl=work_url, WaitTimeSeconds=2)["Messages"]
    assert [m["Body"] for m in received] == ["ok-unconsumed"]
    assert item(aws, table, "ok-unconsumed") is None


def test_a_deny_non_tls_bucket_policy_lets_emulator_requests_through(aws: Callable[[str], Any], unique: str) -> None:
    s3 = aws("s3")
    bucket = f"secure-{unique}"
    s3.create_bucket(Bucket=bucket)
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{**statement, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
            }
        ),
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"

    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    with pytest.raises(s3.exceptions.ClientError, match="403"):
        s3.put_object(Bucket=bucket, Key="k2", Body=b"v")
