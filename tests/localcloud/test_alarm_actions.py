"""SetAlarmState runs the alarm's SNS action (localcloud/patches/cloudwatch_alarm_actions.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.localcloud.conftest import wait_for

ACCOUNT = "123456789012"


def key_policy(cloudwatch_allowed: bool) -> str:
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
    ]
    if cloudwatch_allowed:
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def alarm_to_queue(aws: Callable[[str], Any], name: str, key_id: str | None) -> tuple[str, str]:
    """An alarm whose action is a topic (encrypted with ``key_id``) with a queue subscribed."""
    sns, sqs, cloudwatch = aws("sns"), aws("sqs"), aws("cloudwatch")
    attributes = {"KmsMasterKeyId": key_id} if key_id else {}
    topic = sns.create_topic(Name=f"alarms-{name}", Attributes=attributes)["TopicArn"]
    queue = sqs.create_queue(QueueName=f"alarm-inbox-{name}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    cloudwatch.put_metric_alarm(
        AlarmName=f"dlq-not-empty-{name}",
        AlarmDescription="one payment needs a human",
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "payments-dlq"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
        TreatMissingData="notBreaching",
    )
    return topic, queue


def received(aws: Callable[[str], Any], queue: str) -> list[dict[str, Any]]:
    messages = aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def test_alarm_state_change_notifies_the_topic_with_the_aws_message(aws: Callable[[str], Any], unique: str) -> None:
    key = aws("kms").create_key(Policy=key_policy(cloudwatch_allowed=True))["KeyMetadata"]["Arn"]
    topic, queue = alarm_to_queue(aws, unique, key)

    aws("cloudwatch").set_alarm_state(
        AlarmName=f"dlq-not-empty-{unique}", StateValue="ALARM", StateReason="demo: a payment in the DLQ"
    )

    (envelope,) = wait_for(lambda: received(aws, queue))
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == f'ALARM: "dlq-not-empty-{unique}" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert {name: message[name] for name in ("AlarmName", "NewStateValue", "OldStateValue", "NewStateReason")} == {
        "AlarmName": f"dlq-not-empty-{unique}",
        "NewStateValue": "ALARM",
        "OldStateValue": "OK",
        "NewStateReason": "demo: a payment in the DLQ",
    }
    assert message["AlarmDescription"] == "one payment needs a human"
    assert message["AWSAccountId"] == ACCOUNT
    assert message["Trigger"]["Dimensions"] == [{"value": "payments-dlq", "name": "QueueName"}]
    assert message["Trigger"]["Threshold"] == 0.0
    # No change of state, no action.
    aws("cloudwatch").set_alarm_state(AlarmName=f"dlq-not-empty-{unique}", StateValue="ALARM", StateReason="again")
    assert received(aws, queue) == []


def test_a_topic_key_cloudwatch_may_not_use_gets_nothing(aws: Callable[[str], Any], unique: str) -> None:
    key = aws("kms").create_key(Policy=key_policy(cloudwatch_allowed=False))["KeyMetadata"]["Arn"]
    _, queue = alarm_to_queue(aws, unique, key)

    aws("cloudwatch").set_alarm_state(AlarmName=f"dlq-not-empty-{unique}", StateValue="ALARM", StateReason="test")

    assert received(aws, queue) == []
    alarm = aws("cloudwatch").describe_alarms(AlarmNames=[f"dlq-not-empty-{unique}"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
